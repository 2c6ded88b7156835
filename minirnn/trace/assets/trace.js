// minirnn trace: the page. Reads the recorded trace (the textbook's numbers), checks that the
// browser's own cells (cells.js) recompute the same numbers, then steps through the events
// of the forward and the backward sweep: the graph, the equation, the values, the source.
// Scripts can read the recording as window.minirnnTrace and the page as window.minirnnPage.
"use strict";

const trace = JSON.parse(document.getElementById("trace-data").textContent);
window.minirnnTrace = trace;
const TOL = 1e-12;                       // |browser − textbook| ≤ TOL · max(1, |textbook|)
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const { T, H } = trace.sizes;
const LSTM = trace.cell === "lstm";

const s = (b, sub) => `${b}<sub>${sub}</sub>`;     // a subscript, for the page's labels
const { label } = MinirnnEquations;
const equation = (key) => MinirnnEquations.equation(trace.cell, key);

// ---- numbers: formatting, colour, comparison -----------------------------------------------
function fmt(v, digits = 4) {          // significant digits; hover a value for all of them
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(digits - 2);
  return v.toPrecision(digits);
}
function colour(v, scale) {           // blue for negative, red for positive, by |v| / scale
  const a = scale > 0 ? Math.min(1, Math.abs(v) / scale) * 0.8 : 0;
  return v >= 0 ? `rgba(214, 96, 77, ${a})` : `rgba(67, 147, 195, ${a})`;
}
function arrayTable(value, digits) {
  const rows = Array.isArray(value[0]) ? value : [value];
  const scale = Math.max(...rows.flat().map(Math.abs));
  const table = document.createElement("table");
  table.className = "arr";
  for (const row of rows) {
    const tr = table.insertRow();
    for (const v of row) {
      const td = tr.insertCell();
      td.textContent = fmt(v, digits);
      td.dataset.value = String(v);          // the full number, for a reader and for tests
      td.title = String(v);
      td.style.background = colour(v, scale);
    }
  }
  return table;
}
// Compare every number of the browser's run `js` with the recording; returns the worst.
function compare(rec, js) {
  let count = 0, worst = { diff: 0, where: "" }, bad = 0;
  function walk(a, b, where) {
    if (a === null || a === undefined) return;
    if (typeof a === "number") {
      const diff = typeof b === "number" ? Math.abs(a - b) : Infinity;
      count++;
      if (!(diff <= TOL * Math.max(1, Math.abs(a)))) bad++;
      if (!(diff <= worst.diff)) worst = { diff, where, rec: a, js: b };
      return;
    }
    if (Array.isArray(a)) { a.forEach((v, k) => walk(v, b && b[k], `${where}[${k}]`)); return; }
    for (const k of Object.keys(a)) walk(a[k], b && b[k], `${where}.${k}`);
  }
  for (const key of ["forward", "backward", "sums", "dy", "grads", "norms"]) {
    walk(rec[key], js[key], key);
  }
  walk(rec.loss.L, js.loss.L, "loss.L");
  return { ok: bad === 0, count, bad, worst };
}

// ---- the state: the network shown, its numbers, the current event --------------------------
const original = () => JSON.parse(JSON.stringify({ params: trace.params, x: trace.x,
  h0: trace.h0, c0: trace.c0 }));
const page = window.minirnnPage = {
  index: 0, events: trace.events, net: original(), edited: false,
  values: { forward: trace.forward, backward: trace.backward, sums: trace.sums,
            loss: trace.loss, norms: trace.norms },
};
function recompute() {
  return MinirnnCells.run(trace.cell, page.net, trace.loss.kind, trace.loss.target);
}
function lookup(ref, t) {
  const [table, name] = ref.split(".");
  const v = page.values;
  if (table === "params") return page.net.params[name];
  if (table === "loss") return name === "L" ? v.loss.L : v.loss[name];
  return v[table][t - 1][name];
}

