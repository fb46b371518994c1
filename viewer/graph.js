// kiln's graph viewer. The page holds one graph as JSON (#kiln-graph, written
// by tools/html_view.cpp): nodes with op, type, short attributes, inputs, a
// role (forward, gradient, update) and, for fused nodes, their members. Name
// scopes ("dense/...") start collapsed; only what is visible is laid out
// (dagre), so a graph of thousands of nodes opens as a handful of boxes.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("kiln-graph").textContent);
  const nodes = data.nodes;
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  // --- the scope tree: children in order of first appearance ---
  const scopes = new Map(); // path -> {path, name, parent, scopes: [], nodes: [], count, roles}
  const scopeOf = (path) => scopes.get(path);
  function addScope(path, parent, name) {
    const s = { path, name, parent, scopes: [], nodes: [], count: 0, roles: {}, depth: 0 };
    if (parent !== null) {
      scopes.get(parent).scopes.push(path);
      s.depth = scopes.get(parent).depth + 1;
    }
    scopes.set(path, s);
    return s;
  }
  addScope("", null, "");
  const consumers = nodes.map(() => []);
  nodes.forEach((n, id) => {
    n.id = id;
    const parts = n.name.split("/");
    let path = "";
    n.ancestors = [""];
    for (const part of parts.slice(0, -1)) {
      const child = path ? path + "/" + part : part;
      if (!scopes.has(child)) addScope(child, path, part);
      path = child;
      n.ancestors.push(path);
    }
    n.scope = path;
    n.leaf = parts[parts.length - 1];
    scopeOf(path).nodes.push(id);
    for (const p of n.ancestors) {
      const s = scopeOf(p);
      s.count++;
      s.roles[n.role] = (s.roles[n.role] || 0) + 1;
    }
    n.inputs.forEach((i) => consumers[i].push(id));
  });
  // A level of more than MAX_LEVEL nodes (a graph built without scopes) is
  // split into closed runs of consecutive nodes, "[1-150]", ..., so that no
  // one layout grows past it.
  const MAX_LEVEL = 150;
  for (const s of [...scopes.values()]) {
    if (s.nodes.length <= MAX_LEVEL) continue;
    const runs = [];
    for (let i = 0; i < s.nodes.length; i += MAX_LEVEL) runs.push(s.nodes.slice(i, i + MAX_LEVEL));
    s.nodes = [];
    runs.forEach((ids, k) => {
      const name = `[${k * MAX_LEVEL + 1}-${k * MAX_LEVEL + ids.length}]`;
      const run = addScope(s.path ? s.path + "/" + name : name, s.path, name);
      s.scopes.splice(k, 0, s.scopes.pop()); // runs before the real sub-scopes, in order
      run.nodes = ids;
      for (const id of ids) {
        nodes[id].ancestors.push(run.path);
        run.count++;
        run.roles[nodes[id].role] = (run.roles[nodes[id].role] || 0) + 1;
      }
    });
  }
  const majorityRole = (s) =>
    Object.entries(s.roles).sort((a, b) => b[1] - a[1])[0][0];

  // --- view state ---
  const expanded = new Set([""]); // scope paths; the root is always open
  const opened = new Set(); // fused node ids shown as their members
  const overlays = { memory: false, profile: false };
  let selected = -1;
  let layout = null; // the visible items and edges, placed (buildLayout)

  // The visible item that stands for node `id`: itself, or its outermost
  // collapsed scope.
  function itemOf(id) {
    for (const p of nodes[id].ancestors) if (!expanded.has(p)) return "s:" + p;
    return "n:" + id;
  }

  // --- overlays: what the memory plan and the profile say about a node ---
  const buffers = new Map(); // node id -> buffer
  if (data.memory)
    for (const b of data.memory.buffers) if (b.node >= 0) buffers.set(b.node, b);
  const kernelTime = (id) => {
    const k = data.profile && data.profile.kernels[nodes[id].name];
    return k ? k.total_us / Math.max(k.calls, 1) : 0;
  };
  const totalKernelUs = data.profile ? data.profile.mean_run_us : 0;
  function bytesText(b) {
    const units = ["B", "KiB", "MiB", "GiB"];
    let u = 0;
    for (; b >= 1024 && u + 1 < units.length; u++) b /= 1024;
    return (u ? b.toFixed(1) : b) + " " + units[u];
  }
  const usText = (us) => (us >= 1000 ? (us / 1000).toFixed(2) + " ms" : us.toFixed(1) + " µs");
  function overlayLines(ids) {
    const lines = [];
    if (overlays.memory) {
      const bs = ids.map((i) => buffers.get(i)).filter((b) => b && b.in_arena);
      if (ids.length === 1 && bs.length === 1) {
        const b = bs[0];
        lines.push(`${bytesText(b.bytes)} @ ${b.offset}, kernels ${b.first}-${b.last}`);
      } else if (bs.length) {
        lines.push(`${bs.length} buffers, ${bytesText(bs.reduce((a, b) => a + b.bytes, 0))}`);
      }
    }
    if (overlays.profile) {
      const us = ids.reduce((a, i) => a + kernelTime(i), 0);
      if (us > 0) {
        const share = totalKernelUs ? ` (${((100 * us) / totalKernelUs).toFixed(1)}%)` : "";
        lines.push(usText(us) + " per run" + share);
      }
    }
    return lines;
  }
  function nodesUnder(path) {
    const out = [];
    const walk = (p) => {
      const s = scopeOf(p);
      out.push(...s.nodes);
      s.scopes.forEach(walk);
    };
    walk(path);
    return out;
  }

  // --- labels and their sizes (estimated: layout runs before rendering) ---
  const CHAR = 6.4, LINE = 14, PAD = 8;
  function box(lines) {
    const width = Math.max(...lines.map((l) => l.length)) * CHAR + 2 * PAD;
    return { width: Math.max(width, 40), height: lines.length * LINE + PAD, lines };
  }
  function nodeLines(n) {
    const lines = [];
    if (n.leaf !== n.op) lines.push(n.leaf);
    lines.push(`${n.op} : ${n.type}`);
    if (n.body) lines.push(`${n.body.length} members (${n.fusion_kind || "fused"})`);
    return lines.concat(overlayLines([n.id]));
  }
  function scopeLines(s) {
    return [`▸ ${s.name}`, `${s.count} nodes`].concat(overlayLines(nodesUnder(s.path)));
  }

  // --- layout of the visible level ---
  // Each open scope (and open fusion) is laid out on its own, inside out: its
  // children, with the closed ones as boxes, then itself as one box of its
  // parent's level. Every dagre graph stays as small as one level, which
  // keeps thousands of nodes fast (one dagre graph of all of them takes
  // minutes, and its compound mode is slower still). Edges between two
  // levels are drawn straight from box to box.
  const HEADER = 20, INSET = 10;
  function buildLayout() {
    const items = new Map(); // key -> {kind, parent, width, height, x, y (centre, absolute)}
    const children = new Map([["", []]]);
    const add = (key, item, parent) => {
      item.parent = parent;
      items.set(key, item);
      children.get(parent).push(key);
      if (item.kind === "cluster") children.set(key, []);
    };
    const visit = (path, parent) => {
      const s = scopeOf(path);
      for (const id of s.nodes) {
        const n = nodes[id];
        if (n.body && opened.has(id)) {
          const c = "f:" + id;
          add(c, { kind: "cluster", fused: true, id, label: `▾ ${n.leaf} (${n.op})` }, parent);
          n.body.forEach((m, k) =>
            add(`m:${id}:${k}`, { kind: "member", id, member: k, ...box([m.name, `${m.op} : ${m.type}`]) }, c));
        } else {
          add("n:" + id, { kind: "node", id, ...box(nodeLines(n)) }, parent);
        }
      }
      for (const child of s.scopes) {
        const cs = scopeOf(child);
        if (expanded.has(child)) {
          add("c:" + child, { kind: "cluster", path: child, label: `▾ ${cs.name}` }, parent);
          visit(child, "c:" + child);
        } else {
          add("s:" + child, { kind: "scope", path: child, ...box(scopeLines(cs)) }, parent);
        }
      }
    };
    visit("", "");

    // Visible edges: an opened fusion's inputs go to the members that read
    // them, its value leaves from its last member.
    const edges = new Map(); // "from\tto" -> {from, to}
    const edge = (from, to) => {
      if (from !== to) edges.set(from + "\t" + to, { from, to });
    };
    const source = (u) => {
      const item = itemOf(u);
      return item === "n:" + u && opened.has(u) ? `m:${u}:${nodes[u].body.length - 1}` : item;
    };
    nodes.forEach((n, v) => {
      const target = itemOf(v);
      const open = target === "n:" + v && opened.has(v);
      n.inputs.forEach((u, k) => {
        if (!open) return edge(source(u), target);
        n.body.forEach((m, j) => m.inputs.includes(-(k + 1)) && edge(source(u), `m:${v}:${j}`));
      });
      if (open) n.body.forEach((m, j) => m.inputs.forEach((r) => r >= 0 && edge(`m:${v}:${r}`, `m:${v}:${j}`)));
    });
    // Each edge is laid out in the innermost cluster holding both ends,
    // between the children of it that hold them.
    const chain = (key) => {
      const c = [];
      for (let p = items.get(key).parent; p !== ""; p = items.get(p).parent) c.unshift(p);
      return c;
    };
    const levelEdges = new Map([...children.keys()].map((k) => [k, []]));
    for (const e of edges.values()) {
      const ca = chain(e.from), cb = chain(e.to);
      let i = 0;
      while (i < ca.length && i < cb.length && ca[i] === cb[i]) i++;
      const from = i < ca.length ? ca[i] : e.from, to = i < cb.length ? cb[i] : e.to;
      e.direct = from === e.from && to === e.to;
      e.level = i ? ca[i - 1] : "";
      if (from !== to) levelEdges.get(e.level).push([from, to, e]);
    }

    // Inside out: a cluster's size is its own layout's.
    const place = (key) => {
      for (const child of children.get(key)) if (items.get(child).kind === "cluster") place(child);
      const g = new dagre.graphlib.Graph();
      g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 28, marginx: key ? INSET : 20, marginy: key ? INSET : 20 });
      g.setDefaultEdgeLabel(() => ({}));
      for (const child of children.get(key)) {
        const it = items.get(child);
        g.setNode(child, { width: it.width, height: it.height });
      }
      for (const [from, to] of levelEdges.get(key)) g.setEdge(from, to);
      dagre.layout(g);
      for (const child of children.get(key)) {
        const it = items.get(child), at = g.node(child);
        it.rx = at.x;
        it.ry = at.y + (key ? HEADER : 0);
      }
      for (const [from, to, e] of levelEdges.get(key))
        if (e.direct) e.relative = g.edge(from, to).points;
      const it = key ? items.get(key) : null;
      const size = { width: g.graph().width, height: g.graph().height + (key ? HEADER : 0) };
      if (it) {
        it.width = Math.max(size.width, it.label.length * CHAR + 2 * PAD);
        it.height = size.height;
      }
      return size;
    };
    const size = place("");
    // Outside in: absolute centres.
    const locate = (key, left, top) => {
      for (const child of children.get(key)) {
        const it = items.get(child);
        it.x = left + it.rx;
        it.y = top + it.ry;
        if (it.kind === "cluster") locate(child, it.x - it.width / 2, it.y - it.height / 2);
      }
    };
    locate("", 0, 0);
    const origin = (level) => {
      if (!level) return { x: 0, y: 0 };
      const c = items.get(level);
      return { x: c.x - c.width / 2, y: c.y - c.height / 2 };
    };
    for (const e of edges.values()) {
      if (e.relative) {
        const o = origin(e.level);
        e.points = e.relative.map((p) => ({ x: o.x + p.x, y: o.y + p.y + (e.level ? HEADER : 0) }));
      } else {
        const a = items.get(e.from), b = items.get(e.to);
        e.points = [{ x: a.x, y: a.y + a.height / 2 }, { x: b.x, y: b.y - b.height / 2 }];
      }
    }
    return { items, edges: [...edges.values()], width: size.width, height: size.height };
  }

  // --- rendering ---
  const svg = $("graph");
  let viewport = null;
  const el = (tag, attrs, parent) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  };
  function drawBox(item, key, classes) {
    const gEl = el("g", { class: classes, "data-key": key,
                          transform: `translate(${item.x - item.width / 2},${item.y - item.height / 2})` },
                   viewport);
    el("rect", { width: item.width, height: item.height, rx: 5 }, gEl);
    item.lines.forEach((line, i) => {
      const t = el("text", { x: PAD, y: PAD / 2 + LINE * (i + 0.8),
                             class: i === 0 ? "name" : i >= 2 ? "overlay" : "" }, gEl);
      t.textContent = line;
    });
    return gEl;
  }
  function render() {
    layout = buildLayout();
    svg.textContent = "";
    el("defs", {}, svg).innerHTML =
      '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#888"/></marker>';
    viewport = el("g", { id: "viewport" }, svg);
    // Clusters outermost first (the map's order), so inner ones are drawn on top.
    for (const [k, c] of layout.items) {
      if (c.kind !== "cluster") continue;
      const gEl = el("g", { class: "cluster" + (c.fused ? " fused" : ""), "data-key": k }, viewport);
      el("rect", { x: c.x - c.width / 2, y: c.y - c.height / 2, width: c.width, height: c.height, rx: 6 }, gEl);
      const label = el("text", { x: c.x - c.width / 2 + 6, y: c.y - c.height / 2 + 14,
                                 class: "cluster-label", "data-key": k }, gEl);
      label.textContent = c.label;
      label.style.pointerEvents = "all";
      label.addEventListener("click", (ev) => {
        ev.stopPropagation();
        if (c.fused) opened.delete(c.id); else expanded.delete(c.path);
        render();
      });
    }
    for (const e of layout.edges) {
      const d = "M" + e.points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join("L");
      el("path", { d, class: "edge", "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to }, viewport);
    }
    let shown = 0;
    for (const [k, item] of layout.items) {
      if (item.kind === "cluster") continue;
      shown++;
      if (item.kind === "scope") {
        const s = scopeOf(item.path);
        const gEl = drawBox(item, k, `scope ${majorityRole(s)}`);
        roleBar(gEl, item, s);
        gEl.addEventListener("click", (ev) => {
          ev.stopPropagation();
          expanded.add(item.path);
          render();
        });
      } else if (item.kind === "node") {
        const n = nodes[item.id];
        const cls = ["node", n.role, n.source || "", n.body ? "fusion" : "",
                     consumers[n.id].length ? "" : "sink", item.id === selected ? "selected" : ""];
        const gEl = drawBox(item, k, cls.join(" "));
        gEl.setAttribute("data-node", n.name);
        heat(gEl, item, [n.id]);
        gEl.addEventListener("click", (ev) => {
          ev.stopPropagation();
          if (n.body) opened.add(n.id);
          select(n.id, true);
        });
      } else if (item.kind === "member") {
        const n = nodes[item.id];
        const gEl = drawBox(item, k, `node member ${n.role}`);
        gEl.setAttribute("data-node", n.name + "#" + n.body[item.member].name);
        gEl.addEventListener("click", (ev) => { ev.stopPropagation(); showMember(n, item.member); });
      }
    }
    $("status").textContent = `${nodes.length} nodes, ${shown} boxes shown, ${layout.edges.length} edges`;
    svg.setAttribute("data-boxes", shown);
    drawArena();
    if (!view) fit();
    else applyView();
  }
  // Under a closed scope's name: the shares of its nodes' roles.
  function roleBar(gEl, item, s) {
    let x = 1;
    for (const role of ["forward", "gradient", "update"]) {
      const w = ((s.roles[role] || 0) / s.count) * (item.width - 2);
      if (w > 0) el("rect", { class: `share ${role}-share`, x, y: 1, width: w, height: 4 }, gEl);
      x += w;
    }
  }
  // With the profile overlay: a bar under the box, as long as its share of the run.
  function heat(gEl, item, ids) {
    if (!overlays.profile || !totalKernelUs) return;
    const share = ids.reduce((a, i) => a + kernelTime(i), 0) / totalKernelUs;
    if (share > 0)
      el("rect", { class: "heat", x: 0, y: item.height - 3, height: 3,
                   width: Math.max(2, item.width * Math.min(share * 5, 1)) }, gEl);
  }

  // --- pan and zoom (the viewBox) ---
  let view = null; // {x, y, w, h}
  function applyView() {
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  }
  function fit() {
    const g = layout;
    const r = svg.getBoundingClientRect();
    const scale = Math.max(g.width / Math.max(r.width, 1), g.height / Math.max(r.height, 1), 1);
    view = { x: 0, y: 0, w: r.width * scale, h: r.height * scale };
    applyView();
  }
  function centerOn(key) {
    const item = layout.items.get(key);
    if (!item) return;
    view.x = item.x - view.w / 2;
    view.y = item.y - view.h / 2;
    applyView();
  }
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    const f = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
    const px = view.x + ((ev.clientX - r.left) / r.width) * view.w;
    const py = view.y + ((ev.clientY - r.top) / r.height) * view.h;
    view = { x: px - (px - view.x) * f, y: py - (py - view.y) * f, w: view.w * f, h: view.h * f };
    applyView();
  }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, view: { ...view } }; });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const r = svg.getBoundingClientRect();
    view.x = drag.view.x - ((ev.clientX - drag.x) / r.width) * view.w;
    view.y = drag.view.y - ((ev.clientY - drag.y) / r.height) * view.h;
    applyView();
  });

  // --- the detail panel ---
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const link = (id) => `<a data-id="${id}">${esc(nodes[id].name)}</a>`;
  const rows = (pairs) =>
    "<table>" + pairs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join("") + "</table>";
  function select(id, keepView) {
    selected = id;
    const n = nodes[id];
    const pairs = [["op", esc(n.op)], ["type", esc(n.type)], ["role", esc(n.role)]];
    if (n.source) pairs.push(["kind", esc(n.source)]);
    for (const [k, v] of Object.entries(n.attrs)) pairs.push([k, esc(v)]);
    pairs.push(["inputs", n.inputs.map(link).join("<br>") || "(none)"]);
    pairs.push(["consumers", consumers[id].map(link).join("<br>") || "(none: an output)"]);
    if (n.body) pairs.push(["members", n.body.map((m) => esc(`${m.name} = ${m.op} : ${m.type}`)).join("<br>")]);
    const b = buffers.get(id);
    if (b) pairs.push(["buffer", b.in_arena
      ? esc(`${bytesText(b.bytes)} at arena offset ${b.offset}, live over kernels ${b.first}-${b.last}` +
            (b.reuses >= 0 ? `, in place of ${nodes[data.memory.buffers[b.reuses].node]?.name}` : ""))
      : esc(`${bytesText(b.bytes)}, storage of its own`)]);
    const k = data.profile && data.profile.kernels[n.name];
    if (k) pairs.push(["time", esc(`${usText(k.total_us / Math.max(k.calls, 1))} per call, ${k.calls} calls traced`)]);
    $("details").innerHTML = `<h3>${esc(n.name)}</h3>` + rows(pairs);
    if (!keepView) {
      for (const p of n.ancestors) expanded.add(p);
    }
    render();
    if (!keepView) centerOn("n:" + id);
  }
  function showMember(n, k) {
    const m = n.body[k];
    const pairs = [["op", esc(m.op)], ["type", esc(m.type)], ["member of", link(n.id)]];
    for (const [key, v] of Object.entries(m.attrs)) pairs.push([key, esc(v)]);
    $("details").innerHTML = `<h3>${esc(m.name)}</h3>` + rows(pairs);
  }
  $("details").addEventListener("click", (ev) => {
    const id = ev.target.getAttribute && ev.target.getAttribute("data-id");
    if (id !== null && id !== undefined) select(Number(id), false);
  });

  // --- search ---
  const results = $("results");
  $("search").addEventListener("input", () => {
    const q = $("search").value.trim().toLowerCase();
    results.textContent = "";
    results.hidden = !q;
    if (!q) return;
    const hits = nodes.filter((n) => n.name.toLowerCase().includes(q));
    for (const n of hits.slice(0, 100)) {
      const li = document.createElement("li");
      li.innerHTML = `${esc(n.name)}<small>${esc(n.op)}</small>`;
      li.addEventListener("click", () => { results.hidden = true; select(n.id, false); });
      results.appendChild(li);
    }
    if (hits.length > 100) results.insertAdjacentHTML("beforeend", `<li><small>${hits.length - 100} more</small></li>`);
    if (!hits.length) results.innerHTML = "<li><small>no node matches</small></li>";
  });
  $("search").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && results.firstChild && results.firstChild.click) results.firstChild.click();
    if (ev.key === "Escape") results.hidden = true;
  });

  // --- the memory plan: buffers as rectangles, kernels across, arena offsets down ---
  function drawArena() {
    const panel = $("arena");
    panel.hidden = !overlays.memory;
    if (!overlays.memory) return;
    const m = data.memory;
    const W = 1000, H = 160;
    const kernels = Math.max(m.kernels.length, 1), arena = Math.max(m.arena_bytes, 1);
    const s = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" });
    panel.textContent = "";
    const caption = document.createElement("div");
    caption.className = "caption";
    caption.textContent = `arena ${bytesText(m.arena_bytes)} (batch ${m.batch}); buffers summed ` +
      `${bytesText(m.total_bytes)}; ${m.kernels.length} kernels across, offsets down; click a buffer for its node`;
    panel.append(caption, s);
    for (const b of m.buffers) {
      if (!b.in_arena || b.first > b.last) continue;
      const r = el("rect", { x: (b.first / kernels) * W, y: (b.offset / arena) * H,
                             width: Math.max(((b.last - b.first + 1) / kernels) * W, 1),
                             height: Math.max((b.bytes / arena) * H, 1),
                             fill: b.node === selected ? "#e01b24" : "#62a0ea", stroke: "#1c71d8",
                             "stroke-width": 0.5, class: "buffer" }, s);
      const t = el("title", {}, r);
      t.textContent = `${b.node >= 0 ? nodes[b.node].name : "scratch"}: ${bytesText(b.bytes)} at ${b.offset}, kernels ${b.first}-${b.last}`;
      if (b.node >= 0) r.addEventListener("click", () => select(b.node, false));
    }
  }

  // --- SVG export of the current view, styled like the page ---
  function exportSvg() {
    const g = layout;
    const copy = svg.cloneNode(true);
    copy.setAttribute("viewBox", `0 0 ${g.width} ${g.height}`);
    copy.setAttribute("width", g.width);
    copy.setAttribute("height", g.height);
    const style = document.createElementNS(SVG, "style");
    style.textContent = document.querySelector("style").textContent;
    copy.insertBefore(style, copy.firstChild);
    return new XMLSerializer().serializeToString(copy);
  }
  $("export-svg").addEventListener("click", () => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([exportSvg()], { type: "image/svg+xml" }));
    a.download = (data.title || "graph").replace(/[^\w.-]+/g, "_") + ".svg";
    a.click();
    URL.revokeObjectURL(a.href);
  });

  // --- the rest of the toolbar and the legend ---
  $("expand-all").addEventListener("click", () => { scopes.forEach((s, p) => expanded.add(p)); render(); fit(); });
  $("collapse-all").addEventListener("click", () => { expanded.clear(); expanded.add(""); opened.clear(); render(); fit(); });
  $("fit").addEventListener("click", fit);
  for (const [name, present] of [["memory", !!data.memory], ["profile", !!data.profile]]) {
    const box = $("overlay-" + name);
    box.disabled = !present;
    box.parentElement.title = present ? "" : `not in this page: kiln dump --format html --${name}${name === "profile" ? " TRACE.json" : ""}`;
    box.addEventListener("change", () => { overlays[name] = box.checked; render(); });
  }
  const counts = { forward: 0, gradient: 0, update: 0 };
  nodes.forEach((n) => counts[n.role]++);
  $("legend").innerHTML =
    [["forward", "forward"], ["gradient", "gradient"], ["update", "optimizer update"]]
      .map(([r, text]) => `<span><i class="${r}"></i>${text} (${counts[r]})</span>`).join("") +
    '<span><i style="border:2.5px solid #1a5fb4"></i>placeholder</span>' +
    '<span><i style="border:2.5px solid #9a6700"></i>variable</span>' +
    '<span><i style="border:1px dashed #555"></i>constant</span>' +
    '<span><i style="border:2px solid #7a3db8"></i>fused kernel (click: members)</span>' +
    '<span><i style="border:1px dashed #555;border-width:1.5px"></i>name scope (click: open)</span>';
  $("title").textContent = data.title;
  document.title = "kiln: " + data.title;

  // For tests and the console: the same actions as the clicks.
  window.kilnViewer = { exportSvg, select: (name) => select(nodes.findIndex((n) => n.name === name), false),
                        expanded: () => [...expanded], opened: () => [...opened] };
  render();
})();
