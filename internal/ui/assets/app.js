// The System Log page. All state lives in the address bar in Okta's share
// link format, so a copied link reopens the same view; the page reads it on
// load and on back/forward, and writes it on every change.
import { parse, isKeywordSearch, checkKeywords, literal, addClause, FilterError } from "./filter.js";
import { LAND, WATER, pathData } from "./world.js";
import { PATHS } from "./paths.js";

const $ = (id) => document.getElementById(id);
const API = "/api/v1/logs";
const EXT = "/api/idlog/v1/";
const DOWNLOAD_CAP = 100000;
const GEO = "client.geographicalContext.geolocation";
const WORLD = { left: -180, top: 85, right: 180, bottom: -85 };
const PRESETS = { "15m": 15 * 60e3, "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3, "90d": 90 * 86400e3 };
const OUTCOME_COLORS = { SUCCESS: "#2e7d32", FAILURE: "#c62828", DENY: "#ad1457", ALLOW: "#1565c0", CHALLENGE: "#ef6c00", SKIPPED: "#6d4c41", UNKNOWN: "#757575", "": "#9e9e9e" };
// Outcome names as text need darker shades than the bars to keep 4.5:1
// contrast on white.
const OUTCOME_TEXT = { SUCCESS: "#1b5e20", FAILURE: "#b71c1c", DENY: "#880e4f", ALLOW: "#0d47a1", CHALLENGE: "#a84300", SKIPPED: "#4e342e", UNKNOWN: "#424242" };
const FACETS = [
  ["eventType", "Event types"],
  ["actor.alternateId", "Actors"],
  ["target.alternateId", "Targets"],
  ["outcome.result", "Outcomes"],
  ["client.geographicalContext.country", "Countries"],
];

// perf records when the last search started and when its first page was
// painted; the browser benchmark reads it.
window.idlogPerf = { start: 0, painted: 0, rows: 0, runs: 0 };

const state = {
  search: "", from: 0, to: 0, locale: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  limit: 20, view: "list", order: "DESCENDING", box: { ...WORLD }, mapZoom: 2, preset: "",
};
let catalog = new Map(); // event type name → catalog entry
let run = { id: 0, ctrl: null, next: null, loading: false, count: 0 };

// ---------- URL state ----------

function num(v, d) { const n = Number(v); return v !== null && v !== "" && Number.isFinite(n) ? n : d; }

function readURL() {
  const p = new URLSearchParams(location.search);
  state.search = p.get("search") || "";
  const now = Date.now();
  const from = Date.parse(p.get("fromTime") || "");
  const to = Date.parse(p.get("toTime") || "");
  state.preset = "";
  if (Number.isFinite(from) && Number.isFinite(to)) { state.from = from; state.to = to; }
  else { state.to = now; state.from = now - PRESETS["7d"]; state.preset = "7d"; }
  const tz = p.get("locale");
  if (tz && validZone(tz)) state.locale = tz;
  state.limit = Math.min(Math.max(Math.trunc(num(p.get("limit"), 20)), 1), 1000);
  state.view = p.get("view") === "map" ? "map" : "list";
  state.order = p.get("sortOrder") === "ASCENDING" ? "ASCENDING" : "DESCENDING";
  state.box = {
    left: num(p.get("topLeftLongitude"), WORLD.left), top: num(p.get("topLeftLatitude"), WORLD.top),
    right: num(p.get("bottomRightLongitude"), WORLD.right), bottom: num(p.get("bottomRightLatitude"), WORLD.bottom),
  };
  state.mapZoom = num(p.get("mapZoom"), 2);
}

// enc encodes like Okta's links: spaces as +, quotes and parentheses left
// readable.
function enc(v) { return encodeURIComponent(v).replace(/%20/g, "+").replace(/%22/g, '"'); }

function stateQuery() {
  const parts = [
    ["search", state.search], ["fromTime", iso(state.from)], ["toTime", iso(state.to)],
    ["locale", state.locale], ["limit", state.limit], ["view", state.view],
    ["topLeftLongitude", state.box.left], ["topLeftLatitude", state.box.top],
    ["bottomRightLongitude", state.box.right], ["bottomRightLatitude", state.box.bottom],
    ["mapZoom", state.mapZoom],
  ];
  if (state.order === "ASCENDING") parts.push(["sortOrder", "ASCENDING"]);
  return parts.map(([k, v]) => `${k}=${k === "search" ? enc(String(v)) : encodeURIComponent(String(v))}`).join("&");
}

function writeURL(push) {
  const url = location.pathname + "?" + stateQuery();
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
}

// iso prints a time as Okta's links do: whole seconds without a fraction.
function iso(ms) { const s = new Date(ms).toISOString(); return s.endsWith(".000Z") ? s.slice(0, -5) + "Z" : s; }

// ---------- time zones ----------

function validZone(tz) { try { new Intl.DateTimeFormat("en", { timeZone: tz }); return true; } catch { return false; } }

const fmtCache = new Map();
function zoneParts(ms, tz) {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    fmtCache.set(tz, f);
  }
  const o = {};
  for (const p of f.formatToParts(new Date(ms))) o[p.type] = p.value;
  return o;
}

// wall prints ms as the wall-clock time in tz (for datetime-local inputs).
function wall(ms, tz) { const o = zoneParts(ms, tz); return `${o.year}-${o.month}-${o.day}T${o.hour}:${o.minute}:${o.second}`; }

// fromWall reads a wall-clock time in tz; it corrects the guess by the zone
// offset twice so the answer is right across offset changes.
function fromWall(s, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(s);
  if (!m) return NaN;
  const want = Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let t = want;
  for (let i = 0; i < 2; i++) {
    const o = zoneParts(t, tz);
    const got = Date.UTC(+o.year, o.month - 1, +o.day, +o.hour, +o.minute, +o.second);
    t += want - got;
  }
  return t;
}

function showTime(ms) {
  const o = zoneParts(ms, state.locale);
  return `${o.year}-${o.month}-${o.day} ${o.hour}:${o.minute}:${o.second}`;
}

// ---------- the effective query ----------

