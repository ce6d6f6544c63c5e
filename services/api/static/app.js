// Newswatch dashboard: sign-in, the API helper and the view router. The key lives in sessionStorage
// (this tab only), never in persistent storage or a cookie.
import { showLive, startLive, stopLive } from "./live.js";
import { showSearch } from "./search.js";
import { showEntity, showStory } from "./entity.js";
import { showRising, showFeeds } from "./panels.js";
import { showWatches } from "./watches.js";

const KEY = "newswatch.key";
const views = ["live", "search", "entity", "story", "rising", "feeds", "watches"];
const $ = (id) => document.getElementById(id);

export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

// An error answer: the API's one error body {detail, code, position?, expected?}.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && typeof body.detail === "string" && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.position = body && typeof body.position === "number" ? body.position : null;
    this.expected = (body && body.expected) || null;
  }
}

// fetch against the API with the key; 401 signs out.
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Authorization: `Bearer ${apiKey()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    signOut("Your key was refused; sign in again.");
    throw new ApiError(401, "unauthorised");
  }
  const data = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export function setConn(text, cls = "") {
  const c = $("conn");
  c.textContent = text;
  c.className = `conn ${cls}`;
}

export function signOut(message = "") {
  sessionStorage.removeItem(KEY);
  stopLive();
  $("login-error").textContent = message;
  route();
}

async function signIn(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  try {
    await api("/api/v1/alerts?limit=1");
    $("key").value = "";
    $("login-error").textContent = "";
    if (!location.hash || location.hash === "#login") location.hash = "#live";
    route();
  } catch (e) {
    sessionStorage.removeItem(KEY);
    $("login-error").textContent = e.status === 401 ? "That key was refused." : `Cannot reach the API: ${e.message}`;
  }
}

function show(view) {
  for (const v of views) $(`view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === view);
}

export function route() {
  const signedIn = Boolean(apiKey());
  $("login").hidden = signedIn;
  $("nav").hidden = !signedIn;
  $("logout").hidden = !signedIn;
  if (!signedIn) {
    for (const v of views) $(`view-${v}`).hidden = true;
    setConn("");
    $("key").focus();
    return;
  }
  const [name, ...rest] = decodeURIComponent(location.hash.slice(1) || "live").split("/");
  const arg = rest.join("/");
  const view = views.includes(name) ? name : "live";
  show(view);
  const run = { live: showLive, search: showSearch, entity: () => showEntity(arg), story: () => showStory(arg),
    rising: showRising, feeds: showFeeds, watches: showWatches }[view];
  startLive();
  Promise.resolve(run(arg)).catch((e) => setConn(e.message, "bad"));
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", () => signOut(""));
  window.addEventListener("hashchange", route);
  route();
});
