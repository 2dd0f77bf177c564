// The live page: the board and alerts over EventSource, the pipeline, charts, delivery and streams polled from
// /pipeline. Plain browser JavaScript, no build step and nothing fetched from the internet.
"use strict";

const $ = (id) => document.getElementById(id);
const SPAN_MS = 3 * 60 * 1000;
const state = {
  board: null, source: null, lastScores: new Map(), alerts: 0,
  series: { streams: [], results: [], engine: [], sinks: [] },
};

function setConnected(ok) {
  const el = $("conn");
  el.textContent = ok ? "live" : "reconnecting";
  el.className = "badge " + (ok ? "on" : "off");
}

function fmtTime(iso) {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "–";
}

function renderBoard(win) {
  $("board-meta").textContent =
    `window ${fmtTime(win.window_start)} → ${fmtTime(win.window_end)}` +
    (win.final ? " · final" : " · open") +
    ` · as of watermark ${fmtTime(win.watermark)} · ${win.total_entries} entries`;
  const rows = win.entries.map((e) => {
    const tr = document.createElement("tr");
    tr.className = "board-row";
    tr.dataset.key = e.key;
    const previous = state.lastScores.get(e.key);
    if (previous !== undefined && previous !== e.score) tr.classList.add("changed");
    for (const [text, cls] of [[e.rank, ""], [e.key ?? "—", ""], [Number(e.score).toLocaleString(), "num"]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    return tr;
  });
  $("board-rows").replaceChildren(...rows);
  state.lastScores = new Map(win.entries.map((e) => [e.key, e.score]));
}

function openBoard(name) {
  if (state.source) state.source.close();
  state.board = name;
  state.lastScores = new Map();
  const source = new EventSource(`/leaderboards/${encodeURIComponent(name)}/stream?limit=10`);
  source.addEventListener("board", (ev) => renderBoard(JSON.parse(ev.data)));
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false);
  state.source = source;
}

async function refreshBoards() {
  try {
    const { leaderboards } = await (await fetch("/leaderboards")).json();
    const select = $("board-select");
    const names = leaderboards.map((b) => b.name);
    if (names.join() !== Array.from(select.options).map((o) => o.value).join()) {
      select.replaceChildren(...names.map((n) => new Option(n, n)));
      if (state.board && names.includes(state.board)) select.value = state.board;
    }
    if (!state.board && names.length) openBoard(names[0]);
  } catch (err) {
    setConnected(false);
  }
}

function addAlert(a, atTop) {
  $("no-alerts")?.remove();
  const li = document.createElement("li");
  const sev = document.createElement("span");
  sev.className = "sev " + (a.severity || "");
  sev.textContent = a.severity;
  const subject = a.key === null || a.key === undefined ? "" : ` · ${a.key}`;
  li.append(sev, document.createTextNode(`${fmtTime(a.emitted_at)} · ${a.query}${subject}: ${a.message}`));
  const list = $("alerts");
  if (atTop) list.prepend(li); else list.appendChild(li);
  while (list.children.length > 100) list.lastChild.remove();
  state.alerts += 1;
  $("alert-count").textContent = `${state.alerts.toLocaleString()} shown`;
}

async function startAlerts() {
  try {
    const { alerts } = await (await fetch("/alerts?limit=20")).json();
    alerts.forEach((a) => addAlert(a, false));
  } catch (err) { /* the stream below still delivers new ones */ }
  const source = new EventSource("/alerts/stream");
  source.addEventListener("alert", (ev) => addAlert(JSON.parse(ev.data), true));
}

function push(series, t, v) {
  series.push({ t, v });
  while (series.length && series[0].t < t - SPAN_MS - 10_000) series.shift();
}

function cell(text, cls, title) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  if (title) td.title = title;
  return td;
}

function renderDelivery(delivery) {
  if (!delivery.length) return;
  $("delivery-rows").replaceChildren(...delivery.map((d) => {
    const tr = document.createElement("tr");
    tr.className = `delivery-row ${d.state}`;
    tr.append(
      cell(d.name), cell(d.source), cell(shortNumber(d.records_per_s), "num"),
      cell(d.objects.toLocaleString(), "num"), cell(bytesText(d.bytes), "num"),
      cell(d.buffered.toLocaleString(), "num"), cell(d.errors.toLocaleString(), "num"),
      cell(d.last_key ? d.last_key.split("/").slice(-3).join("/") : "–", "key", d.last_key ? `s3://${d.bucket}/${d.last_key}` : ""),
    );
    return tr;
  }));
}