// validate checks the search box; it returns {filter, q} or throws a
// FilterError. Nothing is sent while it throws.
function validate(text) {
  const t = text.trim();
  if (t === "") return { filter: "", q: "" };
  if (isKeywordSearch(t)) {
    const err = checkKeywords(text);
    if (err) throw err;
    return { filter: "", q: t.split(/\s+/).join(" ") };
  }
  parse(text);
  return { filter: text, q: "" };
}

function boxFilter() {
  const b = state.box;
  return `${GEO}.lat le ${b.top} and ${GEO}.lat ge ${b.bottom} and ${GEO}.lon ge ${b.left} and ${GEO}.lon le ${b.right}`;
}

// params returns the API parameters of the current state. The map's
// bounding box restricts the results only in the map view.
function params(v) {
  const p = new URLSearchParams();
  p.set("since", new Date(state.from).toISOString());
  p.set("until", new Date(state.to).toISOString());
  let f = v.filter.trim();
  if (state.view === "map") f = f ? `(${f}) and ${boxFilter()}` : boxFilter();
  if (f) p.set("filter", f);
  if (v.q) p.set("q", v.q);
  return p;
}

// ---------- fetching ----------

class APIError extends Error {
  constructor(status, body) {
    super(body && body.errorSummary ? body.errorSummary : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function getJSON(url, signal, headers) {
  const r = await fetch(url, { signal, credentials: "same-origin", headers: { Accept: "application/json", ...(headers || {}) } });
  if (r.status === 401) { signIn(); throw new APIError(401, null); }
  let body = null;
  try { body = await r.json(); } catch { body = null; }
  if (!r.ok) throw new APIError(r.status, body);
  return { body, next: nextLink(r.headers.get("link")) };
}

function signIn() { location.assign("/signin?next=" + encodeURIComponent(location.pathname + location.search)); }

// nextLink finds rel="next" among the Link header lines (fetch joins them
// with commas) and keeps only its path, so the page follows it on its own
// origin whatever host the server put in it.
function nextLink(h) {
  if (!h) return null;
  const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(h);
  if (!m) return null;
  const u = new URL(m[1], location.href);
  return u.pathname + u.search;
}

// ---------- running a search ----------

function showError(err, text) {
  const box = $("search-error");
  const ta = $("search");
  if (!err) { box.hidden = true; box.textContent = ""; ta.removeAttribute("aria-invalid"); return; }
  ta.setAttribute("aria-invalid", "true");
  box.hidden = false;
  box.textContent = "";
  if (err instanceof FilterError) {
    const before = text.slice(0, err.pos);
    const line = before.split("\n").length;
    const col = err.pos - before.lastIndexOf("\n");
    const head = document.createElement("div");
    head.textContent = `Line ${line}, column ${col}: ${err.message}` + (err.expected ? `. Expected: ${err.expected}` : "");
    const pre = document.createElement("pre");
    const ls = text.lastIndexOf("\n", err.pos - 1) + 1;
    let le = text.indexOf("\n", err.pos);
    if (le < 0) le = text.length;
    const mark = document.createElement("mark");
    mark.textContent = text.slice(err.pos, Math.min(Math.max(err.end, err.pos + 1), le)) || " ";
    pre.append(text.slice(ls, err.pos), mark, text.slice(err.pos + mark.textContent.length, le));
    box.append(head, pre);
    box.dataset.pos = String(err.pos);
  } else {
    box.textContent = err.message;
    const causes = err.body && err.body.errorCauses;
    if (causes && causes.length) {
      const ul = document.createElement("ul");
      for (const c of causes) { const li = document.createElement("li"); li.textContent = c.errorSummary; ul.append(li); }
      box.append(ul);
    }
    delete box.dataset.pos;
  }
}

// search runs the current state: validate first (no request on a syntax
// error), then the list, the counts, the histogram and the map.
function search(push) {
  const text = state.search;
  let v;
  try { v = validate(text); } catch (err) {
    showError(err, text);
    return false;
  }
  showError(null);
  writeURL(push);
  syncControls();
  if (run.ctrl) run.ctrl.abort();
  const ctrl = new AbortController();
  run = { id: run.id + 1, ctrl, next: null, loading: false, count: 0, v };
  const id = run.id;
  const p = params(v);
  $("rows").textContent = "";
  $("list-status").textContent = "Loading…";
  $("more").hidden = true;
  $("count").textContent = "";
  if (state.view === "map") { $("histogram").hidden = true; $("map").hidden = false; drawMap(); }
  else { $("map").hidden = true; $("histogram").hidden = false; }
  // The list goes first and alone: the aggregates scan the whole range and
  // would compete with it for the server, and the list is what the analyst
  // reads first.
  loadPage(`${API}?${p}&sortOrder=${state.order}&limit=${state.limit}`, id, true).then(() => {
    if (id !== run.id) return;
    loadCount(p, id);
    loadFacets(p, id);
    if (state.view === "map") loadMapPoints(p, id); else loadHistogram(p, id);
  });
  return true;
}

async function loadPage(url, id, first) {
  if (run.loading) return;
  run.loading = true;
  try {
    const { body, next } = await getJSON(url, run.ctrl.signal);
    if (id !== run.id) return;
    if (first) window.idlogPerf.fetched = performance.now();
    const frag = document.createDocumentFragment();
    for (const e of body || []) frag.append(renderRow(e));
    $("rows").append(frag);
    if (first) window.idlogPerf.built = performance.now();
    run.count += (body || []).length;
    // Okta's polling pages always carry next; an empty page ends the list.
    run.next = body && body.length ? next : null;
    $("list-status").textContent = run.count === 0 ? "No events match." : run.next ? `${run.count} events shown; scroll for more.` : `All ${run.count} events shown.`;
    if (first && run.count === 0) heldRangeHint(id);
    $("more").hidden = !run.next;
    if (first) {
      // Wait for the frame that shows the rows (a task queued from a frame
      // callback runs after that frame is painted) before anything else
      // asks the server for work.
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      if (id !== run.id) return;
      window.idlogPerf.painted = performance.now();
      window.idlogPerf.rows = run.count;
      window.idlogPerf.runs++;
    }
  } catch (err) {
    if (err.name === "AbortError" || id !== run.id) return;
    $("list-status").textContent = "";
    showError(err, state.search);
  } finally {
    if (id === run.id) run.loading = false;
  }
  if (id === run.id) maybeMore();
}

// heldRangeHint: when the range shows no events and lies outside what the
// store holds (a shared link with fixed dates, an old bookmark), say which
// range the store does hold and offer to move there, keeping the range's
// length (cut to what is held).
async function heldRangeHint(id) {
  let s;
  try { ({ body: s } = await getJSON(`${EXT}stats`)); } catch { return; }
  if (id !== run.id || !s || !s.events || !s.oldest || !s.newest) return;
  const oldest = Date.parse(s.oldest), newest = Date.parse(s.newest);
  if (state.from <= newest && state.to > oldest) return; // it overlaps: the filter matched nothing
  const fmt = (t) => new Date(t).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  const box = $("list-status");
  box.textContent = `No events between ${fmt(state.from)} and ${fmt(state.to)}: the store holds events from ${fmt(oldest)} to ${fmt(newest)}. `;
  const b = el("button", "secondary move-range", "Move to the newest events held");
  b.type = "button";
  b.id = "move-range";
  b.addEventListener("click", () => {
    const to = newest + 1000;
    setRange(Math.max(oldest, to - (state.to - state.from)), to);
  });
  box.append(b);
}

function maybeMore() {
  if (!run.next || run.loading) return;
  const r = $("sentinel").getBoundingClientRect();
  if (r.top < innerHeight + 200) loadPage(run.next, run.id, false);
}

async function loadCount(p, id) {
  try {
    const { body } = await getJSON(`${EXT}count?${p}`, run.ctrl.signal);
    if (id !== run.id) return;
    const n = typeof body === "number" ? body : body && body.count;
    $("count").textContent = n === undefined ? "" : `${Number(n).toLocaleString("en")} events`;
  } catch { /* the list shows errors */ }
}

// ---------- rows ----------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// val renders a value that filters by path when clicked.
function val(path, value, text) {
  const b = el("button", "v", text === undefined ? value : text);
  b.type = "button";
  b.dataset.path = path;
  b.dataset.value = JSON.stringify(value);
  b.title = `Filter: ${path} eq ${literal(value)} (Shift or Alt: exclude)`;
  return b;
}

function renderRow(e) {
  const tr = el("tr", "ev");
  tr.dataset.uuid = e.uuid;
  const tdx = el("td");
  const x = el("button", "expand", "▸");
  x.type = "button";
  x.setAttribute("aria-expanded", "false");
  x.setAttribute("aria-label", "Show the whole event");
  tdx.append(x);
  const t = Date.parse(e.published);
  const tdt = el("td", "time");
  const time = el("time", null, Number.isFinite(t) ? showTime(t) : e.published);
  time.dateTime = e.published;
  tdt.append(time);

  const a = e.actor || {};
  const tda = el("td");
  if (a.displayName) tda.append(val("actor.displayName", a.displayName), el("br"));
  if (a.alternateId) tda.append(val("actor.alternateId", a.alternateId), el("br"));
  if (a.id) { const b = val("actor.id", a.id, `${a.id}${a.type ? " (" + a.type + ")" : ""}`); b.classList.add("small"); tda.append(b); }

  const tde = el("td");
  tde.append(val("eventType", e.eventType));
  const cat = catalog.get(e.eventType);
  if (cat && cat.description) tde.append(el("div", "muted desc", cat.description));
  if (e.displayMessage) tde.append(el("div", null, e.displayMessage));

  const o = e.outcome || {};
  const tdo = el("td");
  if (o.result) { const b = val("outcome.result", o.result); b.classList.add("outcome"); b.style.color = OUTCOME_TEXT[o.result] || ""; tdo.append(b); }
  if (o.reason) tdo.append(el("div", "muted", o.reason));

  const c = e.client || {};
  const g = c.geographicalContext || {};
  const tdc = el("td");
  if (c.ipAddress) tdc.append(val("client.ipAddress", c.ipAddress), el("br"));
  const place = [];
  if (g.city) place.push(val("client.geographicalContext.city", g.city));
  if (g.country) place.push(val("client.geographicalContext.country", g.country));
  place.forEach((p, i) => { if (i) tdc.append(", "); tdc.append(p); });

  const tdg = el("td");
  for (const tg of Array.isArray(e.target) ? e.target : []) {
    const d = el("div", "target");
    d.append(val("target.id", tg.id ?? "", tg.displayName || tg.alternateId || tg.id || "?"));
    if (tg.type) d.append(" ", el("span", "muted", `(${tg.type})`));
    tdg.append(d);
  }
  const labels = ["", "Time", "Actor", "Event info", "Outcome", "Client", "Targets"];
  [tdx, tdt, tda, tde, tdo, tdc, tdg].forEach((td, i) => { if (labels[i]) td.dataset.label = labels[i]; tr.append(td); });
  tr._event = e;
  return tr;
}

function toggleRow(tr, btn) {
  const open = btn.getAttribute("aria-expanded") === "true";
  if (open) {
    tr.nextElementSibling?.classList.contains("detail") && tr.nextElementSibling.remove();
    btn.setAttribute("aria-expanded", "false");
    btn.textContent = "▸";
    return;
  }
  const d = el("tr", "detail");
  const td = el("td");
  td.colSpan = 7;
  td.append(tree(tr._event, ""));
  d.append(td);
  tr.after(d);
  btn.setAttribute("aria-expanded", "true");
  btn.textContent = "▾";
}

// tree renders an event as nested lists. Array elements share their
// parent's path: the filter language fans out over arrays.
function tree(v, path) {
  const ul = el("ul", "tree");
  const entries = Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x]) : Object.entries(v);
  for (const [k, x] of entries) {
    const p = Array.isArray(v) ? path : path ? `${path}.${k}` : k;
    const li = el("li");
    li.append(el("span", "key", k), ": ");
    if (x === null || x === undefined) li.append(el("span", "muted", "null"));
    else if (typeof x === "object") {
      if (Object.keys(x).length === 0) li.append(el("span", "muted", Array.isArray(x) ? "[]" : "{}"));
      else li.append(tree(x, p));
    } else if (/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(p)) li.append(val(p, x, typeof x === "string" ? x : String(x)));
    else li.append(el("span", null, String(x)));
    ul.append(li);
  }
  return ul;
}

// ---------- click to filter ----------

function addFilter(path, value, negate) {
  const clause = negate ? `not (${path} eq ${literal(value)})` : `${path} eq ${literal(value)}`;
  let cur = state.search.trim();
  if (cur && isKeywordSearch(cur)) cur = ""; // keywords cannot be combined with a filter
  state.search = addClause(cur, clause);
  $("search").value = state.search;
  search(true);
}

document.addEventListener("click", (ev) => {
  const b = ev.target.closest("button.v");
  if (b) { addFilter(b.dataset.path, JSON.parse(b.dataset.value), ev.shiftKey || ev.altKey); return; }
  const x = ev.target.closest("button.expand");
  if (x) toggleRow(x.closest("tr"), x);
});

// ---------- counts by category ----------

async function loadFacets(p, id) {
  const box = $("facets");
  box.textContent = "";
  const blocks = FACETS.map(([field, title]) => {
    const s = el("section", "facet");
    s.append(el("h3", null, title));
    const ul = el("ul");
    s.append(ul);
    box.append(s);
    return [field, ul];
  });
  await Promise.all(blocks.map(async ([field, ul]) => {
    try {
      const { body } = await getJSON(`${EXT}top?${p}&field=${encodeURIComponent(field)}&n=8`, run.ctrl.signal);
      if (id !== run.id) return;
      const max = Math.max(1, ...body.map((r) => r.count));
      for (const r of body) {
        const li = el("li");
        const b = val(field, r.value, r.value === "" ? "(empty)" : r.value);
        const bar = el("span", "bar");
        bar.style.width = `${(100 * r.count) / max}%`;
        li.append(b, el("span", "n", r.count.toLocaleString("en")), bar);
        ul.append(li);
      }
      if (!body.length) ul.append(el("li", "muted", "none"));
    } catch (err) {
      if (err.name !== "AbortError") ul.append(el("li", "muted", "unavailable"));
    }
  }));
}

// ---------- histogram ----------

const STEPS = [[60e3, "1m"], [300e3, "5m"], [900e3, "15m"], [1800e3, "30m"], [3600e3, "1h"], [3 * 3600e3, "3h"], [6 * 3600e3, "6h"], [12 * 3600e3, "12h"], [86400e3, "24h"], [7 * 86400e3, "168h"]];

function pickStep() {
  const span = state.to - state.from;
  for (const s of STEPS) if (span / s[0] <= 90) return s;
  return STEPS[STEPS.length - 1];
}

const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

async function loadHistogram(p, id) {
  const [ms, step] = pickStep();
  try {
    const { body } = await getJSON(`${EXT}histogram?${p}&step=${step}`, run.ctrl.signal);
    if (id !== run.id) return;
    drawHistogram(body || [], ms);
  } catch (err) {
    if (err.name !== "AbortError" && id === run.id) drawHistogram([], ms);
  }
}

let hist = { buckets: [], step: 0 };
function drawHistogram(buckets, step) {
  hist = { buckets, step };
  const s = $("hist-svg");
  const W = s.clientWidth || 800, H = 140, pad = 22;
  s.setAttribute("viewBox", `0 0 ${W} ${H}`);
  while (s.childNodes.length > 1) s.lastChild.remove();
  const span = Math.max(1, state.to - state.from);
  const x = (t) => ((t - state.from) / span) * W;
  const outcomes = new Set();
  let max = 1;
  for (const b of buckets) {
    let sum = 0;
    for (const [k, n] of Object.entries(b.counts || {})) { outcomes.add(k); sum += n; }
    max = Math.max(max, sum);
  }
  const order = [...outcomes].sort();
  for (const b of buckets) {
    const t = Date.parse(b.start);
    const x0 = Math.max(0, x(t)), x1 = Math.min(W, x(t + step));
    let y = H - pad;
    for (const k of order) {
      const n = (b.counts || {})[k] || 0;
      if (!n) continue;
      const h = ((H - pad - 4) * n) / max;
      const r = svg("rect", { x: x0, y: y - h, width: Math.max(1, x1 - x0 - 1), height: h, fill: OUTCOME_COLORS[k] || "#607d8b" });
      r.append(svg("title"));
      r.firstChild.textContent = `${showTime(t)}: ${n} ${k || "no outcome"}`;
      s.append(r);
      y -= h;
    }
  }
  s.append(svg("line", { x1: 0, y1: H - pad, x2: W, y2: H - pad, stroke: "#555" }));
  const ticks = Math.max(1, Math.min(4, Math.floor(W / 160)));
  for (let i = 0; i <= ticks; i++) {
    const t = state.from + (span * i) / ticks;
    const lbl = svg("text", { x: Math.min(Math.max(x(t), 2), W - 2), y: H - 6, "font-size": 11, "text-anchor": i === 0 ? "start" : i === ticks ? "end" : "middle", fill: "#333" });
    lbl.textContent = showTime(t).slice(0, 16);
    s.append(lbl);
  }
  const top = svg("text", { x: 2, y: 11, "font-size": 11, fill: "#333" });
  top.textContent = `${max.toLocaleString("en")} per ${STEPS.find((q) => q[0] === step)?.[1] || ""}`;
  s.append(top);
  const leg = $("hist-legend");
  leg.textContent = "";
  for (const k of order) {
    const sw = el("span", "swatch");
    sw.style.background = OUTCOME_COLORS[k] || "#607d8b";
    leg.append(sw, el("span", null, k || "no outcome"), " ");
  }
}

// setRange moves the range (from a drag or the keyboard) and searches.
function setRange(a, b) {
  state.from = Math.floor(a / 1000) * 1000;
  state.to = Math.ceil(b / 1000) * 1000;
  state.preset = "custom";
  search(true);
}

// Dragging across the histogram narrows the range to the dragged span; from
// the keyboard, + and − halve or double the range about its middle and the
// arrows move it by a quarter.
function setupHistogramDrag() {
  const s = $("hist-svg");
  s.addEventListener("keydown", (ev) => {
    const span = state.to - state.from, mid = state.from + span / 2;
    const k = ev.key;
    if (k === "+" || k === "=") setRange(mid - span / 4, mid + span / 4);
    else if (k === "-") setRange(mid - span, mid + span);
    else if (k === "ArrowLeft") setRange(state.from - span / 4, state.to - span / 4);
    else if (k === "ArrowRight") setRange(state.from + span / 4, state.to + span / 4);
    else return;
    ev.preventDefault();
  });
  let start = null, rect = null;
  const timeAt = (ev) => {
    const r = s.getBoundingClientRect();
    const f = Math.min(Math.max((ev.clientX - r.left) / r.width, 0), 1);
    return [state.from + f * (state.to - state.from), f * (s.viewBox.baseVal.width || r.width)];
  };
  s.addEventListener("pointerdown", (ev) => {
    start = timeAt(ev);
    s.setPointerCapture(ev.pointerId);
    rect = svg("rect", { x: start[1], y: 0, width: 0, height: 118, fill: "rgba(21,101,192,0.2)", class: "sel" });
    s.append(rect);
  });
  s.addEventListener("pointermove", (ev) => {
    if (!start) return;
    const [, px] = timeAt(ev);
    rect.setAttribute("x", Math.min(px, start[1]));
    rect.setAttribute("width", Math.abs(px - start[1]));
  });
  s.addEventListener("pointerup", (ev) => {
    if (!start) return;
    const [t] = timeAt(ev);
    const a = Math.min(t, start[0]), b = Math.max(t, start[0]);
    start = null;
    rect.remove();
    if (b - a < 1000 || (b - a) / (state.to - state.from) < 0.005) return;
    setRange(a, b);
  });
}

// ---------- map ----------

function mapSize() { const s = $("map-svg"); return [s.clientWidth || 800, s.clientHeight || 400]; }

function drawMap(points) {
  const s = $("map-svg");
  const b = state.box;
  s.setAttribute("viewBox", `${b.left} ${-b.top} ${b.right - b.left} ${b.top - b.bottom}`);
  s.setAttribute("preserveAspectRatio", "none");
  if (!s.querySelector(".land")) {
    s.append(svg("rect", { x: -540, y: -90, width: 1080, height: 180, class: "sea" }));
    s.append(svg("path", { d: pathData(LAND), class: "land", "vector-effect": "non-scaling-stroke" }));
    s.append(svg("path", { d: pathData(WATER), class: "sea", "vector-effect": "non-scaling-stroke" }));
    s.append(svg("g", { class: "pins" }));
  }
  if (points) {
    const g = s.querySelector(".pins");
    g.textContent = "";
    const [W] = mapSize();
    const r = (5 * (b.right - b.left)) / W;
    for (const p of points) {
      const c = svg("ellipse", { cx: p.lon, cy: -p.lat, rx: r, ry: r * ((b.top - b.bottom) / (b.right - b.left)) * (W / mapSize()[1]), class: p.fail ? "pin fail" : "pin" });
      const t = svg("title");
      t.textContent = `${p.n} event${p.n > 1 ? "s" : ""} at ${p.place}`;
      c.append(t);
      g.append(c);
    }
  }
  $("map-box").textContent = `Box: lat ${b.bottom.toFixed(2)}…${b.top.toFixed(2)}, lon ${b.left.toFixed(2)}…${b.right.toFixed(2)} · zoom ${state.mapZoom}`;
}

async function loadMapPoints(p, id) {
  try {
    const { body } = await getJSON(`${API}?${p}&sortOrder=DESCENDING&limit=1000`, run.ctrl.signal);
    if (id !== run.id) return;
    const by = new Map();
    for (const e of body || []) {
      const g = e.client?.geographicalContext;
      const loc = g?.geolocation;
      if (!loc || typeof loc.lat !== "number" || typeof loc.lon !== "number") continue;
      const k = `${loc.lat.toFixed(2)},${loc.lon.toFixed(2)}`;
      const q = by.get(k) || { lat: loc.lat, lon: loc.lon, n: 0, fail: false, place: [g.city, g.country].filter(Boolean).join(", ") || k };
      q.n++;
      if (e.outcome?.result === "FAILURE" || e.outcome?.result === "DENY") q.fail = true;
      by.set(k, q);
    }
    drawMap([...by.values()]);
  } catch { /* the list shows errors */ }
}

function clampBox(b) {
  const w = Math.min(b.right - b.left, 360), h = Math.min(b.top - b.bottom, 170);
  let left = Math.min(Math.max(b.left, -180), 180 - w);
  let top = Math.max(Math.min(b.top, 85), -85 + h);
  const r = (v) => Math.round(v * 1e6) / 1e6;
  return { left: r(left), top: r(top), right: r(left + w), bottom: r(top - h) };
}

let mapTimer = 0;
function mapChanged(push) {
  drawMap();
  clearTimeout(mapTimer);
  mapTimer = setTimeout(() => search(push), 250);
}

function zoomMap(f, cx, cy) {
  const b = state.box;
  const x = cx ?? (b.left + b.right) / 2, y = cy ?? (b.top + b.bottom) / 2;
  state.box = clampBox({ left: x - (x - b.left) * f, right: x + (b.right - x) * f, top: y + (b.top - y) * f, bottom: y - (y - b.bottom) * f });
  state.mapZoom = Math.max(0, Math.round((state.mapZoom - Math.log2(f)) * 100) / 100);
  mapChanged(true);
}

function panMap(dx, dy) {
  const b = state.box;
  state.box = clampBox({ left: b.left + dx, right: b.right + dx, top: b.top + dy, bottom: b.bottom + dy });
  mapChanged(true);
}

function setupMap() {
  const s = $("map-svg");
  let drag = null;
  s.addEventListener("pointerdown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, box: { ...state.box } }; s.setPointerCapture(ev.pointerId); });
  s.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const [W, H] = mapSize();
    const b = drag.box;
    const dx = (-(ev.clientX - drag.x) * (b.right - b.left)) / W;
    const dy = ((ev.clientY - drag.y) * (b.top - b.bottom)) / H;
    state.box = clampBox({ left: b.left + dx, right: b.right + dx, top: b.top + dy, bottom: b.bottom + dy });
    drawMap();
  });
  s.addEventListener("pointerup", (ev) => {
    if (!drag) return;
    const moved = Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 2;
    drag = null;
    if (moved) mapChanged(true);
  });
  s.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = s.getBoundingClientRect(), b = state.box;
    const cx = b.left + ((ev.clientX - r.left) / r.width) * (b.right - b.left);
    const cy = b.top - ((ev.clientY - r.top) / r.height) * (b.top - b.bottom);
    zoomMap(ev.deltaY > 0 ? 2 : 0.5, cx, cy);
  }, { passive: false });
  s.addEventListener("keydown", (ev) => {
    const b = state.box, sx = (b.right - b.left) / 8, sy = (b.top - b.bottom) / 8;
    const k = { ArrowLeft: [-sx, 0], ArrowRight: [sx, 0], ArrowUp: [0, sy], ArrowDown: [0, -sy] }[ev.key];
    if (k) { ev.preventDefault(); panMap(k[0], k[1]); }
    else if (ev.key === "+" || ev.key === "=") zoomMap(0.5);
    else if (ev.key === "-") zoomMap(2);
  });
  $("zoom-in").addEventListener("click", () => zoomMap(0.5));
  $("zoom-out").addEventListener("click", () => zoomMap(2));
  $("zoom-reset").addEventListener("click", () => { state.box = { ...WORLD }; state.mapZoom = 2; mapChanged(true); });
}

