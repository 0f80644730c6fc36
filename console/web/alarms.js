// The alarms page: every CloudWatch alarm of the signed-in account with its state, reason and
// last change; choosing one shows its history. Refreshes itself every 30 seconds.

import { api, el, fmtDims, fmtTime, region, setupHeader, showError } from "./common.js";

const $ = (id) => document.getElementById(id);
const OPERATORS = {
  GreaterThanOrEqualToThreshold: "≥",
  GreaterThanThreshold: ">",
  LessThanThreshold: "<",
  LessThanOrEqualToThreshold: "≤",
  LessThanLowerOrGreaterThanUpperThreshold: "outside band",
  LessThanLowerThreshold: "< lower band",
  GreaterThanUpperThreshold: "> upper band",
};
let selected = null;

function stateBadge(state) {
  const label = state === "INSUFFICIENT_DATA" ? "Insufficient data" : state === "ALARM" ? "In alarm" : state;
  return el("span", { class: `state state-${state.toLowerCase()}` }, label);
}

function condition(a) {
  if (a.threshold === null || a.threshold === undefined) return "–";
  const op = OPERATORS[a.comparisonOperator] || a.comparisonOperator;
  const m = a.datapointsToAlarm || a.evaluationPeriods;
  const n = a.evaluationPeriods;
  return `${a.statistic} ${op} ${a.threshold} for ${m} of ${n} × ${a.period} s`;
}

function actions(a) {
  const n = a.alarmActions.length + a.okActions.length + a.insufficientDataActions.length;
  if (!n) return "none";
  return `${n} ${n === 1 ? "action" : "actions"}${a.actionsEnabled ? "" : " (disabled)"}`;
}

async function showHistory(name) {
  selected = name;
  for (const tr of document.querySelectorAll("#alarms tbody tr")) {
    tr.classList.toggle("selected", tr.dataset.alarm === name);
  }
  const { history } = await api("alarm-history", { region: region(), alarmName: name });
  $("history-card").hidden = false;
  $("history-title").textContent = `History of ${name}`;
  $("history").querySelector("tbody").replaceChildren(
    ...history.map((h) => el("tr", {},
      el("td", { class: "nowrap" }, h.timestamp ? fmtTime(h.timestamp) : "–"),
      el("td", {}, h.historyItemType),
      el("td", {}, h.historySummary))),
  );
  $("history-empty").hidden = history.length > 0;
}

async function load() {
  showError("");
  let data;
  try {
    data = await api("alarms", { region: region() });
  } catch (e) {
    showError(e.message);
    return;
  }
  const empty = $("alarms-empty");
  empty.textContent = "No alarms in this region. Create one with PutMetricAlarm.";
  empty.hidden = data.alarms.length > 0;
  const counts = { ALARM: 0, OK: 0, INSUFFICIENT_DATA: 0 };
  for (const a of data.alarms) counts[a.stateValue] = (counts[a.stateValue] || 0) + 1;
  $("alarm-counts").textContent = data.alarms.length
    ? `${counts.ALARM} in alarm · ${counts.OK} OK · ${counts.INSUFFICIENT_DATA} insufficient data`
    : "";
  $("alarms").querySelector("tbody").replaceChildren(...data.alarms.map((a) => el("tr",
    { "data-alarm": a.alarmName, class: a.alarmName === selected ? "selected" : "", onclick: () => showHistory(a.alarmName).catch((e) => showError(e.message)) },
    el("td", {}, stateBadge(a.stateValue)),
    el("td", {}, el("button", { type: "button", class: "link" }, a.alarmName),
      a.alarmDescription ? el("div", { class: "muted small" }, a.alarmDescription) : null),
    el("td", {}, a.metricName ? `${a.namespace} · ${a.metricName}` : "–",
      el("div", { class: "muted small" }, a.metricName ? fmtDims(a.dimensions) : "")),
    el("td", {}, condition(a)),
    el("td", { class: "reason" }, a.stateReason),
    el("td", { class: "nowrap" }, a.stateUpdated ? fmtTime(a.stateUpdated) : "–"),
    el("td", {}, actions(a)),
  )));
  if (selected && data.alarms.some((a) => a.alarmName === selected)) await showHistory(selected);
}

async function main() {
  await setupHeader(load);
  $("refresh").addEventListener("click", load);
  await load();
  setInterval(load, 30000);
}

main().catch((e) => showError(e.message));
