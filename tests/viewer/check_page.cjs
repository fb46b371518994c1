// Opens the pages viewer_test.sh wrote in headless Chromium (playwright-core
// driving Debian's chromium) and checks what a user would do with them.
//
//   node check_page.cjs CHROMIUM DIR
"use strict";
const path = require("path");
const fs = require("fs");
const { chromium } = require(path.join(process.env.VIEWER_MODULES, "playwright-core"));

const chromiumPath = process.argv[2];
const dir = path.resolve(process.argv[3]);
const failures = [];
let checks = 0;
function expect(what, ok, detail = "") {
  checks++;
  if (!ok) failures.push(`${what}${detail ? ": " + detail : ""}`);
}

// The page, its data, and every error it reported.
async function open(browser, name) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  const errors = [];
  page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && errors.push(`${name}: console: ${m.text()}`));
  await page.goto("file://" + path.join(dir, name));
  await page.waitForSelector("#graph g");
  const data = JSON.parse(await page.textContent("#kiln-graph"));
  return { page, errors, data };
}
const boxes = (page) => page.$$eval("#graph [data-key^='n:'], #graph [data-key^='s:'], #graph [data-key^='m:']", (e) => e.length);
const has = async (page, selector) => (await page.$(selector)) !== null;
const fill = (page, selector) =>
  page.$eval(selector, (e) => getComputedStyle(e.querySelector("rect")).fill);

// Pixels of a screenshot near each role's fill, counted in the page itself
// (a canvas decodes the PNG).
async function colourCounts(page) {
  const png = (await page.locator("#graph").screenshot()).toString("base64");
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = "data:image/png;base64," + b64;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    const want = { forward: [219, 233, 246], gradient: [251, 220, 194], update: [211, 236, 208] };
    const counts = { forward: 0, gradient: 0, update: 0, white: 0, total: px.length / 4 };
    for (let i = 0; i < px.length; i += 4) {
      for (const [role, [r, g, b]] of Object.entries(want))
        if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 6) counts[role]++;
      if (px[i] > 250 && px[i + 1] > 250 && px[i + 2] > 250) counts.white++;
    }
    return counts;
  }, png);
}