// ---------- controls ----------

function syncControls() {
  if ($("search").value !== state.search) $("search").value = state.search;
  $("from").value = wall(state.from, state.locale);
  $("to").value = wall(state.to, state.locale);
  $("tz").value = state.locale;
  $("order").value = state.order;
  $("preset").value = state.preset && state.preset in PRESETS ? state.preset : "custom";
  for (const r of document.querySelectorAll('input[name="view"]')) r.checked = r.value === state.view;
}

function setupControls() {
  const ta = $("search");
  $("query-form").addEventListener("submit", (ev) => { ev.preventDefault(); submitSearch(); });
  ta.addEventListener("keydown", (ev) => {
    if (suggestKey(ev)) return;
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submitSearch(); }
  });
  ta.addEventListener("input", () => { showError(null); suggest(); });
  ta.addEventListener("blur", () => setTimeout(closeSuggest, 150));
  $("preset").addEventListener("change", () => {
    const v = $("preset").value;
    if (v in PRESETS) { state.to = Date.now(); state.from = state.to - PRESETS[v]; state.preset = v; search(true); }
  });
  const custom = () => {
    const f = fromWall($("from").value, state.locale), t = fromWall($("to").value, state.locale);
    if (!Number.isFinite(f) || !Number.isFinite(t) || f >= t) { showError(new Error("The range needs a From time before its To time.")); return; }
    state.from = f; state.to = t; state.preset = "custom";
    search(true);
  };
  $("from").addEventListener("change", custom);
  $("to").addEventListener("change", custom);
  $("tz").addEventListener("change", () => {
    const tz = $("tz").value.trim();
    if (!validZone(tz)) { showError(new Error(`Unknown time zone "${tz}"; pick one from the list (an IANA name such as Europe/Paris).`)); return; }
    state.locale = tz;
    search(true);
  });
  $("order").addEventListener("change", () => { state.order = $("order").value; search(true); });
  for (const r of document.querySelectorAll('input[name="view"]')) {
    r.addEventListener("change", () => { state.view = r.value; search(true); });
  }
  $("more").addEventListener("click", () => run.next && loadPage(run.next, run.id, false));
  new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) maybeMore(); }).observe($("sentinel"));
  const dl = $("tz-list");
  for (const z of (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : ["UTC"])) { const o = el("option"); o.value = z; dl.append(o); }
  $("dl-start").addEventListener("click", download);
  window.addEventListener("popstate", () => { readURL(); syncControls(); search(false); });
  window.addEventListener("resize", () => { if (state.view === "list") drawHistogram(hist.buckets, hist.step); });
}

