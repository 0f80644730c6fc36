// The SageMaker endpoints pages: the list (status, variants, running deployment) and one
// endpoint's deployment guardrails view (traffic split per fleet, steps, alarm states, error and
// latency charts, timeline, history, Abort / Promote). Refreshes every 2 s.

import { api, el, fmtTime, region, setupHeader, showError, ApiError } from "./common.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const name = params.get("name");
let plots = {};

function stateBadge(status) {
  const cls = status === "InService" ? "ok" : status === "Failed" || status === "UpdateRollbackFailed" ? "alarm" : "insufficient_data";
  return el("span", { class: `state state-${cls}`, "data-status": status }, status);
}

function pct(x) {
  return `${Math.round(x * 1000) / 10}%`;
}

function variantsText(vs) {
  return vs.map((v) => `${v.name} (${v.serverless ? "serverless" : `${v.instances ?? 0}× ${v.instanceType ?? ""}`}, weight ${v.weight})`).join("; ");
}

async function loadList() {
  const data = await api("sagemaker/endpoints", { region: region() });
  const body = $("endpoints").tBodies[0];
  body.replaceChildren();
  for (const e of data.endpoints) {
    const dep = e.deploymentPhase ? `${e.deploymentPhase} · ${pct(e.greenShare ?? 0)} on green` : "";
    body.append(el("tr", { "data-endpoint": e.name },
      el("td", {}, el("a", { href: `/console/endpoints?name=${encodeURIComponent(e.name)}` }, e.name)),
      el("td", {}, stateBadge(e.status)),
      el("td", {}, e.config),
      el("td", { class: "small" }, variantsText(e.variants)),
      el("td", { class: "small" }, dep),
      el("td", { class: "nowrap" }, fmtTime(e.modified))));
  }
  $("endpoints-empty").hidden = data.endpoints.length > 0;
  $("endpoint-count").textContent = `${data.endpoints.length} endpoint${data.endpoints.length === 1 ? "" : "s"}`;
}

function chart(id, series, data, yLabel) {
  const box = $(id);
  box.dataset.points = String(data[0].length);
  if (plots[id]) {
    plots[id].setData(data);
    return;
  }
  plots[id] = new uPlot({
    width: Math.max(300, box.clientWidth),
    height: 260,
    scales: { x: { time: true } },
    // Points as well as lines: a burst of traffic may fill a single 10 s period.
    series: [{}, ...series.map((x) => ({ points: { show: true, size: 5, fill: x.stroke }, ...x }))],
    axes: [{ stroke: "#57534e", grid: { stroke: "#e7e5e4" } }, { stroke: "#57534e", grid: { stroke: "#e7e5e4" }, size: 60, label: yLabel }],
  }, data, box);
}

async function control(action) {
  try {
    const resp = await fetch("/console/api/sagemaker/deployment", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ region: region(), endpoint: name, action }),
    });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new ApiError(resp.status, body.error?.code, body.error?.message || `HTTP ${resp.status}`);
    showError("");
    await loadDetail();
  } catch (e) {
    showError(e.message);
  }
}

async function loadDetail() {
  const d = await api("sagemaker/endpoint", { region: region(), name });
  const e = d.endpoint;
  $("ep-name").textContent = e.name;
  $("ep-status").replaceWith(Object.assign(stateBadge(e.status), { id: "ep-status" }));
  $("ep-config").textContent = `configuration ${e.config}`;
  $("ep-reason").hidden = !e.failureReason;
  $("ep-reason").textContent = e.failureReason ? `Failure reason: ${e.failureReason}` : "";

  const split = $("split");
  split.replaceChildren(...d.fleets.filter((f) => f.share > 0).map((f) => {
    const bar = el("div", { class: `fleet-${f.fleet}`, "data-fleet": f.fleet, "data-share": String(f.share) }, `${f.fleet} ${pct(f.share)}`);
    bar.style.width = `${f.share * 100}%`;
    return bar;
  }));
  $("fleets").textContent = d.fleets.map((f) => `${f.fleet}: ${f.config} — ${variantsText(f.variants)} — ${pct(f.share)}`).join("  ·  ");

  const dep = d.deployments[0];
  const running = dep && dep.running;
  $("phase").textContent = dep ? `Deployment #${dep.number}: ${dep.phase}` : "No deployment";
  $("abort").disabled = !running || dep.phase === "terminating" || dep.phase === "rolling-back";
  $("promote").disabled = !running || dep.phase === "rolling-back";
  const steps = $("steps");
  steps.replaceChildren();
  if (dep) {
    steps.append(el("span", { class: "muted" }, `${dep.routing} · bake ${dep.waitSeconds} s · keep old ${dep.terminationWaitSeconds} s:`));
    dep.steps.forEach((s, i) => {
      const done = !running ? dep.phase === "succeeded" : i < dep.step || dep.phase === "terminating";
      const current = running && i === dep.step && dep.phase === "baking";
      steps.append(el("span", { class: current ? "current" : done ? "done" : "" }, `${i + 1}. ${s.instances} inst · ${pct(s.share)}`));
    });
  }
  const alarms = $("alarms");
  alarms.replaceChildren(...(d.alarms.length ? d.alarms.map((a) =>
    el("span", { class: `state state-${(a.state || "insufficient_data").toLowerCase()}`, "data-alarm": a.name }, `${a.name}: ${a.state ?? "missing"}`))
    : [el("span", { class: "muted" }, "none")]));

  const s = d.series;
  chart("chart-errors", [
    { label: "Invocations", stroke: "#57534e", width: 1 },
    { label: "4XX", stroke: "#d97706", width: 2 },
    { label: "5XX", stroke: "#dc2626", width: 2 },
  ], [s.t, s.invocations, s.errors4xx, s.errors5xx], "count");
  chart("chart-latency", [{ label: "ModelLatency (ms)", stroke: "#2563eb", width: 2 }], [s.t, s.latency.map((v) => (v == null ? null : v / 1000))], "ms");

  const tl = $("timeline").tBodies[0];
  tl.replaceChildren(...(dep ? [...dep.events].reverse().map((ev) =>
    el("tr", {}, el("td", { class: "nowrap" }, fmtTime(ev.time)), el("td", {}, pct(ev.greenShare)), el("td", {}, ev.message))) : []));
  const hist = $("history").tBodies[0];
  hist.replaceChildren(...d.deployments.map((h) => el("tr", { "data-deployment": String(h.number) },
    el("td", {}, `#${h.number}`), el("td", {}, h.phase), el("td", { class: "small" }, `${h.from} → ${h.to}`),
    el("td", { class: "small" }, `${h.routing}, bake ${h.waitSeconds} s`), el("td", { class: "small" }, h.requestedBy),
    el("td", { class: "nowrap" }, fmtTime(h.started)), el("td", { class: "nowrap" }, h.ended ? fmtTime(h.ended) : ""),
    el("td", { class: "small" }, h.reason ?? ""))));
  $("history-empty").hidden = d.deployments.length > 0;
}

async function refresh() {
  try {
    if (name) await loadDetail();
    else await loadList();
    showError("");
  } catch (e) {
    showError(e.message);
  }
}

async function main() {
  await setupHeader(refresh);
  $(name ? "detail-view" : "list-view").hidden = false;
  if (name) {
    document.title = `${name} · Endpoints · Hearth console`;
    $("abort").addEventListener("click", () => control("abort"));
    $("promote").addEventListener("click", () => control("promote"));
  } else {
    $("refresh").addEventListener("click", refresh);
  }
  await refresh();
  setInterval(refresh, 2000);
}

main();
