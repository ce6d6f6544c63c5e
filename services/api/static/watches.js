// The watch editor: validation as you type (the error shown at its position), a backtest preview of the
// draft before saving (with the watch's false positives), save, and the list of watches.
import { api } from "./app.js";
import { barChart, clear, el, marked } from "./dom.js";

const $ = (id) => document.getElementById(id);
let current = null; // the watch being edited, or null for a new one
let timer = null;
let wired = false;

function showError(query, err) {
  const pos = typeof err.position === "number" ? Math.min(err.position, query.length) : null;
  const box = $("w-check");
  box.className = "check bad";
  const parts = [el("p", { text: err.message })];
  if (pos !== null) {
    // the query with a caret under the error position, as text
    parts.push(el("pre", { class: "caret" }, query.slice(0, pos), el("mark", { class: "at", text: query.slice(pos, pos + 1) || " " }),
      query.slice(pos + 1)));
    if (err.expected) parts.push(el("p", { class: "muted", text: `expected ${err.expected}` }));
  }
  clear(box, ...parts);
}

async function validate() {
  const query = $("w-query").value;
  if (!query.trim()) return clear($("w-check"));
  try {
    const v = await api("/api/v1/watches/validate", { method: "POST", body: { query } });
    const box = $("w-check");
    box.className = "check ok";
    clear(box, el("p", {}, "Valid: ", el("code", { text: v.canonical })),
      ...v.warnings.map((w) => el("p", { class: "warn", text: w })));
  } catch (e) {
    if (e.status === 422) showError(query, e);
  }
}

async function preview() {
  const query = $("w-query").value;
  const out = $("w-preview");
  clear(out, el("p", { class: "muted", text: "Running the rule over the last 30 days…" }));
  try {
    const r = await api("/api/v1/watches/backtest?limit=10", { method: "POST",
      body: { query, watch_id: current ? current.id : undefined } });
    const days = Object.entries(r.per_day).map(([d, n]) => ({ label: d, value: n }));
    const fps = r.false_positives.map((f) => el("li", { class: f.matched ? "bad" : "ok" },
      `article ${f.article_id}: ${f.matched ? "still matches" : f.matched === false ? "no longer matches" : "outside the window"}`,
      f.note ? el("span", { class: "muted", text: ` — ${f.note}` }) : null));
    clear(out,
      el("p", { text: `${r.total} of ${r.scanned} articles match.` }),
      days.length ? barChart(days) : null,
      fps.length ? el("div", {}, el("h3", { text: "Marked false positives" }), el("ul", { class: "fps" }, ...fps)) : null,
      el("ol", { class: "results" }, ...r.matches.map((m) => el("li", { class: m.false_positive ? "result fp" : "result" },
        el("h3", { text: m.title }), el("p", { class: "meta", text: `${m.published.slice(0, 16)} · score ${m.score}` }),
        marked(m.snippet, "p")))));
  } catch (e) {
    if (e.status === 422) { showError(query, e); clear(out); } else clear(out, el("p", { class: "error", text: e.message }));
  }
}

async function save(ev) {
  ev.preventDefault();
  const body = { name: $("w-name").value.trim(), query: $("w-query").value };
  $("w-error").textContent = "";
  try {
    current = current
      ? await api(`/api/v1/watches/${current.id}`, { method: "PATCH", body })
      : await api("/api/v1/watches", { method: "POST", body });
    $("w-error").textContent = "Saved.";
    await list();
  } catch (e) {
    if (e.status === 422 && e.position !== null) showError(body.query, e);
    else $("w-error").textContent = e.message;
  }
}

function edit(w) {
  current = w;
  $("w-name").value = w ? w.name : "";
  $("w-query").value = w ? w.query : "";
  clear($("w-check"));
  clear($("w-preview"));
  $("w-error").textContent = "";
}

async function list() {
  const watches = await api("/api/v1/watches");
  clear($("watch-list"), ...watches.map((w) => el("li", {},
    el("button", { type: "button", class: "linkish", onclick: () => edit(w) }, w.name),
    el("span", { class: "muted", text: w.enabled ? "" : " (off)" }))));
}

export async function showWatches() {
  if (!wired) {
    wired = true;
    $("w-query").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(validate, 300); });
    $("w-backtest").addEventListener("click", preview);
    $("watch-form").addEventListener("submit", save);
    $("w-new").addEventListener("click", () => edit(null));
  }
  await list();
}