function submitSearch() {
  window.idlogPerf.start = performance.now();
  window.idlogPerf.painted = 0;
  state.search = $("search").value;
  closeSuggest();
  search(true);
}

// ---------- suggestions ----------

let sugg = { items: [], active: -1, from: 0, to: 0 };

function closeSuggest() { $("suggest").hidden = true; $("search").setAttribute("aria-expanded", "false"); $("search").removeAttribute("aria-activedescendant"); sugg.items = []; }

// suggest offers attribute paths for the word at the caret, and event
// types inside the string after "eventType <op>".
function suggest() {
  const ta = $("search");
  const pos = ta.selectionStart, text = ta.value;
  const before = text.slice(0, pos);
  let items = [], from = pos;
  const str = /eventType\s+(eq|ne|sw|co|ew)\s+"([^"]*)$/i.exec(before);
  if (str) {
    const pre = str[2];
    from = pos - pre.length;
    items = [...catalog.keys()].filter((n) => n.startsWith(pre)).slice(0, 12).map((n) => ({ label: n, insert: n + '"', note: catalog.get(n).description || "" }));
  } else {
    const m = /[A-Za-z_][A-Za-z0-9_.]*$/.exec(before);
    const quotes = (before.match(/"/g) || []).length;
    if (m && quotes % 2 === 0) {
      const w = m[0];
      from = pos - w.length;
      const lw = w.toLowerCase();
      items = PATHS.filter((p) => p.toLowerCase().startsWith(lw) && p !== w).slice(0, 12).map((p) => ({ label: p, insert: p + " " }));
    }
  }
  sugg = { items, active: -1, from, to: pos };
  const ul = $("suggest");
  ul.textContent = "";
  if (!items.length) { closeSuggest(); return; }
  items.forEach((it, i) => {
    const li = el("li", null, it.label);
    li.id = `sugg-${i}`;
    li.setAttribute("role", "option");
    if (it.note) li.append(el("span", "muted", " " + it.note));
    li.addEventListener("mousedown", (ev) => { ev.preventDefault(); accept(i); });
    ul.append(li);
  });
  sugg.items = items;
  ul.hidden = false;
  ta.setAttribute("aria-expanded", "true");
}

function suggestKey(ev) {
  if ($("suggest").hidden || !sugg.items.length) return false;
  const n = sugg.items.length;
  if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    ev.preventDefault();
    sugg.active = (sugg.active + (ev.key === "ArrowDown" ? 1 : -1) + n) % n;
    [...$("suggest").children].forEach((li, i) => li.setAttribute("aria-selected", String(i === sugg.active)));
    $("search").setAttribute("aria-activedescendant", `sugg-${sugg.active}`);
    return true;
  }
  if ((ev.key === "Enter" || ev.key === "Tab") && sugg.active >= 0) { ev.preventDefault(); accept(sugg.active); return true; }
  if (ev.key === "Escape") { ev.preventDefault(); closeSuggest(); return true; }
  return false;
}

