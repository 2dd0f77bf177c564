// The live page: the board over EventSource, alerts over EventSource, and two sparklines polled from /streams.
// Plain browser JavaScript, no build step and nothing fetched from the internet.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { board: null, source: null, lastScores: new Map(), rates: [], lags: [] };
const POINTS = 90;

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
  const tbody = $("board-rows");
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
  tbody.replaceChildren(...rows);
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
    const res = await fetch("/leaderboards");
    const { leaderboards } = await res.json();
    const select = $("board-select");
    const names = leaderboards.map((b) => b.name);
    const shown = Array.from(select.options).map((o) => o.value);
    if (names.join() !== shown.join()) {
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
  sev.className = "sev";
  sev.textContent = a.severity;
  const text = document.createTextNode(`${fmtTime(a.emitted_at)} · ${a.query}${a.key == null ? "" : ` · ${a.key}`}: ${a.message}`);
  li.append(sev, text);
  const list = $("alerts");
  if (atTop) list.prepend(li); else list.appendChild(li);
  while (list.children.length > 100) list.lastChild.remove();
}

async function startAlerts() {
  try {
    const { alerts } = await (await fetch("/alerts?limit=20")).json();
    alerts.forEach((a) => addAlert(a, false));
  } catch (err) { /* the stream below still delivers new ones */ }
  const source = new EventSource("/alerts/stream");
  source.addEventListener("alert", (ev) => addAlert(JSON.parse(ev.data), true));
}

function sparkline(svg, values) {
  const max = Math.max(1, ...values);
  const step = 300 / (POINTS - 1);
  const offset = POINTS - values.length;
  const points = values.map((v, i) => `${((i + offset) * step).toFixed(1)},${(58 - (v / max) * 56).toFixed(1)}`);
  let line = svg.querySelector("polyline");
  if (!line) {
    line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    svg.appendChild(line);
  }
  line.setAttribute("points", points.join(" "));
}

function push(series, value) {
  series.push(value);
  if (series.length > POINTS) series.shift();
}

async function pollStreams() {
  try {
    const answer = await (await fetch("/streams")).json();
    const rate = answer.streams.reduce((sum, s) => sum + s.records_per_s, 0);
    const lag = answer.streams.reduce((sum, s) => sum + s.consumers.reduce((n, c) => n + c.lag, 0), 0);
    push(state.rates, rate);
    push(state.lags, lag);
    sparkline($("rate-chart"), state.rates);
    sparkline($("lag-chart"), state.lags);
    $("rate-now").textContent = `${Math.round(rate).toLocaleString()} records/s`;
    $("lag-now").textContent = `${lag.toLocaleString()} records`;
    $("streams").replaceChildren(
      ...answer.streams.map((s) => {
        const li = document.createElement("li");
        li.textContent = `${s.name}: ${s.shards.length} shards, ${Math.round(s.records_per_s)} rec/s`;
        return li;
      })
    );
  } catch (err) { /* next poll */ }
}

$("board-select").addEventListener("change", (ev) => openBoard(ev.target.value));
refreshBoards();
setInterval(refreshBoards, 3000);
startAlerts();
pollStreams();
setInterval(pollStreams, 2000);
