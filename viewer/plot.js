// kiln's training dashboard: the runs' loss per step, test accuracy per
// epoch and speed, overlaid (uPlot), and a summary table. The data is the
// JSON in #kiln-runs (tools/plot.cpp), one entry per run log.
"use strict";
(() => {
  const runs = JSON.parse(document.getElementById("kiln-runs").textContent).runs;
  const colours = ["#1c71d8", "#e01b24", "#2ec27e", "#c64600", "#9141ac", "#865e3c", "#1a1a1a"];
  const colour = (i) => colours[i % colours.length];
  const WINDOW = 50;
  document.querySelectorAll(".window").forEach((e) => (e.textContent = WINDOW));

  // uPlot wants one x array for all series: the union of the runs' x values,
  // with null where a run has no point.
  function aligned(seriesPerRun) {
    const xs = [...new Set(seriesPerRun.flatMap((s) => s.map((p) => p[0])))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const ys = seriesPerRun.map((s) => {
      const y = new Array(xs.length).fill(null);
      for (const [x, v] of s) y[index.get(x)] = v;
      return y;
    });
    return [xs, ...ys];
  }
  const smooth = (points) => {
    let sum = 0;
    return points.map(([x, v], i) => {
      sum += v;
      if (i >= WINDOW) sum -= points[i - WINDOW][1];
      return [x, sum / Math.min(i + 1, WINDOW)];
    });
  };
  function chart(id, xLabel, yLabel, perRun, options = {}) {
    const series = [{ label: xLabel }];
    perRun.forEach((s, i) => series.push({ label: runs[i].name, stroke: colour(i), width: 1.5,
                                           spanGaps: true, points: { show: options.points || false } }));
    const opts = { width: 560, height: 300, series, scales: { x: { time: false } },
                   axes: [{ label: xLabel, ...(options.wholeX ? { incrs: [1, 2, 5, 10, 20, 50, 100] } : {}) },
                          { label: yLabel }] };
    const el = document.getElementById(id);
    el.chart = new uPlot(opts, aligned(perRun), el);
  }

  chart("loss", "step", "loss", runs.map((r) => smooth(r.steps.map((s) => [s.step, s.loss]))));
  chart("accuracy", "epoch", "test accuracy (%)",
        runs.map((r) => r.epochs.map((e) => [e.epoch, 100 * e.test_accuracy])), { points: true, wholeX: true });
  chart("speed", "step", "steps/s",
        runs.map((r) => r.steps.filter((s) => s.steps_per_s).map((s) => [s.step, s.steps_per_s])));

  const cells = (tag, values) => "<tr>" + values.map((v) => `<${tag}>${v}</${tag}>`).join("") + "</tr>";
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const fixed = (v, d) => (v === null || v === undefined ? "-" : v.toFixed(d));
  document.getElementById("summary").innerHTML =
    cells("th", ["run", "epochs", "steps", "final loss", "test accuracy", "steps/s", "training s", "compiling s"]) +
    runs.map((r, i) => {
      const last = r.epochs[r.epochs.length - 1] || {};
      const train = r.epochs.reduce((a, e) => a + e.train_s, 0);
      const compile = r.epochs.reduce((a, e) => a + e.compile_s, 0);
      return cells("td", [`<i style="background:${colour(i)}"></i>${esc(r.name)}`, r.epochs.length,
                          r.steps.length, fixed(last.mean_loss, 4),
                          last.test_accuracy === undefined ? "-" : (100 * last.test_accuracy).toFixed(2) + "%",
                          fixed(last.steps_per_s, 0), fixed(train, 1), fixed(compile, 2)]);
    }).join("");
  document.title = "kiln: " + runs.map((r) => r.name).join(", ");
})();