function accept(i) {
  const ta = $("search"), it = sugg.items[i];
  ta.setRangeText(it.insert, sugg.from, sugg.to, "end");
  closeSuggest();
  ta.focus();
}

// ---------- scenarios and event types ----------

const PARAM_LABEL = { user: "User ID", ip: "IP address", session: "External session ID" };

async function loadScenarios() {
  const box = $("scenarios");
  try {
    const { body } = await getJSON(`${EXT}scenarios`);
    for (const s of body || []) {
      const f = el("form", "scenario");
      const id = `sc-${s.name}`;
      f.append(el("h3", null, s.title || s.name));
      if (s.description) f.append(el("p", "muted", s.description));
      const lab = el("label", null, PARAM_LABEL[s.param] || s.param || "Value");
      lab.htmlFor = id;
      const inp = el("input");
      inp.id = id;
      inp.name = s.param || "value";
      inp.required = true;
      const b = el("button", null, "Fill the query");
      b.type = "submit";
      f.append(lab, inp, b);
      f.addEventListener("submit", (ev) => {
        ev.preventDefault();
        state.search = fillTemplate(s.template || "", inp.value.trim());
        $("search").value = state.search;
        search(true);
        $("search").focus();
      });
      box.append(f);
    }
  } catch (err) { box.append(el("p", "muted", `Scenarios unavailable: ${err.message}`)); }
}

