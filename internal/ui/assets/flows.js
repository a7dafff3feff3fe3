// Flows view: an event's flow as a timeline of the steps its flow expects
// (done, skipped, failed, missing), a user's, session's or IP's flows from
// the scenario panel, and a funnel chart per flow. It joins the System Log
// page on its own: it watches the event list for opened events and the
// scenario panel for its forms, and adds its buttons there.
const EXT = "/api/idlog/v1/";
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error((body && body.errorSummary) || `HTTP ${r.status}`);
  return body;
}

const STATE_TEXT = { done: "done", skipped: "skipped", not_reached: "not reached", missing: "missing", failed: "failed", denied: "denied" };

function fmtTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace("T", " ").replace("Z", " UTC");
}

function fmtMS(ms) {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

// ---------- the dialog ----------

let dialog;

function view() {
  if (dialog) return dialog;
  dialog = el("dialog", "flow-view");
  dialog.id = "flow-view";
  dialog.setAttribute("aria-labelledby", "flow-view-title");
  const head = el("div", "flow-head");
  const h = el("h2", null, "Flow");
  h.id = "flow-view-title";
  const close = el("button", "secondary", "Close");
  close.type = "button";
  close.id = "flow-close";
  close.addEventListener("click", () => dialog.close());
  head.append(h, close);
  const body = el("div", "flow-body");
  body.id = "flow-body";
  dialog.append(head, body);
  document.body.append(dialog);
  return dialog;
}

function open(title) {
  const d = view();
  $("flow-view-title").textContent = title;
  const body = $("flow-body");
  body.replaceChildren(el("p", "muted", "Loading…"));
  if (!d.open) d.showModal();
  return body;
}

// renderInstance draws one flow instance as its timeline. mark is the
// uuid of the event the view was opened from.
function renderInstance(inst, mark) {
  const sec = el("section", "flow-instance");
  sec.dataset.kind = inst.kind;
  sec.dataset.status = inst.status;
  let title = `${inst.title}: ${inst.status}`;
  if (inst.stoppedAt) title += ` at ${inst.stoppedAt}`;
  sec.append(el("h3", `flow-title status-${inst.status}`, title));
  const facts = [];
  if (inst.reason) facts.push(["Why", inst.reason]);
  if (inst.missing) facts.push(["Missing step", inst.missing]);
  const reading = (parts) => parts.map((p) => `${p.kind} ${p.status}` + (p.stoppedAt ? ` at ${p.stoppedAt}` : "") +
    ` (${p.uuids.length} events)`).join(", then ");
  if (inst.ambiguous && inst.readings) {
    facts.push(["Ambiguous", "these events fit more than one reading: " + inst.readings.map(reading).join("; or ")]);
  }
  const link = (l) => `${l.kind} ${l.status}` + (l.stoppedAt ? ` at ${l.stoppedAt}` : "") + ` (event ${l.uuid})`;
  if (inst.continues) facts.push(["Continues", link(inst.continues)]);
  if (inst.continuedBy) facts.push(["Continued by", link(inst.continuedBy)]);
  facts.push(["Started", fmtTime(inst.start)], ["Took", fmtMS(inst.durationMs)]);
  if (inst.userLogin || inst.user) facts.push(["User", inst.userLogin || inst.user]);
  if (inst.actor) facts.push(["Done by", inst.actor]);
  if (inst.session) facts.push(["Session", inst.session]);
  if (inst.factor) facts.push(["Factor", inst.factor]);
  if (inst.app) facts.push(["App", inst.app]);
  if (inst.ip) facts.push(["Client", [inst.ip, inst.country, inst.client].filter(Boolean).join(", ")]);
  const dl = el("dl", "flow-facts");
  for (const [k, v] of facts) dl.append(el("dt", null, k), el("dd", null, v));
  sec.append(dl);

  const ol = el("ol", "flow-steps");
  const steps = inst.steps && inst.steps.length ? inst.steps
    : [{ name: inst.kind, state: "done", events: inst.events.map((_, i) => i) }];
  for (const st of steps) {
    const li = el("li", `step state-${st.state}`);
    li.dataset.step = st.name;
    li.dataset.state = st.state;
    const badge = el("span", "badge", STATE_TEXT[st.state] || st.state);
    li.append(badge, " ", el("strong", null, st.name));
    if (st.optional) li.append(" ", el("span", "muted", "(optional)"));
    if (st.afterMs) li.append(" ", el("span", "muted after", `+${fmtMS(st.afterMs)}`));
    if (st.events && st.events.length) {
      const ul = el("ul", "step-events");
      for (const i of st.events) {
        const ev = inst.events[i];
        const item = el("li", ev.uuid === mark ? "this-event" : null);
        item.dataset.uuid = ev.uuid;
        item.append(el("time", null, fmtTime(ev.published)), " ", el("code", null, ev.eventType), " ",
          el("span", `outcome r-${ev.result || "none"}`, ev.result || ""));
        if (ev.reason) item.append(" ", el("span", "muted", ev.reason));
        if (ev.uuid === mark) item.append(" ", el("span", "muted", "(this event)"));
        ul.append(item);
      }
      li.append(ul);
    }
    ol.append(li);
  }
  sec.append(ol);
  const fb = el("button", "secondary funnel-link", `Funnel of ${inst.title}`);
  fb.type = "button";
  if (inst.kind !== "other") {
    fb.addEventListener("click", () => showFunnel(inst.kind, inst.title));
    sec.append(fb);
  }
  return sec;
}

// showEventFlow opens the flow of the event with this uuid.
export async function showEventFlow(uuid) {
  const body = open("Flow of the event");
  try {
    const list = await getJSON(`${EXT}flows?event=${encodeURIComponent(uuid)}`);
    body.replaceChildren(...list.map((i) => renderInstance(i, uuid)));
    $("flow-view-title").textContent = list[0] ? `Flow: ${list[0].title}` : "Flow";
  } catch (err) {
    body.replaceChildren(el("p", "error", `Could not reconstruct the flow: ${err.message}`));
  }
}

// newest is the published time of the newest stored event: the funnels
// and flow lists look back from it, so an archive shows its own last week.
async function newest() {
  try {
    const s = await getJSON(`${EXT}stats`);
    if (s.newest) return Date.parse(s.newest);
  } catch { /* fall back to now */ }
  return Date.now();
}

// showFlows lists the flows of a user, session or ip over the 90 days
// before the newest event.
export async function showFlows(param, value) {
  const body = open(`Flows of ${param} ${value}`);
  try {
    const end = await newest();
    const q = new URLSearchParams({ [param]: value, since: new Date(end - 90 * 86400e3).toISOString(), until: new Date(end + 1).toISOString() });
    const list = await getJSON(`${EXT}flows?${q}`);
    if (!list.length) { body.replaceChildren(el("p", "muted", "No flows in the 90 days before the newest event.")); return; }
    body.replaceChildren(el("p", "muted", `${list.length} flows, oldest first.`), ...list.map((i) => renderInstance(i, "")));
  } catch (err) {
    body.replaceChildren(el("p", "error", `Could not list the flows: ${err.message}`));
  }
}

// ---------- funnels ----------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// funnelChart draws one bar per step: how many instances reached it, the
// part that stopped there in red, the top reasons beside it.
function funnelChart(fn) {
  const rowH = 34, labelW = 170, barW = 300, width = labelW + barW + 520;
  const max = Math.max(1, fn.instances, ...fn.steps.map((s) => s.reached));
  const chart = svg("svg", { class: "funnel", role: "img", width, height: fn.steps.length * rowH + 8, viewBox: `0 0 ${width} ${fn.steps.length * rowH + 8}` });
  chart.append(svg("title", {}, `Funnel of ${fn.title}: instances reaching each step`));
  fn.steps.forEach((s, i) => {
    const y = i * rowH + 4;
    const g = svg("g", { class: "funnel-step", "data-step": s.name });
    if (s.label) g.append(svg("title", {}, `${s.name}: ${s.label}`));
    g.append(svg("text", { x: 0, y: y + 18, class: "label" }, s.name + (s.optional ? " (opt.)" : "")));
    const w = (s.reached / max) * barW;
    g.append(svg("rect", { x: labelW, y, width: Math.max(w, 1), height: rowH - 8, class: "reached" }));
    const sw = (s.stopped / max) * barW;
    if (sw > 0) g.append(svg("rect", { x: labelW, y, width: Math.max(sw, 1), height: rowH - 8, class: "stopped" }));
    const why = s.reasons.slice(0, 2).map((r) => `${r.reason} (${r.count})`).join("; ");
    g.append(svg("text", { x: labelW + barW + 8, y: y + 18, class: "count" },
      `${s.reached} reached` + (s.stopped ? `, ${s.stopped} stopped` + (why ? `: ${why}` : "") : "")));
    chart.append(g);
  });
  return chart;
}

function funnelBlock(fn, heading) {
  const sec = el("section", "funnel-block");
  sec.dataset.flow = fn.flow;
  sec.append(el("h3", null, heading),
    el("p", "muted", `${fn.instances} instances: ${fn.completed} completed, ${fn.failed} failed, ${fn.denied} denied, ${fn.abandoned} abandoned.`),
    funnelChart(fn));
  return sec;
}

// waitForIndex shows how far the server's funnel index is built (serve
// starts it in the background when the first funnel is asked; that first
// funnel is read from the events) until it is ready, so that the funnel is
// then answered from it at once. It returns at once when the index is
// ready, not being built (it failed: the funnel is read from the events),
// or the server has no such endpoint.
async function waitForIndex(body) {
  for (;;) {
    let st;
    try { st = await getJSON(`${EXT}funnels/index`); } catch { return; }
    if (st.ready || !st.building) return;
    const pct = st.total ? Math.min(100, Math.floor((100 * st.read) / st.total)) : 0;
    const bar = el("progress", "funnel-progress");
    bar.max = 100;
    bar.value = pct;
    body.replaceChildren(el("p", "muted funnel-progress-text",
      `Building the funnel index: ${st.read.toLocaleString()} of ${st.total.toLocaleString()} events read (${pct}%). The funnel appears when it is done.`), bar);
    await new Promise((r) => setTimeout(r, 400));
  }
}

// showFunnel draws the funnel of a flow over the 7 days before the newest
// event, optionally split by an attribute.
export async function showFunnel(flow, title, split = "") {
  const body = open(`Funnel: ${title || flow}`);
  try {
    await waitForIndex(body);
    const end = await newest();
    const q = new URLSearchParams({ flow, since: new Date(end - 7 * 86400e3).toISOString(), until: new Date(end + 1).toISOString() });
    if (split) q.set("split", split);
    const fn = await getJSON(`${EXT}funnels?${q}`);
    const pick = el("label", null, "Split by ");
    const sel = el("select");
    sel.id = "funnel-split";
    for (const v of ["", "factor", "app", "country", "client"]) {
      const o = el("option", null, v || "nothing");
      o.value = v;
      o.selected = v === split;
      sel.append(o);
    }
    sel.addEventListener("change", () => showFunnel(flow, title, sel.value));
    pick.append(sel);
    const parts = (fn.parts || []).slice(0, 8).map((p) => funnelBlock(p, `${fn.split}: ${p.value}`));
    body.replaceChildren(el("p", "muted", "The 7 days before the newest event."), pick, funnelBlock(fn, fn.title), ...parts);
  } catch (err) {
    body.replaceChildren(el("p", "error", `Could not build the funnel: ${err.message}`));
  }
}

// ---------- joining the page ----------

// An opened event (its detail row) gets a "Show its flow" button.
function decorateDetail(tr) {
  const ev = tr.previousElementSibling;
  const td = tr.querySelector("td");
  if (!ev || !ev.dataset.uuid || !td || td.querySelector("button.show-flow")) return;
  const b = el("button", "secondary show-flow", "Show its flow");
  b.type = "button";
  b.addEventListener("click", () => showEventFlow(ev.dataset.uuid));
  td.prepend(b);
}

const FLOW_PARAMS = new Set(["user", "session", "ip"]);

// Scenario forms get "Show flows" (for a user, session or IP) and, when the
// scenario is about one flow, "Funnel".
function decorateScenarios(defs, scenarios) {
  const box = $("scenarios");
  if (!box) return;
  const titles = new Map(defs.map((d) => [d.kind, d.title]));
  for (const f of box.querySelectorAll("form.scenario")) {
    if (f.querySelector(".flow-tools")) continue;
    const name = f.querySelector("h3")?.textContent;
    const sc = scenarios.find((s) => (s.title || s.name) === name);
    const inp = f.querySelector("input");
    const tools = el("div", "flow-tools");
    if (inp && FLOW_PARAMS.has(inp.name)) {
      const b = el("button", "secondary show-flows", "Show flows");
      b.type = "button";
      b.addEventListener("click", () => {
        if (!inp.value.trim()) { inp.reportValidity(); return; }
        showFlows(inp.name, inp.value.trim());
      });
      tools.append(b);
    }
    if (sc && sc.flow && titles.has(sc.flow)) {
      const b = el("button", "secondary show-funnel", "Funnel");
      b.type = "button";
      b.dataset.flow = sc.flow;
      b.addEventListener("click", () => showFunnel(sc.flow, titles.get(sc.flow)));
      tools.append(b);
    }
    if (tools.childElementCount) f.append(tools);
  }
}

// The side panel gets a Flows section: a funnel per flow.
function flowsPanel(defs) {
  const side = document.querySelector("aside.side");
  if (!side || $("flows-panel")) return;
  const d = el("details");
  d.id = "flows-panel";
  const sum = el("summary");
  sum.append(el("h2", null, "Flows"));
  d.append(sum, el("p", "muted", "How far each flow got over the last 7 days, and why the rest stopped."));
  const ul = el("ul", "flow-list");
  for (const f of defs) {
    const b = el("button", "secondary", `Funnel: ${f.title}`);
    b.type = "button";
    b.dataset.flow = f.kind;
    b.addEventListener("click", () => showFunnel(f.kind, f.title));
    const li = el("li");
    li.append(b);
    ul.append(li);
  }
  d.append(ul);
  const sc = $("scenarios-panel");
  if (sc) sc.after(d); else side.prepend(d);
}

async function init() {
  const css = el("link");
  css.rel = "stylesheet";
  css.href = "/assets/flows.css";
  document.head.append(css);
  const rows = $("rows");
  if (rows) {
    new MutationObserver((muts) => {
      for (const m of muts) for (const n of m.addedNodes) if (n.nodeType === 1 && n.classList.contains("detail")) decorateDetail(n);
    }).observe(rows, { childList: true });
  }
  let defs = [], scenarios = [];
  try {
    [defs, scenarios] = await Promise.all([getJSON(`${EXT}flowdefs`), getJSON(`${EXT}scenarios`).catch(() => [])]);
  } catch { return; } // a server without flow analysis: nothing to add
  flowsPanel(defs);
  const box = $("scenarios");
  if (box) {
    decorateScenarios(defs, scenarios);
    new MutationObserver(() => decorateScenarios(defs, scenarios)).observe(box, { childList: true });
  }
  window.idlogFlows = { showEventFlow, showFlows, showFunnel, ready: true };
}

init();
