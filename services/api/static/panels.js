// Rising entities and stories, top lists, feed health, coverage and the pipeline.
import { api } from "./app.js";
import { ago, clear, el, link, table } from "./dom.js";

const $ = (id) => document.getElementById(id);
// seconds as the unit a person reads: 0.42 s, 33 s, 12 min, 5.1 h, 3.2 d
export function duration(v) {
  if (v === null || v === undefined) return "—";
  if (v < 10) return `${v.toFixed(2)} s`;
  if (v < 120) return `${Math.round(v)} s`;
  if (v < 7200) return `${Math.round(v / 60)} min`;
  if (v < 172800) return `${(v / 3600).toFixed(1)} h`;
  return `${(v / 86400).toFixed(1)} d`;
}

const fmtP = (p) => (p < 1e-4 ? p.toExponential(1) : p.toPrecision(2));

function bars(node, items) {
  const max = Math.max(1, ...items.map((i) => i.count));
  clear(node, ...items.map((i) => {
    const meter = el("meter", { min: 0, max, value: i.count, title: String(i.count) });
    return el("li", {}, el("span", { class: "key", text: i.key }), meter, el("span", { class: "count", text: String(i.count) }));
  }));
  if (!items.length) node.append(el("li", { class: "muted", text: "Nothing yet." }));
}

export async function showRising() {
  const [ents, stories, top, largest] = await Promise.all([
    api("/api/v1/entities/rising"),
    api("/api/v1/stories/rising"),
    api("/api/v1/entities?hours=24&limit=15"),
    api("/api/v1/stories?hours=24&order=articles&limit=10"),
  ]);
  $("rising-meta").textContent = `last ${ents.window_seconds / 60} min against the ${ents.baseline_windows} windows before ` +
    `(Poisson, p ≤ ${ents.max_p}, at least ${ents.min_count} articles)`;
  const rising = (r, target) => [el("a", { href: target }, r.name || `#${r.id}`), String(r.count), r.baseline_mean.toFixed(1),
    fmtP(r.p_value), String(r.sources), r.languages.join(" ")];
  table($("rising-entities"), ["Entity", "Articles", "Usual", "p", "Sources", "Languages"],
    ents.items.map((r) => rising(r, `#entity/${r.id}`)));
  table($("rising-stories"), ["Story", "Articles", "Usual", "p", "Sources", "Languages"],
    stories.items.map((r) => rising(r, `#story/${r.id}`)));
  table($("top-entities"), ["Entity", "Type", "Articles", "Mentions"],
    top.items.map((e) => [el("a", { href: `#entity/${e.id}` }, e.name), e.label, String(e.articles), String(e.mentions)]));
  table($("top-stories"), ["Story", "Articles", "Sources", "Languages", "Last"],
    largest.items.map((s) => [el("a", { href: `#story/${s.id}` }, s.title || `#${s.id}`), String(s.articles), String(s.sources),
      s.languages.join(" "), ago(s.last_seen)]));
}

export async function showFeeds() {
  const [health, cover, pipe] = await Promise.all([
    api("/api/v1/feeds/health"), api("/api/v1/feeds/coverage"), api("/api/v1/pipeline"),
  ]);
  $("feeds-states").textContent = Object.entries(health.states).map(([k, v]) => `${v} ${k}`).join(" · ") || "no feeds";
  table($("feeds-table"), ["Feed", "State", "Last success", "Items/day", "Last error"],
    health.items.map((f) => [link(f.url, f.title || f.url), el("span", { class: `state-${f.enabled ? f.health : "disabled"}`,
      text: f.enabled ? f.health : "disabled" }), ago(f.last_success_at), String(f.items_per_day),
    el("span", { class: "error-text", text: f.last_error || "" })]));
  bars($("cover-langs"), cover.languages);
  bars($("cover-countries"), cover.countries);
  const stages = Object.entries(pipe.stages).map(([k, v]) => `${k.replace(".", " ")}: ${v}`);
  const queues = Object.entries(pipe.queues).map(([k, v]) => `queue ${k}: ${v ?? "?"}`);
  $("pipe-stages").textContent = [...stages, ...queues].join(" · ");
  const s = (v) => duration(v);
  table($("pipe-latency"), ["Stage", "n", "p50", "p90", "p95", "p99", "max"],
    pipe.latency.map((l) => [l.stage.replaceAll("_", " "), String(l.count), s(l.p50), s(l.p90), s(l.p95), s(l.p99), s(l.max)]));
}
