// Time-series charts drawn in SVG at the size of their box: a y axis with rounded ticks, an x axis with clock times,
// grid lines and a legend. Plain browser JavaScript, no library and nothing fetched from the internet.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

// 1234 -> "1.2k", 0.5 -> "0.5": short labels for axes and edges.
function shortNumber(value) {
  const abs = Math.abs(value);
  if (abs >= 1e9) return (value / 1e9).toFixed(abs >= 1e10 ? 0 : 1) + "G";
  if (abs >= 1e6) return (value / 1e6).toFixed(abs >= 1e7 ? 0 : 1) + "M";
  if (abs >= 1e3) return (value / 1e3).toFixed(abs >= 1e4 ? 0 : 1) + "k";
  if (abs > 0 && abs < 10) return value.toFixed(1).replace(/\.0$/, "");
  return Math.round(value).toString();
}

// Tick values from 0 to at least `max`: 1, 2 or 5 times a power of ten apart, about `count` of them.
function niceTicks(max, count) {
  const top = Math.max(max, 1);
  const raw = top / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v <= top + step * 0.999; v += step) ticks.push(v);
  if (ticks[ticks.length - 1] < top) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// series: [{name, colour, points: [{t, v}]}]; spanMs: the time the x axis covers, ending now.
function drawChart(svg, series, spanMs, unit) {
  const box = svg.getBoundingClientRect();
  const width = Math.max(Math.round(box.width), 200);
  const height = Math.max(Math.round(box.height), 100);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const m = { left: 52, right: 12, top: 20, bottom: 22 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const now = Date.now();
  const start = now - spanMs;
  const values = series.flatMap((s) => s.points.filter((p) => p.t >= start).map((p) => p.v));
  const ticks = niceTicks(Math.max(0, ...values), 4);
  const top = ticks[ticks.length - 1];
  const x = (t) => m.left + ((t - start) / spanMs) * plotW;
  const y = (v) => m.top + plotH - (v / top) * plotH;
  const nodes = [];
  for (const tick of ticks) {
    nodes.push(svgEl("line", { class: "grid", x1: m.left, x2: m.left + plotW, y1: y(tick), y2: y(tick) }));
    nodes.push(svgEl("text", { class: "tick", x: m.left - 6, y: y(tick) + 4, "text-anchor": "end" }, shortNumber(tick)));
  }
  const stepMs = spanMs / 4;
  for (let t = start; t <= now + 1; t += stepMs) {
    nodes.push(svgEl("line", { class: "grid", x1: x(t), x2: x(t), y1: m.top, y2: m.top + plotH }));
    const anchor = t === start ? "start" : t + stepMs > now + 1 ? "end" : "middle";
    nodes.push(svgEl("text", { class: "tick", x: x(t), y: height - 6, "text-anchor": anchor }, clock(t)));
  }
  nodes.push(svgEl("line", { class: "axis", x1: m.left, x2: m.left, y1: m.top, y2: m.top + plotH }));
  nodes.push(svgEl("line", { class: "axis", x1: m.left, x2: m.left + plotW, y1: m.top + plotH, y2: m.top + plotH }));
  nodes.push(svgEl("text", { class: "unit", x: 4, y: 12 }, unit));
  let legendX = m.left + 8;
  for (const s of series) {
    const shown = s.points.filter((p) => p.t >= start);
    if (shown.length > 1) {
      const points = shown.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
      nodes.push(svgEl("polyline", { class: "series", points, stroke: s.colour }));
    }
    nodes.push(svgEl("rect", { x: legendX, y: 5, width: 10, height: 10, rx: 2, fill: s.colour }));
    const label = svgEl("text", { class: "legend", x: legendX + 14, y: 14 }, s.name);
    nodes.push(label);
    legendX += 24 + s.name.length * 6.5;
  }
  svg.replaceChildren(...nodes);
}
