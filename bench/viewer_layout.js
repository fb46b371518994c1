// What laying out a whole graph in one dagre graph costs, against the
// viewer's level-by-level layout (docs/decisions.md, Pages for people): reads
// the graph JSON of a page written by `kiln dump --format html` and lays out
// every node in one dagre graph, printing the time; with --scopes, name
// scopes become nested clusters (dagre's compound mode).
//
//   node bench/viewer_layout.js PAGE.html [--scopes]   (ctest -R viewer_page
//                                                       writes build/viewer_test/*.html)
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const lib = path.join(__dirname, "../viewer/node_modules/@dagrejs/dagre/dist/dagre.min.js");
const context = { structuredClone };
vm.createContext(context);
vm.runInContext(fs.readFileSync(lib, "utf8") + ";this.dagre = dagre;", context);
const { dagre } = context;

const page = fs.readFileSync(process.argv[2], "utf8");
const json = page.split('<script id="kiln-graph" type="application/json">')[1].split("</script>")[0];
const nodes = JSON.parse(json).nodes;
const scopes = process.argv[3] === "--scopes";
const g = new dagre.graphlib.Graph({ compound: scopes });
g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 28 });
g.setDefaultEdgeLabel(() => ({}));
nodes.forEach((n, i) => {
  g.setNode(String(i), { width: 120, height: 30 });
  if (!scopes) return;
  const parts = n.name.split("/").slice(0, -1);
  let parent;
  parts.forEach((part, k) => {
    const cluster = "scope:" + parts.slice(0, k + 1).join("/");
    if (!g.hasNode(cluster)) g.setNode(cluster, {});
    if (parent) g.setParent(cluster, parent);
    parent = cluster;
  });
  if (parent) g.setParent(String(i), parent);
});
nodes.forEach((n, i) => n.inputs.forEach((u) => g.setEdge(String(u), String(i))));
const start = Date.now();
const what = `${nodes.length} nodes, ${g.edgeCount()} edges in one dagre graph${scopes ? ", scopes as clusters" : ""}`;
try {
  dagre.layout(g);
  console.log(`${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
} catch (e) {
  console.log(`${what}: failed after ${((Date.now() - start) / 1000).toFixed(1)} s: ${e.message}`);
}