// ---------- saved searches ----------

const meta = (n) => (document.querySelector(`meta[name="${n}"]`) || {}).content || "";
const ROLE = meta("idlog-role");
const USER = meta("idlog-user");
const CSRF = meta("idlog-csrf");

// sendJSON makes a state-changing call with the session's CSRF token.
async function sendJSON(method, url, body) {
  const r = await fetch(url, { method, credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-Idlog-Csrf": CSRF },
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) { signIn(); throw new APIError(401, null); }
  let b = null;
  try { b = await r.json(); } catch { b = null; }
  if (!r.ok) throw new APIError(r.status, b && b.errorCauses && b.errorCauses.length ? { errorSummary: b.errorCauses.map((c) => c.errorSummary).join(" ") } : b);
  return b;
}

function rangeMs(r) {
  const m = /^(\d+)([mhd])$/.exec(r || "");
  return m ? Number(m[1]) * { m: 60e3, h: 3600e3, d: 86400e3 }[m[2]] : PRESETS["24h"];
}

function currentRange() {
  if (state.preset && state.preset in PRESETS) return state.preset;
  return `${Math.max(1, Math.round((state.to - state.from) / 3600e3))}h`;
}

function applySaved(s) {
  state.search = s.filter || s.q || "";
  $("search").value = state.search;
  state.to = Date.now();
  state.from = state.to - rangeMs(s.range);
  state.preset = s.range in PRESETS ? s.range : "custom";
  syncControls();
}

async function loadSaved() {
  const box = $("saved");
  box.textContent = "";
  try {
    const { body } = await getJSON(`${EXT}searches`);
    if (!body || !body.length) { box.append(el("p", "muted", "No saved searches yet.")); return; }
    const ul = el("ul", "saved-list");
    for (const s of body) {
      const li = el("li");
      li.dataset.id = s.id;
      const b = el("button", "type", s.name);
      b.type = "button";
      b.addEventListener("click", () => { applySaved(s); search(true); });
      li.append(b);
      li.append(el("div", "muted", `${s.shared ? "Shared" : "Only you"} · ${s.ownerName || s.owner} · ${s.range}`));
      const a = el("a", "share", "Share link");
      a.href = s.link;
      li.append(a);
      if (s.owner === USER || ROLE === "admin") {
        const d = el("button", "secondary delete", "Delete");
        d.type = "button";
        d.addEventListener("click", async () => {
          try { await sendJSON("DELETE", `${EXT}searches/${encodeURIComponent(s.id)}`); loadSaved(); }
          catch (err) { $("save-status").textContent = `Not deleted: ${err.message}`; }
        });
        li.append(" ", d);
      }
      ul.append(li);
    }
    box.append(ul);
  } catch (err) { box.append(el("p", "muted", `Saved searches unavailable: ${err.message}`)); }
}

function setupSaved() {
  const f = $("save-form");
  if (ROLE === "viewer") {
    f.hidden = true;
    $("save-status").textContent = "Saving searches needs the analyst role.";
  }
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    // What the box holds now, run or not.
    const text = $("search").value;
    let v;
    try { v = validate(text); } catch (err) { showError(err, text); return; }
    try {
      const s = await sendJSON("POST", `${EXT}searches`, { name: $("save-name").value.trim(), filter: v.filter, q: v.q,
        range: currentRange(), columns: [], shared: $("save-shared").checked });
      $("save-status").textContent = `Saved “${s.name}”.`;
      $("save-name").value = "";
      loadSaved();
    } catch (err) { $("save-status").textContent = `Not saved: ${err.message}`; }
  });
  loadSaved();
}

