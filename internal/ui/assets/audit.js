// The audit trail page: idlog's own LogEvents, read through
// GET /api/idlog/v1/audit (admins only), newest first.

const $ = (id) => document.getElementById(id);
let next = null;

function el(tag, text) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}

function query() {
  const p = new URLSearchParams({ sortOrder: "DESCENDING", limit: "100" });
  const f = $("audit-filter").value.trim();
  if (f) p.set("filter", f);
  const days = Number($("audit-range").value);
  if (days > 0) p.set("since", new Date(Date.now() - days * 86400e3).toISOString());
  return "/api/idlog/v1/audit?" + p.toString();
}

async function page(url) {
  const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (r.status === 401) { location.assign("/signin?next=" + encodeURIComponent(location.pathname)); throw new Error("signed out"); }
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body && body.errorSummary ? body.errorSummary : `HTTP ${r.status}`);
  let link = null;
  for (const part of (r.headers.get("link") || "").split(",")) {
    const m = /<([^>]+)>;\s*rel="next"/.exec(part);
    if (m) { const u = new URL(m[1], location.href); link = u.pathname + u.search; }
  }
  return { events: body || [], next: link };
}

function what(ev) {
  const d = (ev.debugContext && ev.debugContext.debugData) || {};
  const parts = [];
  for (const k of ["filter", "q", "since", "until", "before", "format", "savedFilter"]) if (d[k] !== undefined) parts.push(`${k}=${d[k]}`);
  for (const t of ev.target || []) parts.push(`${t.type} ${t.displayName || t.id}`);
  if (ev.outcome && ev.outcome.reason) parts.push(ev.outcome.reason);
  return parts.join(" · ");
}

function render(events) {
  const tb = $("audit-rows");
  for (const ev of events) {
    const tr = el("tr");
    tr.className = "audit-row";
    tr.append(el("td", ev.published), el("td", ev.eventType), el("td", (ev.actor && ev.actor.alternateId) || ""),
      el("td", (ev.client && ev.client.ipAddress) || ""), el("td", (ev.outcome && ev.outcome.result) || ""), el("td", what(ev)));
    tb.append(tr);
  }
}

async function run(url, clear) {
  if (clear) $("audit-rows").textContent = "";
  $("audit-status").textContent = "Loading…";
  try {
    const res = await page(url);
    render(res.events);
    next = res.next;
    $("audit-more").hidden = !next;
    const n = $("audit-rows").children.length;
    $("audit-status").textContent = `${n} event${n === 1 ? "" : "s"}${next ? " so far; more below" : ""}.`;
  } catch (err) { $("audit-status").textContent = `Audit trail unavailable: ${err.message}`; }
}

async function download() {
  const parts = [];
  let url = query(), n = 0;
  try {
    while (url) {
      const res = await page(url);
      parts.push(new Blob(res.events.map((e) => JSON.stringify(e) + "\n")));
      n += res.events.length;
      $("audit-status").textContent = `Downloading: ${n} events…`;
      url = res.next;
    }
  } catch (err) { $("audit-status").textContent = `Download failed after ${n} events: ${err.message}`; return; }
  const a = el("a");
  a.href = URL.createObjectURL(new Blob(parts, { type: "application/x-ndjson" }));
  a.download = `idlog-audit-${new Date().toISOString().replace(/:/g, "")}.ndjson`;
  document.body.append(a);
  a.click();
  a.remove();
  $("audit-status").textContent = `Downloaded ${n} events.`;
}

$("audit-form").addEventListener("submit", (ev) => { ev.preventDefault(); run(query(), true); });
$("audit-more").addEventListener("click", () => next && run(next, false));
$("audit-download").addEventListener("click", download);
run(query(), true);
