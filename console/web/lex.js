// The Lex page: missed utterances of a bot locale (ListAggregatedUtterances over the bot's
// aliases, fallback hits only), ranked by count, each with an intent picker and a button that
// adds it as a sample utterance (UpdateIntent); the locale's build state, with a Build button
// while it has unbuilt changes (polled until Built or Failed).

import { ApiError, api, el, fmtTime, region, setupHeader, showError, toSignIn } from "./common.js";

const $ = (id) => document.getElementById(id);
let bots = [];
let intents = [];
let polling = null;

/** POST /console/api/<path> with a JSON body. */
async function post(path, body) {
  const resp = await fetch(`/console/api/${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ region: region(), ...body }),
  });
  if (resp.status === 401) {
    toSignIn();
    throw new ApiError(401, "Unauthenticated", "Signed out");
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const e = data.error || {};
    throw new ApiError(resp.status, e.code || "Error", e.message || `HTTP ${resp.status}`);
  }
  return data;
}

function notice(text) {
  const n = $("notice");
  n.textContent = text || "";
  n.hidden = !text;
}

function selection() {
  return { botId: $("bot").value, localeId: $("locale").value };
}

const STATUS_CLASS = { Built: "state-ok", Failed: "state-alarm" };

function showLocale(locale) {
  const badge = $("locale-status");
  const status = locale && locale.status;
  badge.hidden = !status;
  if (!status) return;
  const label = status === "NotBuilt" ? "Not built: rebuild to use the new samples" : status;
  badge.textContent = label;
  badge.className = `state ${STATUS_CLASS[status] || "state-insufficient_data"}`;
  badge.dataset.status = status;
  $("build").hidden = !(status === "NotBuilt" || status === "Failed");
  if (status === "Building" || status === "ReadyExpressTesting") pollBuild();
}

function pollBuild() {
  if (polling) return;
  polling = setInterval(async () => {
    try {
      const { botId, localeId } = selection();
      const data = await api("lex/missed", { region: region(), botId, localeId });
      if (data.locale.status !== "Building") {
        clearInterval(polling);
        polling = null;
        notice(data.locale.status === "Built" ? "The locale is built: the bot now understands the added utterances." : "");
        render(data);
      }
    } catch (e) {
      clearInterval(polling);
      polling = null;
      showError(e.message);
    }
  }, 1000);
}

function intentPicker() {
  const select = el("select", { "aria-label": "Intent" },
    el("option", { value: "" }, "Choose an intent…"));
  for (const i of intents) select.append(el("option", { value: i.intentId }, i.intentName));
  return select;
}

function render(data) {
  intents = data.intents;
  showLocale(data.locale);
  const body = $("missed").querySelector("tbody");
  body.replaceChildren();
  for (const u of data.missed) {
    const picker = intentPicker();
    const button = el("button", { type: "button", disabled: true }, "Add as sample utterance");
    picker.addEventListener("change", () => { button.disabled = !picker.value; });
    button.addEventListener("click", async () => {
      button.disabled = true;
      showError("");
      try {
        const r = await post("lex/sample", { ...selection(), intentId: picker.value, utterance: u.utterance });
        notice(r.added
          ? `Added “${u.utterance}” to ${r.intentName}. Build the locale to use it.`
          : `“${u.utterance}” is already a sample utterance of ${r.intentName}.`);
        showLocale(r.locale);
        button.textContent = "Added";
      } catch (e) {
        showError(e.message);
        button.disabled = false;
      }
    });
    body.append(el("tr", { "data-utterance": u.utterance },
      el("td", {}, u.utterance),
      el("td", { class: "nowrap" }, u.missedCount),
      el("td", { class: "nowrap" }, u.hitCount),
      el("td", { class: "nowrap" }, u.lastRecorded ? fmtTime(new Date(u.lastRecorded * 1000)) : "–"),
      el("td", { class: "nowrap" }, picker, " ", button)));
  }
  const empty = $("missed-empty");
  empty.hidden = data.missed.length > 0;
  empty.textContent = "No missed utterances in the last two weeks.";
}

async function loadMissed() {
  showError("");
  const { botId, localeId } = selection();
  if (!botId || !localeId) {
    render({ locale: null, intents: [], missed: [] });
    $("missed-empty").textContent = bots.length ? "This bot has no locale." : "No bots in this region.";
    return;
  }
  try {
    render(await api("lex/missed", { region: region(), botId, localeId }));
  } catch (e) {
    showError(e.message);
  }
}

function fillLocales() {
  const bot = bots.find((b) => b.botId === $("bot").value);
  const select = $("locale");
  select.replaceChildren();
  for (const l of bot ? bot.locales : []) {
    select.append(el("option", { value: l.localeId }, `${l.localeName || l.localeId} (${l.localeId})`));
  }
}

async function loadBots() {
  showError("");
  notice("");
  try {
    bots = (await api("lex/bots", { region: region() })).bots;
  } catch (e) {
    showError(e.message);
    bots = [];
  }
  const select = $("bot");
  const previous = select.value;
  select.replaceChildren();
  for (const b of bots) select.append(el("option", { value: b.botId }, `${b.botName} (${b.botId})`));
  if (bots.some((b) => b.botId === previous)) select.value = previous;
  fillLocales();
  await loadMissed();
}

$("bot").addEventListener("change", () => { fillLocales(); notice(""); loadMissed(); });
$("locale").addEventListener("change", () => { notice(""); loadMissed(); });
$("refresh").addEventListener("click", loadBots);
$("build").addEventListener("click", async () => {
  showError("");
  try {
    const r = await post("lex/build", selection());
    notice("Building the locale…");
    showLocale({ status: r.status || "Building" });
    pollBuild();
  } catch (e) {
    showError(e.message);
  }
});

await setupHeader(loadBots);
await loadBots();
