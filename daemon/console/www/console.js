// pixeld console: reads /admin/stream (text/event-stream) and draws the views.
// Each stream response ends after the new events; the page opens the next
// one with ?since=<last id> a second later. Plain JS, no dependencies.
"use strict";

const HISTORY = 120; // seconds of throughput in the chart
const TAIL_MAX = 500; // lines kept in the tail
const history = [];
let lastId = 0;
let paused = false;
let tailLines = [];
let stats = null;

const $ = (id) => document.getElementById(id);

function cell(tag, text, cls) {
  const e = document.createElement(tag);
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function table(id, head, rows) {
  const t = $(id);
  t.replaceChildren();
  const hr = document.createElement("tr");
  head.forEach((h) => hr.appendChild(cell("th", h)));
  t.appendChild(hr);
  rows.forEach((r) => {
    const tr = document.createElement("tr");
    r.forEach((v) => tr.appendChild(v instanceof Node ? wrap(v) : cell("td", String(v))));
    t.appendChild(tr);
  });
}

function wrap(node) {
  const td = document.createElement("td");
  td.appendChild(node);
  return td;
}

const pairs = (obj) => Object.entries(obj || {}).map(([k, v]) => [k, v.toFixed ? v.toFixed(2) : v]);

function drawChart() {
  const c = $("chart");
  const g = c.getContext("2d");
  const w = c.width, h = c.height;
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...history.map((p) => Math.max(p.a, p.r)));
  c.dataset.points = history.length;
  const line = (key, color) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    // The newest second at the right edge.
    history.forEach((p, i) => {
      const x = w - ((history.length - 1 - i) / (HISTORY - 1)) * w;
      const y = h - 20 - (p[key] / max) * (h - 30);
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
  };
  line("a", "#137333");
  line("r", "#b00020");
  g.fillStyle = "#1b1f24";
  g.font = "12px sans-serif";
  const now = history.length ? history[history.length - 1] : { a: 0, r: 0 };
  g.fillText("accepted/s " + now.a.toFixed(1) + "   refused/s " + now.r.toFixed(1) +
             "   (max " + max.toFixed(1) + ", last " + HISTORY + " s)", 8, h - 4);
}

function render(s) {
  stats = s;
  history.push({ a: s.accepted_per_s, r: s.refused_per_s });
  while (history.length > HISTORY) history.shift();
  $("state").textContent = "pixeld " + s.version + ", up " + s.uptime_s + " s, " +
    s.connections + " connections, XDP " + s.xdp.state;
  drawChart();
  table("by-endpoint", ["endpoint", "events/s"], pairs(s.accepted));
  table("by-tenant", ["tenant", "events/s"], pairs(s.tenants));
  table("by-source", ["source", "events/s"], pairs(s.sources));
  table("by-reason", ["reason", "refused/s"], pairs(s.refused));
  table("dests", ["destination", "delivered/s", "failed/s", "retried/s", "delivered", "failed",
                  "pending", "oldest pending (s)", "dead letters", "breaker", "last error", ""],
    s.destinations.map((d) => {
      const b = document.createElement("button");
      b.textContent = "Replay dead letters";
      b.dataset.dest = d.name;
      b.onclick = () => replay(d.name);
      return [d.name, d.delivered_per_s.toFixed(2), d.failed_per_s.toFixed(2),
              d.retried_per_s.toFixed(2), d.delivered, d.failed, d.pending,
              d.oldest_pending_s.toFixed(1), d.dead_letters,
              cell("span", d.breaker, d.breaker === "open" ? "bad" : "ok"), lastError(d), b];
    }));
  table("xdp", ["", ""], [["attached", s.xdp.attached ? "yes" : "no"], ["state", s.xdp.state]]);
  table("xdp-counters", ["verdict", "reason", "packets"],
    (s.xdp.counters || []).map((c) => [c.verdict, c.reason, c.packets]));
  table("xdp-blocks", ["CIDR", "origin", "time left", ""], (s.xdp.blocks || []).map((b) => {
    const u = document.createElement("button");
    u.textContent = "Unblock";
    u.dataset.cidr = b.cidr;
    u.onclick = () => xdpAction("unblock", { cidr: b.cidr });
    return [b.cidr, b.origin, b.left_s < 0 ? "until unblocked" : b.left_s + " s", u];
  }));
  table("opens", ["kind", "opens"], Object.entries(s.email_opens));
  const kinds = Object.keys(s.email_opens);
  table("campaigns", ["campaign"].concat(kinds), s.campaigns.map((c) => [c.name].concat(kinds.map((k) => c[k]))));
  const j = s.journal;
  table("journal", ["", ""], [["bytes", j.bytes], ["segments", j.segments], ["journal.max_bytes", j.max_bytes],
    ["used", j.max_bytes ? (100 * j.bytes / j.max_bytes).toFixed(2) + " %" : "-"]].concat(
    s.destinations.map((d) => ["lag of " + d.name + " (bytes, events pending)",
                               d.backlog_bytes + " B, " + d.pending])));
}

function matches(ev) {
  const f = (id, v) => !$(id).value || String(v || "") === $(id).value;
  return f("f-tenant", ev.tenant) && f("f-event", ev.event) && f("f-source", ev.source);
}

function drawTail() {
  const shown = tailLines.filter((l) => matches(l.ev));
  $("tail").textContent = shown.map((l) => l.text).join("\n");
  $("tail-count").textContent = shown.length + " events" + (paused ? " (paused)" : "");
}

function addEvent(text) {
  let ev = {};
  try { ev = JSON.parse(text); } catch (e) { return; }
  tailLines.unshift({ ev: ev, text: text });
  if (tailLines.length > TAIL_MAX) tailLines.length = TAIL_MAX;
}

// "2026-12-04 15:02:11Z connection refused", or "none"; the text is redacted by pixeld.
function lastError(d) {
  if (!d.last_error_at_ms) return "none";
  const at = new Date(d.last_error_at_ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  const c = cell("span", at + " " + d.last_error, "bad");
  c.title = d.last_error;
  return c;
}

async function replay(dest) {
  const body = dest ? JSON.stringify({ dest: dest }) : "{}";
  const r = await fetch("/admin/dlq/replay", { method: "POST", body: body,
    headers: { "Content-Type": "application/json" } });
  $("replay-result").textContent = (dest || "all") + ": " + r.status + " " + (await r.text());
}

async function post(path, obj) {
  const r = await fetch(path, { method: "POST", body: JSON.stringify(obj),
    headers: { "Content-Type": "application/json" } });
  return r.status + " " + (await r.text());
}

async function xdpAction(what, obj) {
  $("block-result").textContent = what + " " + obj.cidr + ": " + (await post("/admin/xdp/" + what, obj));
}

async function searchDlq() {
  const q = new URLSearchParams();
  ["dest", "reason", "since"].forEach((k) => { if ($("dlq-" + k).value) q.set(k, $("dlq-" + k).value); });
  const r = await fetch("/admin/dlq/list?" + q.toString());
  const body = await r.json();
  if (r.status !== 200) {
    $("dlq-count").textContent = r.status + " " + (body.detail || body.error);
    return;
  }
  $("dlq-count").textContent = body.matched + " matched" +
    (body.matched > body.dead_letters.length ? ", newest " + body.dead_letters.length + " shown" : "");
  table("dlq", ["time", "destination", "event_id", "reason", "status", ""], body.dead_letters.map((e) => {
    const b = document.createElement("button");
    b.textContent = "Show";
    b.onclick = () => { $("dlq-entry").textContent = JSON.stringify(e, null, 2); };
    return [e.time, e.dest, e.event_id, e.reason, e.status, b];
  }));
}

function connect() {
  const es = new EventSource("/admin/stream?since=" + lastId);
  es.addEventListener("stats", (m) => render(JSON.parse(m.data)));
  es.addEventListener("ev", (m) => {
    lastId = Number(m.lastEventId);
    if (!paused) addEvent(m.data);
  });
  es.addEventListener("id", (m) => { lastId = Number(m.data); });
  // The response ends after the new events: open the next one in a second.
  es.onerror = () => {
    es.close();
    if (!paused) drawTail();
    setTimeout(connect, 1000);
  };
}

document.querySelectorAll("#tabs button").forEach((b) => {
  b.onclick = () => {
    document.querySelectorAll("#tabs button").forEach((x) => x.classList.toggle("on", x === b));
    document.querySelectorAll("section.view").forEach((v) =>
      v.classList.toggle("on", v.id === "view-" + b.dataset.view));
  };
});
["f-tenant", "f-event", "f-source"].forEach((id) => $(id).addEventListener("input", drawTail));
$("pause").onclick = () => {
  paused = !paused;
  $("pause").textContent = paused ? "Resume" : "Pause";
  drawTail();
};
$("replay-all").onclick = () => replay(null);
$("dlq-search").onclick = searchDlq;
$("block").onclick = () => {
  const ttl = Number($("block-ttl").value);
  xdpAction("block", ttl > 0 ? { cidr: $("block-cidr").value, ttl_s: ttl } : { cidr: $("block-cidr").value });
};
connect();
