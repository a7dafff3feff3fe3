// Alerts view: the alerts detection rules raised (GET /api/idlog/v1/alerts),
// newest first, in a panel of the System Log page. Each alert opens its
// events in the list (a uuid filter over its time range), shows the flow
// its last event belongs to, and can be acknowledged or closed with a note.
const EXT = "/api/idlog/v1/";
const $ = (id) => document.getElementById(id);
// The most uuids put in one search: a longer filter makes a URL some
// proxies refuse. The panel says when an alert has more.
const MAX_UUIDS = 50;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

async function call(method, path, body) {
  const r = await fetch(path, {
    method, credentials: "same-origin",
    headers: body ? { Accept: "application/json", "Content-Type": "application/json" } : { Accept: "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const out = await r.json().catch(() => null);
  if (!r.ok) throw new Error((out && out.errorSummary) || `HTTP ${r.status}`);
  return out;
}

function fmt(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
}

function isoSec(ms) { return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z"); }

// showEvents puts the alert's events in the page's list: the page reads its
// state from the URL, so a history entry and a popstate are all it takes.
function showEvents(a) {
  const ids = a.uuids.slice(0, MAX_UUIDS).map((u) => JSON.stringify(u));
  const search = `uuid in [${ids.join(", ")}]`;
  const from = Date.parse(a.first), to = Date.parse(a.last) + 1000;
  const q = new URLSearchParams(location.search);
  q.set("search", search);
  q.set("fromTime", isoSec(from));
  q.set("toTime", isoSec(to));
  // One page holds every listed event.
  q.set("limit", String(Math.min(1000, Math.max(Number(q.get("limit")) || 20, ids.length))));
  history.pushState(null, "", location.pathname + "?" + q.toString());
  window.dispatchEvent(new PopStateEvent("popstate"));
}

async function showFlow(a, box) {
  box.replaceChildren(el("p", "muted", "Loading the flow…"));
  try {
    const list = await call("GET", EXT + "flows?event=" + encodeURIComponent(a.uuids[a.uuids.length - 1]));
    box.replaceChildren();
    for (const inst of list) {
      let t = `${inst.title}: ${inst.status}`;
      if (inst.stoppedAt) t += ` at ${inst.stoppedAt}`;
      const p = el("p", "alert-flow", t);
      p.dataset.status = inst.status;
      box.append(p);
      const ol = el("ol", "alert-steps");
      for (const s of inst.steps || []) {
        ol.append(el("li", "step-" + (s.state || ""), `${s.name || s.step || ""} ${s.state ? "(" + s.state + ")" : ""}`.trim()));
      }
      if (ol.children.length) box.append(ol);
    }
    if (!list.length) box.append(el("p", "muted", "No flow holds this event."));
  } catch (e) {
    box.replaceChildren(el("p", "error", "Flow: " + e.message));
  }
}

function renderAlert(a) {
  const li = el("li", "alert sev-" + a.severity);
  li.dataset.id = a.id;
  li.dataset.rule = a.rule;
  li.dataset.status = a.status;
  const head = el("div", "alert-head");
  head.append(el("span", "sev", a.severity), el("strong", "alert-title", a.title));
  li.append(head);
  li.append(el("div", "muted", `${a.group} · ${a.count} event${a.count === 1 ? "" : "s"} · ${fmt(a.first)} → ${fmt(a.last)} · ${a.status}`));
  if (a.note) li.append(el("div", "alert-note", "Note: " + a.note));
  const tools = el("div", "alert-tools");
  const ev = el("button", "secondary alert-events", a.count > MAX_UUIDS ? `Events (first ${MAX_UUIDS} of ${a.count})` : "Events");
  ev.type = "button";
  ev.addEventListener("click", () => showEvents(a));
  const flowBox = el("div", "alert-flowbox");
  const fl = el("button", "secondary alert-flowbtn", "Flow");
  fl.type = "button";
  fl.addEventListener("click", () => showFlow(a, flowBox));
  tools.append(ev, fl);
  for (const [status, label] of [["acknowledged", "Acknowledge"], ["closed", "Close"]]) {
    if (a.status === status) continue;
    const b = el("button", "secondary alert-" + status, label);
    b.type = "button";
    b.addEventListener("click", async () => {
      const note = window.prompt(`${label} "${a.title}": a note (optional)`, "") ?? null;
      if (note === null) return;
      try {
        const upd = await call("POST", EXT + "alerts/" + encodeURIComponent(a.id), { status, note });
        li.replaceWith(renderAlert(upd));
      } catch (e) {
        li.append(el("div", "error", e.message));
      }
    });
    tools.append(b);
  }
  li.append(tools, flowBox);
  return li;
}

async function load() {
  const list = $("alerts");
  const status = $("alerts-status").value;
  list.setAttribute("aria-busy", "true");
  try {
    const alerts = await call("GET", EXT + "alerts?limit=200" + (status ? "&status=" + status : ""));
    list.replaceChildren(...alerts.map(renderAlert));
    $("alerts-count").textContent = alerts.length === 200 ? "200 newest" : `${alerts.length}`;
    if (!alerts.length) list.append(el("li", "muted", "No alerts."));
  } catch (e) {
    list.replaceChildren(el("li", "error", "Alerts: " + e.message));
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function mount() {
  const side = document.querySelector("aside.side");
  if (!side) return;
  const d = el("details", "alerts-panel");
  d.id = "alerts-panel";
  d.open = true;
  const sum = el("summary");
  const h = el("h2", null, "Alerts ");
  h.append(el("span", "muted", ""));
  h.lastChild.id = "alerts-count";
  sum.append(h);
  const row = el("div", "row");
  const lab = el("label", null, "Show ");
  const sel = el("select");
  sel.id = "alerts-status";
  for (const [v, t] of [["open", "open"], ["acknowledged", "acknowledged"], ["closed", "closed"], ["", "all"]]) {
    const o = el("option", null, t);
    o.value = v;
    sel.append(o);
  }
  sel.addEventListener("change", load);
  lab.append(sel);
  const refresh = el("button", "secondary", "Refresh");
  refresh.type = "button";
  refresh.id = "alerts-refresh";
  refresh.addEventListener("click", load);
  row.append(lab, refresh);
  const ul = el("ul", "alerts");
  ul.id = "alerts";
  ul.setAttribute("aria-live", "polite");
  d.append(sum, row, ul);
  side.prepend(d);
  load();
  setInterval(() => { if (!document.hidden) load(); }, 30000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