async function trainingGraph(browser) {
  const { page, errors, data } = await open(browser, "mlp.html");
  const n = data.nodes.length;
  const roles = (r) => data.nodes.filter((x) => x.role === r).length;
  expect("mlp: every role present", roles("forward") > 0 && roles("gradient") > 0 && roles("update") > 0,
         JSON.stringify({ forward: roles("forward"), gradient: roles("gradient"), update: roles("update") }));
  expect("mlp: the Adam slots are updates", data.nodes.find((x) => /^adam\/.*\/m$/.test(x.name))?.role === "update",
         data.nodes.filter((x) => x.name.startsWith("adam/")).slice(0, 3).map((x) => x.name + ":" + x.role).join(", "));
  expect("mlp: dense/matmul is forward", data.nodes.find((x) => x.name === "dense/matmul")?.role === "forward");
  expect("mlp: gradients/... are gradients", data.nodes.filter((x) => x.name.includes("gradients/")).every((x) => x.role === "gradient"));
  const text = await page.textContent("#kiln-graph");
  expect("mlp: constants print short", !/\d\.\d{12,}/.test(text), (text.match(/[^"]*\d\.\d{12,}[^"]*/) || [""])[0]);
  expect("mlp: 0.9 reads 0.9", text.includes("{0.9}"));

  const initial = await boxes(page);
  expect("mlp: scopes start collapsed", initial < n / 4, `${initial} boxes for ${n} nodes`);
  expect("mlp: scope dense drawn as one box", await has(page, "[data-key='s:dense']"));
  expect("mlp: dense/matmul hidden at first", !(await has(page, "[data-node='dense/matmul']")));

  await page.click("[data-key='s:dense']");
  expect("mlp: a click opens scope dense", await has(page, "[data-node='dense/matmul']"));
  expect("mlp: dense is a cluster now", await has(page, "[data-key='c:dense']"));
  expect("mlp: only the opened level laid out", !(await has(page, "[data-node='dense_1/matmul']")));
  expect("mlp: forward fill", (await fill(page, "[data-node='dense/matmul']")) === "rgb(219, 233, 246)");
  await page.click("text.cluster-label[data-key='c:dense']");
  expect("mlp: a click on its label closes it", !(await has(page, "[data-node='dense/matmul']")) &&
         (await has(page, "[data-key='s:dense']")));

  await page.fill("#search", "dense/matmul");
  const hits = await page.$$eval("#results li", (ls) => ls.map((l) => l.textContent));
  expect("mlp: search finds dense/matmul", hits.some((h) => h.startsWith("dense/matmul")), hits.join("|"));
  await page.click("#results li");
  expect("mlp: a search result reveals its node", await has(page, "[data-node='dense/matmul'].selected"));
  const details = await page.textContent("#details");
  expect("mlp: detail panel names the node", details.includes("dense/matmul") && details.includes("matmul"));
  expect("mlp: detail panel lists inputs and consumers", details.includes("inputs") && details.includes("dense/W") &&
         details.includes("consumers") && details.includes("dense/add"), details.slice(0, 300));
  await page.click("#details a[data-id]");
  expect("mlp: an input's link selects it", (await page.textContent("#details h3")) !== "dense/matmul");

  // Gradient and update colours, in a screenshot.
  await page.click("#collapse-all");
  await page.click("[data-key='s:adam']");
  const counts = await colourCounts(page);
  expect("mlp: screenshot shows forward, gradient and update boxes",
         counts.forward > 200 && counts.gradient > 200 && counts.update > 200, JSON.stringify(counts));
  expect("mlp: screenshot mostly background", counts.white > counts.total / 3, JSON.stringify(counts));

  await page.screenshot({ path: path.join(dir, "mlp_adam_open.png") });

  // SVG export of the current view, and the button's download.
  const current = await boxes(page);
  const exported = await page.evaluate(() => window.kilnViewer.exportSvg());
  const parsed = await page.evaluate((s) => {
    const doc = new DOMParser().parseFromString(s, "image/svg+xml");
    return { error: !!doc.querySelector("parsererror"), boxes: doc.querySelectorAll("[data-key^='s:'], [data-key^='n:']").length,
             style: !!doc.querySelector("style") };
  }, exported);
  expect("mlp: exported SVG parses, styled, with the view's boxes", !parsed.error && parsed.style && parsed.boxes === current,
         JSON.stringify(parsed));
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-svg")]);
  const file = path.join(dir, "exported.svg");
  await download.saveAs(file);
  expect("mlp: the export button downloads the SVG", fs.readFileSync(file, "utf8").startsWith("<svg"));
  expect("mlp: overlays off without their data", await page.$eval("#overlay-memory", (e) => e.disabled));
  errors.forEach((e) => failures.push(e));
  await page.close();
}

async function compiledGraph(browser) {
  const { page, errors, data } = await open(browser, "mlp_compiled.html");
  expect("compiled: has memory and profile", data.memory && data.profile);
  await page.click("#overlay-memory");
  const inArena = data.memory.buffers.filter((b) => b.in_arena && b.first <= b.last).length;
  const rects = await page.$$eval("#arena rect.buffer", (r) => r.length);
  expect("compiled: the arena panel draws every arena buffer", rects === inArena && inArena > 0, `${rects} of ${inArena}`);
  await page.click("#overlay-profile");
  await page.click("#expand-all");
  await page.screenshot({ path: path.join(dir, "mlp_compiled.png") });
  const labels = await page.$$eval("#graph text.overlay", (t) => t.map((x) => x.textContent));
  expect("compiled: boxes show buffer offsets", labels.some((l) => / @ \d+, kernels \d+-\d+/.test(l)), labels.slice(0, 3).join("|"));
  expect("compiled: boxes show kernel times", labels.some((l) => /µs per run/.test(l)), labels.slice(0, 3).join("|"));
  const fused = data.nodes.findIndex((x) => x.body && x.body.length > 1);
  expect("compiled: the optimized graph has a fusion", fused >= 0);
  if (fused >= 0) {
    const name = data.nodes[fused].name;
    expect("compiled: a fusion is one box", await has(page, `[data-node='${name}'].fusion`));
    await page.click(`[data-node='${name}']`);
    const members = await page.$$eval(`[data-key^='m:${fused}:']`, (m) => m.length);
    expect("compiled: a click opens the fusion to its members", members === data.nodes[fused].body.length,
           `${members} of ${data.nodes[fused].body.length}`);
    expect("compiled: detail panel lists the members", (await page.textContent("#details")).includes("members"));
    await page.click(`text.cluster-label[data-key='f:${fused}']`);
    expect("compiled: and closes it again", (await page.$$eval(`[data-key^='m:${fused}:']`, (m) => m.length)) === 0);
  }
  errors.forEach((e) => failures.push(e));
  await page.close();
}