// openSavedFromURL applies a saved search's share link (?saved=ID).
async function openSavedFromURL() {
  const id = new URLSearchParams(location.search).get("saved");
  if (!id) return;
  try {
    const { body } = await getJSON(`${EXT}searches/${encodeURIComponent(id)}`);
    applySaved(body);
  } catch (err) { $("save-status").textContent = `The shared search could not be opened: ${err.message}`; }
}

// fillTemplate puts a value into a scenario query as a JSON string literal.
// idlog's templates mark the slot as {value} (the literal goes there with
// its quotes); the seed's own text has "<enter …>" inside quotes, which the
// literal replaces quotes and all.
function fillTemplate(t, v) {
  const lit = JSON.stringify(v);
  return t.replace(/"<enter [^>]*>"|"<userID>"|\{value\}/gi, () => lit);
}

async function loadCatalog() {
  try {
    const { body } = await getJSON(`${EXT}eventtypes`);
    catalog = new Map((body || []).map((t) => [t.name, t]));
    renderTypes();
    for (const tr of $("rows").children) {
      const e = tr._event;
      const cat = e && catalog.get(e.eventType);
      if (cat && cat.description && !tr.querySelector(".desc")) tr.children[3].firstChild.after(el("div", "muted desc", cat.description));
    }
  } catch (err) { $("types").append(el("li", "muted", `Catalog unavailable: ${err.message}`)); }
}