// ---- the unrolled graph (SVG) --------------------------------------------------------------
// Layout: one column per step; rows for the loss, h_t, the cell (c_t between the cells) and x_t.
const CW = LSTM ? 116 : 100, X0 = 120, Y = { loss: 26, h: 84, cell: 186, x: 282 };
const colX = (t) => X0 + (t - 1) * CW;            // t = 1..T
const width = X0 + T * CW + (LSTM ? 40 : 10);
function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
// An SVG label: [["h", "t"], [", "], ["c", "0"]] reads h_t, c_0 with real subscripts.
function svgText(parent, attrs, parts) {
  const text = el("text", attrs, parent);
  for (const [base, sub] of parts) {
    el("tspan", {}, text).textContent = base;
    if (sub !== undefined) {
      const t = el("tspan", { "baseline-shift": "sub", "font-size": "9" }, text);
      t.textContent = String(sub);
    }
  }
  return text;
}
function node(id, x, y, parts, sub, kind, parent) {
  const g = el("g", { class: "node", id }, parent);
  if (kind === "box") el("rect", { x: x - 32, y: y - 28, width: 64, height: 56, rx: 6 }, g);
  else el("circle", { cx: x, cy: y, r: kind === "small" ? 15 : 19 }, g);
  svgText(g, { x, y: sub ? y - 5 : y }, parts);
  if (sub) el("text", { x, y: y + 11, class: "small" }, g).textContent = sub;
  return g;
}
function buildGraph() {
  const svg = $("graph");
  svg.setAttribute("viewBox", `0 0 ${width} 312`);
  const defs = el("defs", {}, svg);
  for (const [id, c] of [["arrow", "#9aa0a8"], ["arrow-red", "#d32f2f"], ["arrow-orange", "#ef6c00"]]) {
    const m = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: "auto-start-reverse", markerUnits: "userSpaceOnUse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: c }, m);
  }
  const edges = el("g", {}, svg);
  el("g", { id: "back-arrows" }, svg);
  const loss = { x: colX(T) + (LSTM ? 40 : 0), y: Y.loss };
  node("node-loss", loss.x + 44, loss.y + 4, [["L"]], trace.loss.kind, "circle", svg);
  node("node-W", 44, Y.x, [["W, b"]], "shared", "box", svg);
  node("node-h0", 44, Y.h, [["h", 0]], "", "circle", svg);
  if (LSTM) node("node-c0", 44, Y.cell, [["c", 0]], "", "small", svg);
  const cellName = { srn: "tanh", lstm: "i f g o", gru: "r z n" }[trace.cell];
  for (let t = 1; t <= T; t++) {
    const x = colX(t);
    node(`node-x-${t}`, x, Y.x, [["x", t]], "", "circle", svg);
    node(`node-cell-${t}`, x, Y.cell, [[`step ${t}`]], cellName, "box", svg);
    node(`node-h-${t}`, x, Y.h, [["h", t]], "", "circle", svg);
    el("line", { class: "edge", x1: x, y1: Y.x - 19, x2: x, y2: Y.cell + 29 }, edges);
    el("line", { class: "edge", x1: x, y1: Y.cell - 29, x2: x, y2: Y.h + 20 }, edges);
    const prevX = t === 1 ? 44 : x - CW;           // h_{t-1} (h0 for t = 1) into the cell
    el("path", { class: "edge", d: `M${prevX + 15},${Y.h + 13} L${x - 30},${Y.cell - 30}` }, edges);
    if (LSTM) {                                    // c_t between step t and step t+1
      const cx = x + CW / 2;
      node(`node-c-${t}`, cx, Y.cell, [["c", t]], "", "small", svg);
      el("line", { class: "edge", x1: x + 33, y1: Y.cell, x2: cx - 16, y2: Y.cell }, edges);
      const from = t === 1 ? 44 + 16 : x - CW / 2 + 16;
      el("line", { class: "edge", x1: from, y1: Y.cell, x2: x - 33, y2: Y.cell }, edges);
    }
    if (trace.loss.kind === "sum" || t === T) {
      el("path", { class: "edge", d: `M${x + 17},${Y.h - 9} L${loss.x + 25},${loss.y + 8}` }, edges);
    }
  }
}
// The node an event's quantity lives in.
function nodeOf(e) {
  if (e.phase === "loss") return "node-loss";
  const name = e.show[0].split(".")[1];
  if (e.show[0].startsWith("sums.") || name.startsWith("dW")) return "node-W";
  if (name === "h" || name === "dh" || name === "tanh_c") return `node-h-${e.t}`;
  if (name === "c") return `node-c-${e.t}`;
  if (name === "dx") return `node-x-${e.t}`;
  return `node-cell-${e.t}`;
}
// The backward arrows: dh_next (and dc_next) carried from step t+1 to step t, as thick as
// its norm, drawn once the step t+1 has handed it back.
function drawBackArrows() {
  const g = $("back-arrows");
  g.replaceChildren();
  const e = page.events[page.index];
  if (e.phase !== "backward") return;
  const B = page.values.backward;
  const pairs = [["dh_next", "", 22]].concat(LSTM ? [["dc_next", "cell", -22]] : []);
  for (const [name, cls, dy] of pairs) {
    const norms = B.map((b) => MinirnnCells.norm(b[name]));
    const max = Math.max(...norms, 1e-300);
    for (let t = 1; t < T; t++) {           // the arrow from step t+1 into step t
      if (page.index < page.handedBack[t + 1]) continue;
      const n = norms[t - 1], x1 = colX(t + 1) - 33, x2 = colX(t) + 34, y = Y.cell + dy;
      el("line", { class: `back ${cls}`, x1, y1: y, x2, y2: y,
        "stroke-width": 1 + 9 * n / max }, g);
      el("text", { class: `back-label ${cls}`, x: (x1 + x2) / 2, y: y + (cls ? -8 : 16) }, g)
        .textContent = fmt(n);
    }
  }
}
function highlight() {
  const e = page.events[page.index], target = nodeOf(e);
  document.querySelectorAll("#graph .node").forEach((n) => {
    n.classList.toggle("current", n.id === target);
  });
  $("graph").dataset.current = target;
  drawBackArrows();
}

