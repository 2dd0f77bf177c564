// The pipeline drawn from GET /pipeline: four columns (producers, streams, queries and delivery streams, result
// topics and the bucket), each node with its figures, each edge with its rate. Uses svgEl and shortNumber (charts.js).
"use strict";

function bytesText(n) {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + " GiB";
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MiB";
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + " KiB";
  return n + " B";
}

function rateText(r) {
  return r === null || r === undefined ? "" : `${shortNumber(r)}/s`;
}

// Column contents: [id, title, detail line, state] per node.
function pipelineColumns(p) {
  const producers = p.producers.map((n) => [`producer:${n.name}`, n.name, `${rateText(n.records_per_s)} sent` +
    (n.errors ? ` · ${n.errors} failed` : ""), n.state]);
  // Only the streams something writes or reads in the pipeline; the others are in the Streams table.
  const linked = new Set(p.edges.flatMap((e) => [e.source, e.target]));
  const drawn = p.streams.filter((s) => linked.has(`stream:${s.name}`));
  const streams = drawn.map((s) => [`stream:${s.name}`, s.name, `${s.shards} shards · ${rateText(s.records_per_s)}`, "running"]);
  const others = p.streams.length - drawn.length;
  const queries = p.queries.map((q) => {
    const wm = q.watermark_delay_s !== null ? `watermark −${q.watermark_delay_s.toFixed(1)} s`
      : q.events > 0 ? "stateless" : "no events yet";
    return [`query:${q.name}`, q.name, `${wm} · late ${shortNumber(q.late)} · err ${shortNumber(q.errors)} · lag ${shortNumber(q.lag)}`, q.state];
  });
  const delivery = p.delivery.map((d) => [`delivery:${d.name}`, d.name,
    `${shortNumber(d.objects)} objects · ${bytesText(d.bytes)} · buffered ${shortNumber(d.buffered)}`, d.state]);
  const outputs = p.outputs.map((s) => [`topic:${s.name}`, s.name, `${rateText(s.records_per_s)}`, "running"]);
  const buckets = [...new Set(p.delivery.map((d) => d.bucket))].map((b) => {
    const mine = p.delivery.filter((d) => d.bucket === b);
    const objects = mine.reduce((n, d) => n + d.objects, 0);
    const bytes = mine.reduce((n, d) => n + d.bytes, 0);
    return [`bucket:${b}`, `s3://${b}`, `${shortNumber(objects)} objects · ${bytesText(bytes)}`, "running"];
  });
  return [
    { title: "producers", nodes: producers },
    { title: others ? `streams (+${others} more below)` : "streams", nodes: streams },
    { title: "queries · delivery streams", nodes: [...queries, ...delivery] },
    { title: "results · objects", nodes: [...outputs, ...buckets] },
  ];
}

function fit(text, width, charPx) {
  const max = Math.max(Math.floor(width / charPx), 4);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function drawPipeline(svg, p) {
  const box = svg.getBoundingClientRect();
  const width = Math.max(Math.round(box.width), 600);
  const height = Math.max(Math.round(box.height), 200);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const columns = pipelineColumns(p);
  const gap = 36;
  const colW = (width - gap * (columns.length - 1) - 8) / columns.length;
  const positions = new Map();
  const nodes = [];
  const edgeLayer = [];
  columns.forEach((column, c) => {
    const x = 4 + c * (colW + gap);
    nodes.push(svgEl("text", { class: "col-title", x: x, y: 12 }, column.title));
    const count = Math.max(column.nodes.length, 1);
    const slot = (height - 20) / count;
    const nodeH = Math.min(42, slot - 4);
    column.nodes.forEach(([id, title, detail, state], i) => {
      const y = 18 + i * slot + (slot - nodeH) / 2;
      positions.set(id, { x, y, w: colW, h: nodeH });
      const group = svgEl("g", { class: `node ${id.split(":")[0]} ${state}`, "data-id": id });
      group.appendChild(svgEl("rect", { x, y, width: colW, height: nodeH, rx: 5 }));
      const big = nodeH >= 28;
      const titleY = big ? y + nodeH / 2 - 2 : y + nodeH / 2 + 4;
      group.appendChild(svgEl("text", { class: "node-title", x: x + 7, y: titleY }, fit(title, colW - 14, 7.2)));
      if (big) group.appendChild(svgEl("text", { class: "node-detail", x: x + 7, y: titleY + 13 }, fit(detail, colW - 14, 6)));
      group.appendChild(svgEl("title", {}, `${title}\n${detail}\nstate: ${state}`));
      nodes.push(group);
    });
  });
  for (const edge of p.edges) {
    const a = positions.get(edge.source);
    const b = positions.get(edge.target);
    if (!a || !b) continue;
    const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
    const mid = (x1 + x2) / 2;
    const busy = edge.records_per_s > 0;
    edgeLayer.push(svgEl("path", { class: `edge${busy ? " busy" : ""}`, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` }));
    if (edge.records_per_s !== null) {
      // At the target's end: most targets have one incoming edge, while a source often has several.
      edgeLayer.push(svgEl("text", { class: "edge-rate", x: x2 - 4, y: y2 - 4, "text-anchor": "end" },
        rateText(edge.records_per_s)));
    }
  }
  svg.replaceChildren(...edgeLayer, ...nodes);
}