function renderStreams(p) {
  const shown = [...p.streams, ...p.outputs.filter((s) => !s.internal)];
  $("stream-rows").replaceChildren(...shown.map((s) => {
    const tr = document.createElement("tr");
    tr.className = "stream-row";
    tr.append(cell(s.name), cell(s.shards, "num"), cell(shortNumber(s.records_per_s), "num"), cell(s.end_offset.toLocaleString(), "num"));
    return tr;
  }));
  const internal = [...p.internal_topics, ...p.outputs.filter((s) => s.internal)];
  $("internal-topics").textContent = internal.length
    ? `kemu's own topics (not streams of yours): ${internal.map((s) => s.name).join(", ")}` : "";
}

async function pollPipeline() {
  try {
    const p = await (await fetch("/pipeline")).json();
    const t = Date.now();
    const into = p.streams.reduce((n, s) => n + s.records_per_s, 0);
    const results = p.outputs.reduce((n, s) => n + s.records_per_s, 0);
    push(state.series.streams, t, into);
    push(state.series.results, t, results);
    push(state.series.engine, t, p.engine_lag);
    push(state.series.sinks, t, p.sinks_buffered);
    drawChart($("rate-chart"), [
      { name: "into streams", colour: "#4fb3ff", points: state.series.streams },
      { name: "query outputs", colour: "#3fcf8e", points: state.series.results },
    ], SPAN_MS, "records/s");
    drawChart($("lag-chart"), [
      { name: "engine lag (unread)", colour: "#ffb454", points: state.series.engine },
      { name: "sinks buffered (not yet in S3)", colour: "#c792ea", points: state.series.sinks },
    ], SPAN_MS, "records");
    drawPipeline($("pipeline"), p);
    $("rate-now").textContent = `${Math.round(into).toLocaleString()} records/s into streams`;
    $("lag-now").textContent = `engine ${p.engine_lag.toLocaleString()} · sinks ${p.sinks_buffered.toLocaleString()}`;
    $("pipeline-lag").textContent = `engine lag ${p.engine_lag.toLocaleString()} records · sinks buffered ${p.sinks_buffered.toLocaleString()}`;
    $("summary").textContent = `${p.producers.length} producers · ${p.streams.length} streams · ${p.queries.length} queries · ${p.delivery.length} delivery streams`;
    renderDelivery(p.delivery);
    renderStreams(p);
  } catch (err) { /* next poll */ }
}

$("board-select").addEventListener("change", (ev) => openBoard(ev.target.value));
refreshBoards();
setInterval(refreshBoards, 3000);
startAlerts();
pollPipeline();
setInterval(pollPipeline, 2000);

// The Lake panel: the catalog's tables polled from /lake/tables, and the SQL box posting to /lake/query (the server
// runs only read-only statements and returns a bounded number of rows). Values go in as text, never as HTML.
function fmtBytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function fmtAge(ms) {
  if (ms === null || ms === undefined) return "–";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : new Date(ms).toISOString();
}

async function pollLake() {
  try {
    const { tables } = await (await fetch("/lake/tables")).json();
    if (!tables.length) return;
    $("lake-tables").replaceChildren(...tables.map((t) => {
      const tr = document.createElement("tr");
      tr.append(
        cell(`${t.database}.${t.name}`, "key", t.problem || t.location || ""),
        cell(t.objects.toLocaleString(), "num"), cell(t.rows.toLocaleString(), "num"),
        cell(fmtBytes(t.bytes), "num"), cell(fmtAge(t.newest_object_ms), ""),
      );
      return tr;
    }));
  } catch (e) { /* the next poll tries again */ }
}

async function runLakeQuery(ev) {
  ev.preventDefault();
  const status = $("lake-status");
  status.className = "dim small";
  status.textContent = "running…";
  try {
    const res = await fetch("/lake/query", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sql: $("lake-sql").value }),
    });
    const body = await res.json();
    if (!res.ok) {
      status.className = "small lake-status-bad";
      status.textContent = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      return;
    }
    const head = document.createElement("tr");
    head.append(...body.columns.map((c) => { const th = document.createElement("th"); th.textContent = c; return th; }));
    $("lake-head").replaceChildren(head);
    $("lake-rows").replaceChildren(...body.rows.map((r) => {
      const tr = document.createElement("tr");
      tr.append(...r.map((v) => cell(v === null ? "NULL" : v, v === null ? "dim" : "")));
      return tr;
    }));
    status.textContent = `${body.rows.length} row(s)` + (body.truncated ? ` (first ${body.max_rows} shown)` : "") +
      ` · ${fmtBytes(body.scanned_bytes)} scanned · ${body.elapsed_ms} ms`;
  } catch (e) {
    status.className = "small lake-status-bad";
    status.textContent = `the query could not be sent: ${e}`;
  }
}

$("lake-form").addEventListener("submit", runLakeQuery);
pollLake();
setInterval(pollLake, 5000);
