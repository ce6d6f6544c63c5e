// An entity's page (trend chart, co-occurring entities, recent articles) and a story's timeline.
import { api } from "./app.js";
import { articleItem } from "./search.js";
import { barChart, clear, el, link, time } from "./dom.js";

const $ = (id) => document.getElementById(id);

export async function showEntity(ref) {
  const id = encodeURIComponent(ref);
  const [detail, trend, cooc, recent] = await Promise.all([
    api(`/api/v1/entities/${id}?hours=720`),
    api(`/api/v1/entities/${id}/trend?hours=720&bucket=day`),
    api(`/api/v1/entities/${id}/cooccurrence?hours=720&limit=15`),
    api(`/api/v1/articles?entity=${encodeURIComponent(ref)}&limit=10`),
  ]);
  $("entity-name").textContent = detail.name;
  $("entity-meta").textContent = [detail.label, detail.kb_id, `${detail.mentions} mentions in 30 days`].filter(Boolean).join(" · ");
  $("entity-desc").textContent = detail.description || "";
  const points = trend.buckets.map((b) => ({ label: b.start.slice(0, 10), value: b.articles }));
  clear($("entity-chart"), barChart(points, { unit: " articles" }));
  clear($("entity-cooc"), ...cooc.items.map((e) =>
    el("li", {}, el("a", { href: `#entity/${e.id}` }, e.name), el("span", { class: "count", text: String(e.articles) }))));
  if (!cooc.items.length) $("entity-cooc").append(el("li", { class: "muted", text: "Nothing yet." }));
  clear($("entity-articles"), ...recent.items.map(articleItem));
}

export async function showStory(storyId) {
  const t = await api(`/api/v1/stories/${encodeURIComponent(storyId)}`);
  const s = t.story;
  $("story-title").textContent = s.title || `Story ${s.id}`;
  const n = (k, word) => `${k} ${word}${k === 1 ? "" : "s"}`;
  $("story-meta").textContent = `${n(s.articles, "article")} · ${n(s.sources, "source")} · ${s.languages.join(", ") || "und"} · ` +
    `${new Date(s.first_seen).toLocaleString()} – ${new Date(s.last_seen).toLocaleString()}`;
  const byId = new Map(t.articles.map((a) => [a.id, a]));
  clear($("story-events"), ...t.events.map((e) => {
    if (e.kind === "alert") {
      return el("li", { class: "event alert-event" }, time(e.at), " ",
        el("span", { class: "chip", text: e.watch || "" }), el("span", { text: ` alert, score ${Number(e.score).toFixed(1)}` }));
    }
    const a = byId.get(e.article_id) || {};
    return el("li", { class: "event" }, time(e.at), " ", el("span", { class: "muted", text: `${a.host || ""} ${a.language || ""} ` }),
      link(a.url, a.title || e.title || ""));
  }));
  const ents = s.top_entities.map((e) => el("a", { href: `#entity/${e.id}`, class: "chip" }, e.name));
  $("story-events").prepend(el("li", { class: "event" }, el("span", { class: "muted", text: "Entities: " }), ...ents));
}