function renderTypes() {
  const q = $("types-search").value.trim().toLowerCase();
  const ul = $("types");
  ul.textContent = "";
  let n = 0;
  for (const t of catalog.values()) {
    if (q && !t.name.toLowerCase().includes(q) && !(t.description || "").toLowerCase().includes(q) && !(t.category || "").toLowerCase().includes(q)) continue;
    if (++n > 200) { ul.append(el("li", "muted", "More types match; refine the search.")); break; }
    const li = el("li");
    const b = el("button", "type", t.name);
    b.type = "button";
    b.addEventListener("click", () => { state.search = `eventType eq ${literal(t.name)}`; $("search").value = state.search; search(true); });
    li.append(b);
    if (t.description) li.append(el("div", "muted", t.description));
    ul.append(li);
  }
}

// ---------- download ----------

const CSV_COLUMNS = [
  ["uuid", (e) => e.uuid], ["published", (e) => e.published], ["eventType", (e) => e.eventType],
  ["displayMessage", (e) => e.displayMessage], ["severity", (e) => e.severity],
  ["outcome.result", (e) => e.outcome?.result], ["outcome.reason", (e) => e.outcome?.reason],
  ["actor.id", (e) => e.actor?.id], ["actor.type", (e) => e.actor?.type], ["actor.alternateId", (e) => e.actor?.alternateId],
  ["actor.displayName", (e) => e.actor?.displayName], ["client.ipAddress", (e) => e.client?.ipAddress],
  ["client.geographicalContext.city", (e) => e.client?.geographicalContext?.city],
  ["client.geographicalContext.country", (e) => e.client?.geographicalContext?.country],
  ["client.userAgent.rawUserAgent", (e) => e.client?.userAgent?.rawUserAgent],
  ["authenticationContext.externalSessionId", (e) => e.authenticationContext?.externalSessionId],
  ["transaction.id", (e) => e.transaction?.id],
  ["target.id", (e) => (Array.isArray(e.target) ? e.target.map((t) => t.id ?? "").join(";") : "")],
  ["target.type", (e) => (Array.isArray(e.target) ? e.target.map((t) => t.type ?? "").join(";") : "")],
  ["target.alternateId", (e) => (Array.isArray(e.target) ? e.target.map((t) => t.alternateId ?? "").join(";") : "")],
];

// csvCell quotes a cell (RFC 4180) and defuses spreadsheet formulas: event
// fields such as user agents are attacker-controlled, so a cell starting
// with = + - @ or a control character gets a leading apostrophe.
function csvCell(v) {
  let s = v === undefined || v === null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

let dlCtrl = null;
async function download() {
  let v;
  try { v = validate(state.search); } catch (err) { showError(err, state.search); return; }
  const fmt = $("dl-format").value;
  const status = $("dl-status");
  dlCtrl = new AbortController();
  $("dl-start").disabled = true;
  $("dl-cancel").hidden = false;
  $("dl-cancel").onclick = () => dlCtrl.abort();
  // Each page becomes its own Blob as it arrives, so the text of earlier
  // pages can be released (Chrome backs large blobs by disk); the final Blob
  // just concatenates them.
  const parts = [];
  if (fmt === "csv") parts.push(new Blob([CSV_COLUMNS.map((c) => c[0]).join(",") + "\r\n"]));
  // Tests lower the cap through window.idlogDownloadCap.
  const cap = window.idlogDownloadCap || DOWNLOAD_CAP;
  let url = `${API}?${params(v)}&sortOrder=${state.order}&limit=1000`, n = 0, capped = false;
  // The first request says it starts an export: exports need the analyst
  // role, and the server records them in its audit trail as such.
  let exportHeader = { "X-Idlog-Export": fmt };
  try {
    while (url) {
      const { body, next } = await getJSON(url, dlCtrl.signal, exportHeader);
      exportHeader = null;
      let rows = body || [];
      if (n + rows.length >= cap && next) { rows = rows.slice(0, cap - n); capped = true; }
      const lines = fmt === "csv"
        ? rows.map((e) => CSV_COLUMNS.map((c) => csvCell(c[1](e))).join(",") + "\r\n")
        : rows.map((e) => JSON.stringify(e) + "\n");
      parts.push(new Blob(lines));
      n += rows.length;
      status.textContent = `Downloading: ${n.toLocaleString("en")} events…`;
      if (capped || !body || !body.length) break;
      url = next;
    }
  } catch (err) {
    status.textContent = err.name === "AbortError" ? "Download cancelled." : `Download failed after ${n} events: ${err.message}`;
    $("dl-start").disabled = false;
    $("dl-cancel").hidden = true;
    return;
  }
  const blob = new Blob(parts, { type: fmt === "csv" ? "text/csv" : "application/x-ndjson" });
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = `system-log-${iso(state.from).replace(/:/g, "")}-${iso(state.to).replace(/:/g, "")}.${fmt}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60e3);
  status.textContent = capped
    ? `Downloaded the first ${n.toLocaleString("en")} events: downloads stop at ${cap.toLocaleString("en")}. Narrow the range for the rest.`
    : `Downloaded ${n.toLocaleString("en")} events.`;
  status.dataset.done = String(n);
  $("dl-start").disabled = false;
  $("dl-cancel").hidden = true;
}

// ---------- start ----------

readURL();
syncControls();
setupControls();
setupHistogramDrag();
setupMap();
$("types-search").addEventListener("input", renderTypes);
$("dl-status").textContent = `Downloads stop at ${DOWNLOAD_CAP.toLocaleString("en")} events.`;
if (ROLE === "viewer") {
  $("dl-start").disabled = true;
  $("dl-status").textContent = "Downloads need the analyst role.";
}
loadCatalog();
loadScenarios();
setupSaved();
openSavedFromURL().finally(() => search(false));
