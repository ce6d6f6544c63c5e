// Search: the query syntax of the API, filters, facets per day and language, cursor paging.
import { api } from "./app.js";
import { barChart, clear, el, highlighted, link, time } from "./dom.js";

const $ = (id) => document.getElementById(id);
let cursor = null;
let lastParams = null;
let wired = false;

export function articleItem(h) {
  const title = highlighted(h.title || "(untitled)", h.title_highlights);
  const snippet = highlighted(h.snippet || "", h.highlights, "p");
  snippet.classList.add("snippet");
  return el("li", { class: "result", "data-article": h.id },
    el("h3", {}, link(h.url, title)),
    el("p", { class: "meta" },
      time(h.dated_at), " · ", el("span", { text: h.host || h.source || "" }), " · ",
      el("span", { text: h.language || "und" }),
      h.story_id ? el("a", { href: `#story/${h.story_id}`, class: "more" }, "story") : null),
    snippet);
}

function params(form) {
  const p = new URLSearchParams();
  const q = form.q.value.trim();
  if (q) p.set("q", q);
  if (form.entity.value.trim()) p.set("entity", form.entity.value.trim());
  if (form.watch_id.value) p.set("watch_id", form.watch_id.value);
  for (const lang of form.language.value.split(/[\s,]+/).filter(Boolean)) p.append("language", lang.toLowerCase());
  if (form.since.value) p.set("since", `${form.since.value}T00:00:00Z`);
  if (form.until.value) p.set("until", `${form.until.value}T23:59:59Z`);
  p.set("sort", form.sort.value);
  p.set("limit", "20");
  return p;
}

// Counts per day as a continuous axis: every day of the span (zeros included), or every month when the
// span is longer than four months.
export function timeAxis(days) {
  if (!days.length) return [];
  const DAY = 86400000;
  const first = Date.parse(`${days[0].day}T00:00:00Z`);
  const last = Date.parse(`${days[days.length - 1].day}T00:00:00Z`);
  const byMonth = (last - first) / DAY > 120;
  const key = (t) => new Date(t).toISOString().slice(0, byMonth ? 7 : 10);
  const counts = new Map();
  for (const d of days) counts.set(key(Date.parse(`${d.day}T00:00:00Z`)), (counts.get(key(Date.parse(`${d.day}T00:00:00Z`))) || 0) + d.count);
  const out = [];
  for (let t = first; t <= last && out.length < 400; ) {
    const k = key(t);
    if (!out.length || out[out.length - 1].label !== k) out.push({ label: k, value: counts.get(k) || 0 });
    t = byMonth ? Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth() + 1, 1) : t + DAY;
  }
  return out;
}

function renderFacets(f) {
  const points = timeAxis((f && f.days) || []);
  clear($("facet-days"), points.length ? barChart(points) : el("p", { class: "muted", text: "—" }));
  clear($("facet-langs"), ...((f && f.languages) || []).map((l) =>
    el("li", {}, el("button", { type: "button", class: "linkish", onclick: () => { $("s-language").value = l.language; run(); } }, l.language),
      el("span", { class: "count", text: String(l.count) }))));
  $("search-total").textContent = f ? `${f.total} article${f.total === 1 ? "" : "s"}` : "";
}

export async function run(more = false) {
  const form = $("search-form");
  $("search-error").textContent = "";
  const p = more && lastParams ? new URLSearchParams(lastParams) : params(form);
  if (more && cursor) p.set("cursor", cursor);
  else p.set("facets", "true");
  try {
    const page = await api(`/api/v1/articles?${p}`);
    if (!more) {
      lastParams = p.toString();
      clear($("search-results"));
      renderFacets(page.facets);
    }
    $("search-results").append(...page.items.map(articleItem));
    if (!page.items.length && !more) $("search-results").append(el("li", { class: "empty", text: "No article matches." }));
    cursor = page.next_cursor;
    $("search-more").hidden = !cursor;
  } catch (e) {
    const pos = e.position !== null && e.position !== undefined ? ` (at character ${e.position + 1})` : "";
    $("search-error").textContent = `${e.message}${pos}`;
  }
}

export async function showSearch() {
  if (!wired) {
    wired = true;
    $("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
    $("search-more").addEventListener("click", () => run(true));
    const watches = await api("/api/v1/watches");
    $("s-watch").append(...watches.map((w) => el("option", { value: w.id, text: w.name })));
    await run();
  }
}