// Every scope open: all nodes laid out, in reasonable time.
async function expandAll(browser, name, maxSeconds) {
  const { page, errors, data } = await open(browser, name);
  const start = Date.now();
  await page.click("#expand-all");
  const seconds = (Date.now() - start) / 1000;
  const shown = await boxes(page);
  expect(`${name}: expand all lays out every node`, shown === data.nodes.length, `${shown} of ${data.nodes.length}`);
  expect(`${name}: expand all within ${maxSeconds} s`, seconds < maxSeconds, `${seconds} s`);
  console.log(`${name}: ${data.nodes.length} nodes, ${shown} laid out in ${seconds.toFixed(2)} s`);
  errors.forEach((e) => failures.push(e));
  await page.close();
}

// A level of 1,000 nodes opens as runs of 150; search reveals a node deep in one.
async function chain(browser) {
  const { page, errors, data } = await open(browser, "chain.html");
  const initial = await boxes(page);
  expect("chain: a long level starts as runs", initial === Math.ceil(data.nodes.length / 150) &&
         (await has(page, "[data-key='s:[151-300]']")), `${initial} boxes`);
  const target = data.nodes[700].name;
  await page.fill("#search", target);
  await page.click("#results li");
  expect("chain: search opens the run holding the node", await has(page, `[data-node='${target}'].selected`));
  expect("chain: and only that run", (await boxes(page)) < 160 + initial, `${await boxes(page)} boxes`);
  errors.forEach((e) => failures.push(e));
  await page.close();
}

// kiln plot: both runs in every chart and in the summary.
async function dashboard(browser) {
  const { page, errors } = await (async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(`runs.html: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && errors.push(`runs.html: console: ${m.text()}`));
    await page.goto("file://" + path.join(dir, "runs.html"));
    await page.waitForSelector(".uplot");
    return { page, errors };
  })();
  const data = JSON.parse(await page.textContent("#kiln-runs"));
  expect("runs: two runs", data.runs.length === 2);
  const charts = await page.$$eval("figure", (fs) => fs.map((f) => ({
    id: f.id, canvas: !!f.querySelector("canvas"),
    legend: [...f.querySelectorAll(".u-legend .u-series .u-label")].map((l) => l.textContent) })));
  for (const c of charts)
    expect(`runs: chart ${c.id} drawn with both runs`, c.canvas && c.legend.includes("sgd_0.01") && c.legend.includes("sgd_0.1"),
           JSON.stringify(c));
  const rows = await page.$$eval("#summary tr", (r) => r.map((x) => x.textContent));
  expect("runs: summary has a row per run", rows.length === 3 && rows[1].startsWith("sgd_0.01") && rows[2].includes("%"),
         rows.join(" | "));
  await page.screenshot({ path: path.join(dir, "runs.png") });
  errors.forEach((e) => failures.push(e));
  await page.close();
}

(async () => {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  try {
    await trainingGraph(browser);
    await compiledGraph(browser);
    await expandAll(browser, "convnet.html", 10);
    await expandAll(browser, "deep_mlp.html", 30);
    await expandAll(browser, "chain.html", 30);
    await chain(browser);
    await dashboard(browser);
  } finally {
    await browser.close();
  }
  for (const f of failures) console.log("FAILED: " + f);
  console.log(`${checks - failures.length} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
})().catch((e) => {
  console.log("FAILED: " + (e.stack || e));
  process.exit(1);
});
