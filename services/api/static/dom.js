// DOM helpers. Every value from the API goes in as text (textContent / text nodes), never as HTML, and
// only http(s) URLs become links.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function isHttp(url) {
  if (typeof url !== "string") return false;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

// A link when the URL is http(s); otherwise the same text, not clickable.
export function link(url, text) {
  if (isHttp(url)) return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text ?? url);
  return el("span", { class: "nolink", title: "not an http(s) link" }, text ?? "");
}

// Text with [start, end) ranges wrapped in <mark>.
export function highlighted(text, spans, tag = "span") {
  const out = el(tag);
  let pos = 0;
  for (const [s, e] of [...(spans || [])].sort((a, b) => a[0] - b[0])) {
    if (s < pos || e <= s || e > text.length) continue;
    out.append(text.slice(pos, s), el("mark", { text: text.slice(s, e) }));
    pos = e;
  }
  out.append(text.slice(pos));
  return out;
}

// A snippet whose hits are **marked** (alert events): the same as highlighted() after splitting.
export function marked(snippet, tag = "span") {
  const spans = [];
  let plain = "";
  const parts = String(snippet || "").split("**");
  parts.forEach((part, i) => {
    if (i % 2 === 1 && i < parts.length - 1) spans.push([plain.length, plain.length + part.length]);
    plain += part;
  });
  return highlighted(plain, spans, tag);
}

export function time(iso) {
  if (!iso) return el("span", { class: "muted", text: "—" });
  const d = new Date(iso);
  return el("time", { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

export function ago(iso) {
  if (!iso) return "never";
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function table(node, headers, rows) {
  const head = el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col", text: h }))));
  const body = el("tbody");
  for (const r of rows) body.append(el("tr", {}, ...r.map((c) => el("td", {}, c ?? ""))));
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: headers.length, class: "empty", text: "Nothing yet." })));
  return clear(node, head, body);
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// A bar chart of [{label, value}] as SVG (attributes only: the CSP allows no inline style).
export function barChart(points, { height = 140, unit = "" } = {}) {
  const width = Math.max(240, points.length * 14);
  const max = Math.max(1, ...points.map((p) => p.value));
  const pad = 18;
  const bw = Math.min(28, (width - pad) / Math.max(1, points.length)); // a lone bar stays a bar
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + 16}`, class: "bars", role: "img",
    "aria-label": `${points.length} bars, highest ${max}${unit}` });
  chart.append(svg("text", { x: 0, y: 10, class: "axis" }, String(max)));
  chart.append(svg("line", { x1: pad, y1: height, x2: width, y2: height, class: "base" }));
  points.forEach((p, i) => {
    const h = Math.round((p.value / max) * (height - 14));
    const rect = svg("rect", { x: pad + i * bw + 1, y: height - h, width: Math.max(1, bw - 2), height: h, class: "bar" });
    rect.append(svg("title", {}, `${p.label}: ${p.value}${unit}`));
    chart.append(rect);
  });
  if (points.length) {
    chart.append(svg("text", { x: pad, y: height + 14, class: "axis" }, points[0].label));
    chart.append(svg("text", { x: width, y: height + 14, class: "axis end" }, points[points.length - 1].label));
  }
  return chart;
}