// ---- the norm panel: ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖) per step, on a log scale ----------------------
function drawNorms() {
  const svg = $("norms"), W = 540, h = 200, base = 170, top = 18, left = 44;
  const step = (W - left - 8) / T, nx = (t) => left + (t - 0.5) * step;   // t = 1..T
  svg.setAttribute("viewBox", `0 0 ${W} ${h}`);
  svg.replaceChildren();
  const series = [["dh", "bar-h"]].concat(LSTM ? [["dc", "bar-c"]] : []);
  const all = series.flatMap(([k]) => page.values.norms[k]).filter((v) => v > 0);
  // the smallest nonzero norm still gets a visible bar: the axis starts a bit below it
  const hi = Math.log10(Math.max(...all, 1e-300));
  const lo = Math.min(hi - 1, Math.log10(Math.min(...all, 1))) - 0.3;
  const yOf = (v) => base - (Math.log10(v) - lo) / (hi - lo) * (base - top);
  el("line", { class: "axis", x1: left, y1: base, x2: W - 4, y2: base }, svg);
  for (let p = Math.ceil(lo); p <= Math.floor(hi); p += Math.max(1, Math.ceil((hi - lo) / 4))) {
    el("text", { class: "tick", x: left - 5, y: yOf(10 ** p) + 3, "text-anchor": "end" }, svg)
      .textContent = `1e${p}`;
    el("line", { class: "axis", x1: left - 2, y1: yOf(10 ** p), x2: W - 4, y2: yOf(10 ** p),
      "stroke-dasharray": "2 4", opacity: 0.5 }, svg);
  }
  const e = page.events[page.index], bw = Math.min(18, step / (series.length + 1));
  series.forEach(([k, cls], j) => {
    page.values.norms[k].forEach((v, t) => {
      const x = nx(t + 1) - bw * series.length / 2 + j * bw, done = e.phase === "backward" && e.t <= t + 1;
      const y = v > 0 ? yOf(v) : base;
      el("rect", { class: `${cls}${done ? "" : " pending"}`, x, y, width: bw - 1,
        height: Math.max(0, base - y), id: `norm-${k}-${t + 1}` }, svg)
        .appendChild(el("title", {})).textContent = `‖${k}‖ at t=${t + 1}: ${v}`;
      if (T * series.length <= 12) {                // room for a label on every bar
        el("text", { class: "bar-label", x: x + bw / 2, y: y - 3 - (j % 2) * 9 }, svg).textContent = fmt(v);
      }
    });
  });
  for (let t = 1; t <= T; t++) {
    el("text", { class: "tick", x: nx(t), y: base + 14, "text-anchor": "middle" }, svg).textContent = `t=${t}`;
  }
}

