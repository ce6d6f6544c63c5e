// Live alerts: the latest alerts grouped by story, then every new or updated alert from the
// Server-Sent Events stream (read with fetch, so the key goes in a header, never in a URL).
import { api, apiKey, setConn, signOut } from "./app.js";
import { ago, clear, el, highlighted, link, marked } from "./dom.js";

const groups = new Map(); // story key -> {key, storyId, title, url, last, sources, alerts: Map(id -> alert)}
let controller = null;
let lastEventId = "";
let loaded = false;
let retry = 1000;

function groupKey(storyId, articleId, digest, alertId) {
  if (digest) return `digest:${alertId}`;
  return storyId !== null && storyId !== undefined ? `s${storyId}` : `a${articleId}`;
}

function upsert(key, fields, alert) {
  const g = groups.get(key) || { key, alerts: new Map(), sources: 0, fresh: false };
  Object.assign(g, fields);
  if (alert) g.alerts.set(alert.id, { ...(g.alerts.get(alert.id) || {}), ...alert });
  groups.set(key, g);
  return g;
}

async function loadInitial() {
  const page = await api("/api/v1/alerts/by-story?limit=40");
  for (const item of page.items.slice().reverse()) {
    upsert(item.story_key, { storyId: item.story_id, title: item.title, url: item.url, last: item.last_changed,
      sources: item.articles }, null);
    for (const a of item.alerts) {
      upsert(item.story_key, {}, { id: a.id, watch: a.watch, score: a.score, text: a.snippet_text, spans: a.highlights,
        acknowledged: Boolean(a.acknowledged_at), falsePositive: a.false_positive });
    }
  }
  loaded = true;
}

function onEvent(type, data) {
  if (!data || !data.alert_id) return;
  const art = data.article || {};
  const key = groupKey(data.story_id, art.id, data.digest, data.alert_id);
  const snippet = (data.matched_terms || []).map((t) => t.snippet).find(Boolean) || "";
  const title = data.digest ? `${data.digest.count} more matches (digest)` : art.title || "";
  const g = upsert(key, { storyId: data.story_id, title, url: art.url, last: new Date().toISOString(),
    sources: (data.sources || []).length || 1, fresh: true },
  { id: data.alert_id, watch: (data.watch || {}).name || "", score: data.score, marked: snippet });
  g.fresh = true;
  render();
}

async function triage(alertId, action) {
  const path = action === "ack" ? `/api/v1/alerts/${alertId}/acknowledge` : `/api/v1/alerts/${alertId}/false-positive`;
  await api(path, { method: "POST", body: {} });
  for (const g of groups.values()) {
    const a = g.alerts.get(alertId);
    if (a) Object.assign(a, action === "ack" ? { acknowledged: true } : { acknowledged: true, falsePositive: true });
  }
  render();
}

function alertLine(a) {
  const snippet = a.marked !== undefined ? marked(a.marked, "p") : highlighted(a.text || "", a.spans, "p");
  snippet.classList.add("snippet");
  const state = a.falsePositive ? "false positive" : a.acknowledged ? "seen" : "";
  return el("li", { class: `alert ${a.acknowledged ? "acked" : ""}` },
    el("div", { class: "alert-head" },
      el("span", { class: "chip", text: a.watch }),
      el("span", { class: "muted", text: a.score !== undefined && a.score !== null ? `score ${Number(a.score).toFixed(1)}` : "" }),
      state ? el("span", { class: "state", text: state }) : null,
      el("span", { class: "actions" },
        a.acknowledged ? null : el("button", { type: "button", class: "small", onclick: () => triage(a.id, "ack") }, "Seen"),
        a.falsePositive ? null : el("button", { type: "button", class: "small", title: "Mark as a false positive of this watch",
          onclick: () => triage(a.id, "fp") }, "False positive"))),
    snippet);
}

export function render() {
  const list = document.getElementById("live-list");
  const sorted = [...groups.values()].sort((a, b) => String(b.last).localeCompare(String(a.last))).slice(0, 60);
  document.getElementById("live-empty").hidden = sorted.length > 0;
  clear(list, ...sorted.map((g) => {
    const watches = [...new Set([...g.alerts.values()].map((a) => a.watch))];
    const li = el("li", { class: `story card ${g.fresh ? "new" : ""}`, "data-story": g.key },
      el("h2", { class: "story-title" }, link(g.url, g.title || "(untitled)")),
      el("p", { class: "meta" },
        el("span", { text: ago(g.last) }), " · ",
        el("span", { text: `${g.sources} source${g.sources === 1 ? "" : "s"}` }), " · ",
        el("span", { text: watches.join(", ") }),
        g.storyId ? el("a", { href: `#story/${g.storyId}`, class: "more" }, "timeline") : null),
      el("ul", { class: "alerts" }, ...[...g.alerts.values()].map(alertLine)));
    g.fresh = false;
    return li;
  }));
}

function parse(buffer, dispatch) {
  // Server-Sent Events framing: fields per line, an empty line ends an event.
  const events = buffer.split(/\r?\n\r?\n/);
  const rest = events.pop();
  for (const block of events) {
    let type = "message";
    let data = "";
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("id:")) lastEventId = line.slice(3).trim();
      else if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trimStart();
    }
    if (data) {
      try { dispatch(type, JSON.parse(data)); } catch { /* not JSON: ignore */ }
    }
  }
  return rest;
}

async function stream() {
  while (controller && !controller.signal.aborted) {
    try {
      const headers = { Authorization: `Bearer ${apiKey()}`, Accept: "text/event-stream" };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      const r = await fetch("/api/v1/alerts/stream", { headers, signal: controller.signal });
      if (r.status === 401) { signOut("Your key was refused; sign in again."); return; }
      if (!r.ok || !r.body) throw new Error(`stream: HTTP ${r.status}`);
      setConn("live", "ok");
      retry = 1000;
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parse(buffer + decoder.decode(value, { stream: true }), onEvent);
      }
    } catch (e) {
      if (controller === null || controller.signal.aborted) return;
    }
    setConn("reconnecting…", "warn");
    await new Promise((res) => setTimeout(res, retry));
    retry = Math.min(retry * 2, 15000);
  }
}

export function startLive() {
  if (controller) return;
  controller = new AbortController();
  setConn("connecting…", "warn");
  stream();
}

export function stopLive() {
  if (controller) controller.abort();
  controller = null;
  groups.clear();
  loaded = false;
  lastEventId = "";
}

export async function showLive() {
  if (!loaded) await loadInitial();
  render();
}
