"use strict";
// The dashboard's script: a static file, so the page runs under a CSP without inline script.
const keyInput = document.getElementById("key");
keyInput.value = localStorage.getItem("newswatch-key") || "";
keyInput.addEventListener("change", () => { localStorage.setItem("newswatch-key", keyInput.value); refresh(); });

function isWebLink(url) {
  try { return ["http:", "https:"].includes(new URL(url).protocol); } catch { return false; }
}
function cell(text, cls) { const td = document.createElement("td"); td.textContent = text ?? ""; if (cls) td.className = cls; return td; }
function fill(id, rows) { const tb = document.querySelector(`#${id} tbody`); tb.replaceChildren(...rows); }
function row(...cells) { const tr = document.createElement("tr"); tr.append(...cells); return tr; }

async function get(path) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${keyInput.value}` } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const [alerts, watches, feeds] = await Promise.all([get("/api/v1/alerts?limit=50"), get("/api/v1/watches"), get("/api/v1/feeds")]);
    fill("alerts", alerts.items.map(a => {
      const title = cell(""); const link = document.createElement("a");
      link.textContent = a.title; title.append(link);
      // Only http(s) links: a stored URL never becomes script (javascript:, data:) on this page.
      if (isWebLink(a.url)) { link.href = a.url; link.rel = "noopener noreferrer"; }
      const snip = document.createElement("div"); snip.className = "snippet"; snip.textContent = a.snippet; title.append(snip);
      return row(cell(new Date(a.created_at).toLocaleString()), cell(a.watch), title, cell(a.score));
    }));
    fill("watches", watches.map(w => row(cell(w.name), cell(w.enabled ? "on" : "off"))));
    fill("feeds", feeds.map(f => row(cell(f.title || f.url), cell(f.health, f.health), cell(f.last_error || ""))));
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    status.textContent = keyInput.value ? String(e.message) : "enter an API key";
  }
}
refresh();
setInterval(refresh, 10000);