// ---- the detail panel ----------------------------------------------------------------------
function quantity(ref, t, cls) {
  const v = lookup(ref, t), div = document.createElement("div");
  div.className = `quantity ${cls}`;
  div.dataset.name = ref;
  const shape = Array.isArray(v) ? (Array.isArray(v[0]) ? `(${v.length}, ${v[0].length})` : `(${v.length},)`) : "";
  div.innerHTML = `<span class="name">${label(ref)}</span><span class="shape">${shape}</span>`;
  div.appendChild(arrayTable(typeof v === "number" ? [v] : v, cls === "show" ? 6 : 4));
  return div;
}
function showEvent() {
  const e = page.events[page.index];
  const where = e.phase === "loss" ? "The loss" :
    `${e.phase === "forward" ? "Forward" : "Backward"}, step t = ${e.t} of ${T}`;
  const tag = e.lines.map((l) => l.tag).find((t) => t) || e.tag;
  $("event-title").textContent = where;
  const key = e.show[0];
  $("equation").innerHTML = (tag ? `<span class="tag">${tag}</span>` : "") +
    (e.phase === "loss" ? MinirnnEquations.math(trace.loss.text) : equation(key));
  $("values").replaceChildren(...e.show.map((r) => quantity(r, e.t, "show")));
  $("uses").replaceChildren(...e.uses.map((r) => quantity(r, e.t, "use")));
  $("source").replaceChildren(...e.lines.map((l) => {
    const div = document.createElement("div");
    div.className = "source-line";
    div.innerHTML = `<div class="where"></div><pre></pre>`;
    div.firstChild.textContent = `${l.file}:${l.line}`;
    div.lastChild.textContent = l.text.replace(/ {3,}#/g, "   #");
    return div;
  }));
  $("scrub").value = page.index;
  $("counter").textContent = `event ${page.index + 1} / ${page.events.length}`;
  const starts = [...$("jump").options].map((o) => Number(o.value)).filter((i) => i <= page.index);
  $("jump").value = String(Math.max(...starts));
  highlight();
  drawNorms();
  document.body.dataset.event = e.id;
  try { history.replaceState(null, "", `#${e.id}`); } catch (_) { /* some file:// setups */ }
}
page.goTo = function (i) {
  page.index = Math.max(0, Math.min(page.events.length - 1, i));
  showEvent();
};
page.next = () => page.goTo(page.index + 1);
page.prev = () => page.goTo(page.index - 1);

// ---- editing a number ----------------------------------------------------------------------
function numberInput(id, value, onChange) {
  const input = document.createElement("input");
  Object.assign(input, { type: "number", step: "any", id, value: String(value) });
  input.addEventListener("change", () => {
    const v = Number(input.value);
    if (input.value.trim() !== "" && Number.isFinite(v)) { onChange(v); update(); }
  });
  return input;
}
function editGroup(title, array, name) {
  const div = document.createElement("div");
  div.className = "group";
  div.innerHTML = `<h4>${title}</h4>`;
  const table = document.createElement("table");
  const rows = Array.isArray(array[0]) ? array : [array];
  rows.forEach((row, j) => {
    const tr = table.insertRow();
    row.forEach((_, k) => tr.insertCell().appendChild(numberInput(
      rows === array ? `edit-${name}-${j}-${k}` : `edit-${name}-${k}`, row[k],
      (v) => { row[k] = v; })));
  });
  div.appendChild(table);
  return div;
}
function buildEditor() {
  const box = $("edit"), p = page.net.params;
  box.replaceChildren(editGroup("inputs x (rows: t = 1..T)", page.net.x, "x"),
    editGroup(s("W", "ih"), p.W_ih, "W_ih"), editGroup(s("W", "hh"), p.W_hh, "W_hh"),
    editGroup(s("b", "ih"), p.b_ih, "b_ih"), editGroup(s("b", "hh"), p.b_hh, "b_hh"),
    editGroup(s("h", "0"), page.net.h0, "h0"),
    ...(LSTM ? [editGroup(s("c", "0"), page.net.c0, "c0")] : []));
  if (LSTM) {                                       // the forget gate's bias, all units at once
    const div = document.createElement("div");
    div.className = "group forget";
    div.innerHTML = `<h4>forget-gate bias ${s("b", "ih")}[f] (every unit)</h4>`;
    div.appendChild(numberInput("edit-forget-bias", p.b_ih[H], (v) => {
      for (let k = H; k < 2 * H; k++) p.b_ih[k] = v;
    }));
    box.appendChild(div);
  }
}
function update() {                   // a number changed: recompute everything, redraw
  const js = recompute();
  page.edited = true;
  page.values = { forward: js.forward, backward: js.backward, sums: js.sums, loss: js.loss,
                  norms: js.norms };
  page.js = js;
  setBadge();
  showEvent();
}
$("reset").addEventListener("click", () => {
  page.net = original();
  page.edited = false;
  page.values = { forward: trace.forward, backward: trace.backward, sums: trace.sums,
                  loss: trace.loss, norms: trace.norms };
  buildEditor();
  setBadge();
  showEvent();
});

// ---- the badge: does the browser agree with the textbook? ----------------------------------
function setBadge() {
  const badge = $("badge"), a = page.agreement;
  if (!a.ok) {
    badge.className = "badge bad";
    badge.textContent = `DISAGREEMENT: the browser's recomputation differs from the textbook ` +
      `in ${a.bad} of ${a.count} numbers; worst at ${a.worst.where}: textbook ${a.worst.rec}, ` +
      `browser ${a.worst.js}`;
  } else if (page.edited) {
    badge.className = "badge edited";
    badge.textContent = "edited: the numbers shown are the browser's recomputation " +
      "(the recording is of the original network; reset to see it)";
  } else {
    badge.className = "badge ok";
    badge.textContent = `✓ the browser recomputes all ${a.count} recorded numbers ` +
      `(max |Δ| ${a.worst.diff.toExponential(1)})`;
  }
}

// ---- start ---------------------------------------------------------------------------------
function start() {
  $("net-title").textContent = trace.title;
  $("loss-text").innerHTML = `Loss: ${MinirnnEquations.math(trace.loss.text)}.`;
  if (!LSTM) $("dc-caption").remove();
  if (LSTM) $("norm-c-title").innerHTML = `(red) and ‖∂L/∂${s("c", "t")}‖ (orange)`;
  // the event index at which step t hands dh_prev back (its arrow to step t−1 appears)
  page.handedBack = {};
  page.events.forEach((e, i) => {
    if (e.phase === "backward" && e.show.includes("backward.dh_prev")) page.handedBack[e.t] = i;
  });
  page.agreement = compare(trace, recompute());
  setBadge();
  buildGraph();
  buildEditor();
  const scrub = $("scrub");
  scrub.max = page.events.length - 1;
  scrub.addEventListener("input", () => page.goTo(Number(scrub.value)));
  const jump = $("jump");
  page.events.forEach((e, i) => {                 // one entry per step of each sweep
    const first = i === 0 || page.events[i - 1].phase !== e.phase || page.events[i - 1].t !== e.t;
    if (first) jump.add(new Option(e.phase === "loss" ? "the loss" : `${e.phase} t = ${e.t}`, String(i)));
  });
  jump.addEventListener("change", () => page.goTo(Number(jump.value)));
  $("next").addEventListener("click", page.next);
  $("prev").addEventListener("click", page.prev);
  let timer = null;
  $("play").addEventListener("click", () => {
    if (timer) { clearInterval(timer); timer = null; $("play").textContent = "▶ play"; return; }
    $("play").textContent = "❚❚ pause";
    timer = setInterval(() => {
      if (page.index >= page.events.length - 1) $("play").click(); else page.next();
    }, 900);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
    if (ev.key === "ArrowRight") page.next();
    if (ev.key === "ArrowLeft") page.prev();
  });
  const fromHash = page.events.findIndex((e) => `#${e.id}` === decodeURIComponent(location.hash));
  page.goTo(fromHash >= 0 ? fromHash : 0);
  page.readyMs = performance.now();
}
start();
