// The metrics explorer: namespace → metric → dimensions → statistic → period → time range,
// drawn as a line chart with uPlot (a global from the vendored uPlot.iife.min.js). The selection
// is kept in the page's query string, so a chart can be bookmarked or shared.

import { api, el, fmtDims, region, setupHeader, showError } from "./common.js";

const $ = (id) => document.getElementById(id);
const sel = {
  namespace: $("namespace"), metric: $("metric"), dimensions: $("dimensions"),
  statistic: $("statistic"), period: $("period"), range: $("range"),
};
let metrics = [];   // [{metricName, dimensions}] of the chosen namespace
let plot = null;
// Time-axis tick steps (seconds); ticks never fall between two periods.
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
  86400, 172800, 604800];

function wanted() {
  return new URLSearchParams(location.search);
}

function remember() {
  const q = new URLSearchParams();
  for (const [k, s] of Object.entries(sel)) if (s.value) q.set(k, s.value);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

function fill(select, values, preferred, label = (v) => v) {
  select.replaceChildren(...values.map((v) => el("option", { value: v }, label(v))));
  if (preferred !== null && values.includes(preferred)) select.value = preferred;
  select.disabled = values.length === 0;
}

function keepChoice(select, preferred) {
  if (preferred && [...select.options].some((o) => o.value === preferred)) select.value = preferred;
}

async function loadNamespaces(preferred) {
  const { namespaces } = await api("namespaces", { region: region() });
  fill(sel.namespace, namespaces, preferred);
  if (!namespaces.length) {
    metrics = [];
    fill(sel.metric, [], null);
    fill(sel.dimensions, [], null);
    clearChart("No metrics in this region yet.");
    return;
  }
  await loadMetrics(wanted().get("metric"), wanted().get("dimensions"));
}

async function loadMetrics(preferredMetric, preferredDims) {
  ({ metrics } = await api("metrics", { region: region(), namespace: sel.namespace.value }));
  const names = [...new Set(metrics.map((m) => m.metricName))];
  fill(sel.metric, names, preferredMetric);
  fillDimensions(preferredDims);
}

function fillDimensions(preferred) {
  const sets = metrics
    .filter((m) => m.metricName === sel.metric.value)
    .map((m) => JSON.stringify(m.dimensions));
  fill(sel.dimensions, sets, preferred, (s) => fmtDims(JSON.parse(s)));
}

/** Periods that would need more than 1,440 datapoints for the time range are not offered
 * (CloudWatch's limit); if the chosen one is one of them, take the shortest allowed. */
function syncPeriods() {
  const range = Number(sel.range.value);
  for (const o of sel.period.options) o.disabled = range / Number(o.value) > 1440;
  if (sel.period.selectedOptions[0]?.disabled) {
    sel.period.value = [...sel.period.options].find((o) => !o.disabled).value;
  }
}

function clearChart(message) {
  if (plot) { plot.destroy(); plot = null; }
  $("chart-title").textContent = "No metric selected";
  $("chart-summary").textContent = "";
  $("chart-empty").textContent = message;
  $("chart-empty").hidden = !message;
}

async function draw() {
  remember();
  showError("");
  if (!sel.metric.value) return;
  const end = Math.floor(Date.now() / 1000);
  const start = end - Number(sel.range.value);
  let series;
  try {
    series = await api("statistics", {
      region: region(),
      namespace: sel.namespace.value,
      metricName: sel.metric.value,
      dimensions: sel.dimensions.value,
      statistic: sel.statistic.value,
      period: sel.period.value,
      start, end,
    });
  } catch (e) {
    clearChart("");
    showError(e.message);
    return;
  }
  const xs = series.datapoints.map((d) => d.timestamp);
  const ys = series.datapoints.map((d) => d.value);
  const periodLabel = sel.period.selectedOptions[0].textContent;
  $("chart-title").textContent = `${series.namespace} · ${series.metricName} · ${series.statistic}`;
  $("chart-summary").textContent =
    `${fmtDims(series.dimensions)} · ${periodLabel} periods · ${xs.length} datapoint${xs.length === 1 ? "" : "s"}`;
  $("chart").dataset.points = String(xs.length);
  $("chart-empty").hidden = xs.length > 0;
  $("chart-empty").textContent = "No datapoints in this time range.";
  if (plot) plot.destroy();
  const box = $("chart");
  plot = new uPlot({
    width: Math.max(320, box.clientWidth),
    height: 380,
    scales: { x: { time: true } },
    series: [
      {},
      {
        label: series.statistic,
        stroke: "#c2410c",
        fill: "rgba(194, 65, 12, 0.08)",
        width: 2,
        points: { show: true, size: 7, fill: "#c2410c" },
        value: (u, v) => (v == null ? "–" : Number(v.toPrecision(6)).toLocaleString()),
      },
    ],
    axes: [
      { stroke: "#57534e", grid: { stroke: "#e7e5e4" }, incrs: TIME_STEPS.filter((s) => s >= series.period) },
      { stroke: "#57534e", grid: { stroke: "#e7e5e4" }, size: 70, label: series.statistic, labelSize: 24 },
    ],
  }, [xs, ys], box);
}

async function reloadAll() {
  try {
    await loadNamespaces(sel.namespace.value || wanted().get("namespace"));
    await draw();
  } catch (e) {
    showError(e.message);
  }
}

async function main() {
  const q = wanted();
  keepChoice(sel.statistic, q.get("statistic"));
  keepChoice(sel.period, q.get("period"));
  keepChoice(sel.range, q.get("range"));
  syncPeriods();
  await setupHeader(reloadAll);
  await loadNamespaces(q.get("namespace"));
  sel.namespace.addEventListener("change", async () => { await loadMetrics(null, null); await draw(); });
  sel.metric.addEventListener("change", async () => { fillDimensions(null); await draw(); });
  sel.range.addEventListener("change", () => { syncPeriods(); draw(); });
  for (const s of [sel.dimensions, sel.statistic, sel.period]) s.addEventListener("change", draw);
  $("refresh").addEventListener("click", reloadAll);
  window.addEventListener("resize", () => {
    if (plot) plot.setSize({ width: Math.max(320, $("chart").clientWidth), height: 380 });
  });
  await draw();
}

main().catch((e) => showError(e.message));
