// The three textbook cells, forward and BPTT, in plain JavaScript: what the page recomputes
// when a learner edits a number. Written from the same numbered equations as
// minirnn/textbook/{rnn,lstm,gru}.py, for one sequence (batch N = 1): vectors are arrays,
// matrices arrays of rows, laid out as torch does (W_ih (G·H, D), gate blocks i|f|g|o for the
// LSTM, r|z|n for the GRU). tests/test_trace_browser.py holds it equal to the textbook tier
// to 1e-12, on the presets and on random networks.
//
// run(cell, net, loss) returns an object of the same shape as the recorded trace's numbers:
// forward[t] and backward[t] (dicts of named vectors and matrices), sums[t] (the running
// Σ_t of the weight gradients after step t), loss {L}, dy, grads, norms.
"use strict";

const MinirnnCells = (() => {
  // ---- small vector and matrix helpers -----------------------------------------------------
  const zeros = (n) => new Array(n).fill(0);
  const matvec = (W, v) => W.map((row) => row.reduce((s, w, k) => s + w * v[k], 0)); // W v
  const vecmat = (v, W) =>                                                            // v W
    W[0].map((_, k) => W.reduce((s, row, j) => s + v[j] * row[k], 0));
  const outer = (u, v) => u.map((a) => v.map((b) => a * b));                          // u vᵀ
  const add = (...vs) => vs[0].map((_, k) => vs.reduce((s, v) => s + v[k], 0));
  const mul = (u, v) => u.map((a, k) => a * v[k]);                                    // u ⊙ v
  const map = (u, f) => u.map(f);
  const slice = (v, b, H) => v.slice(b * H, (b + 1) * H);       // gate block b of a (G·H,)
  const addM = (A, B) => A.map((row, j) => row.map((a, k) => a + B[j][k]));
  const norm = (v) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  const sigmoid = (a) => 1 / (1 + Math.exp(-a));
  const tanh = Math.tanh;

  // ---- SRN: (1) a = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh,  (2) h_t = tanh(a) -------------
  function srnStep(p, x, h_prev) {
    const a = add(matvec(p.W_ih, x), p.b_ih, matvec(p.W_hh, h_prev), p.b_hh);    // (1)
    const h = map(a, tanh);                                                     // (2)
    return { x, h_prev, a, h };
  }
  function srnStepBack(p, s, dh) {
    const da = mul(dh, map(s.h, (h) => 1 - h * h));                            // (2')
    return {
      da, dx: vecmat(da, p.W_ih), dh_prev: vecmat(da, p.W_hh),                  // (1')
      dW_ih: outer(da, s.x), dW_hh: outer(da, s.h_prev), db_ih: da, db_hh: da,
    };
  }

  // ---- LSTM: (1) a, (2) i, f, o = σ, (3) g = tanh, (4) c_t = f⊙c_{t-1} + i⊙g, (5) h_t --------
  function lstmStep(p, x, h_prev, c_prev) {
    const H = h_prev.length;
    const a = add(matvec(p.W_ih, x), p.b_ih, matvec(p.W_hh, h_prev), p.b_hh);    // (1)
    const i = map(slice(a, 0, H), sigmoid), f = map(slice(a, 1, H), sigmoid);   // (2)
    const g = map(slice(a, 2, H), tanh);                                        // (3)
    const o = map(slice(a, 3, H), sigmoid);                                     // (2)
    const c = add(mul(f, c_prev), mul(i, g));                                   // (4)
    const tanh_c = map(c, tanh);
    const h = mul(o, tanh_c);                                                   // (5)
    return { x, h_prev, c_prev, a, i, f, g, o, c, tanh_c, h };
  }
  // da_i = di ⊙ i ⊙ (1 − i), multiplied in the textbook's order (so the rounding matches)
  const gate = (dv, v) => dv.map((d, k) => d * v[k] * (1 - v[k]));
  function lstmStepBack(p, s, dh, dc_next) {
    const dout = mul(dh, s.tanh_c);                                             // (5') do
    const dc = add(dc_next, mul(mul(dh, s.o), map(s.tanh_c, (y) => 1 - y * y))); // (5')
    const di = mul(dc, s.g), df = mul(dc, s.c_prev), dg = mul(dc, s.i);         // (4')
    const dc_prev = mul(dc, s.f);                                               // (4')
    const da = [...gate(di, s.i), ...gate(df, s.f),                             // (3')(2')
                ...mul(dg, map(s.g, (y) => 1 - y * y)), ...gate(dout, s.o)];
    return {
      do: dout, dc, di, df, dg, dc_prev, da,
      dx: vecmat(da, p.W_ih), dh_prev: vecmat(da, p.W_hh),                      // (1')
      dW_ih: outer(da, s.x), dW_hh: outer(da, s.h_prev), db_ih: da, db_hh: da,
    };
  }

  // ---- GRU: (1) gi, (2) gh, (3) r, z, (4) n = tanh(gi_n + r⊙gh_n), (5) h_t ------------------
  function gruStep(p, x, h_prev) {
    const H = h_prev.length;
    const gi = add(matvec(p.W_ih, x), p.b_ih);                                  // (1)
    const gh = add(matvec(p.W_hh, h_prev), p.b_hh);                             // (2)
    const r = map(add(slice(gi, 0, H), slice(gh, 0, H)), sigmoid);              // (3)
    const z = map(add(slice(gi, 1, H), slice(gh, 1, H)), sigmoid);              // (3)
    const gh_n = slice(gh, 2, H);
    const n = map(add(slice(gi, 2, H), mul(r, gh_n)), tanh);                    // (4)
    const h = add(mul(map(z, (v) => 1 - v), n), mul(z, h_prev));                // (5)
    return { x, h_prev, gi, gh, r, z, gh_n, n, h };
  }
  function gruStepBack(p, s, dh) {
    const dn = mul(dh, map(s.z, (v) => 1 - v));                                 // (5')
    const dz = mul(dh, add(s.h_prev, map(s.n, (v) => -v)));                     // (5')
    const da_n = mul(dn, map(s.n, (y) => 1 - y * y));                           // (4')
    const dr = mul(da_n, s.gh_n);                                               // (4')
    const da_r = gate(dr, s.r), da_z = gate(dz, s.z);                           // (3')
    const dgi = [...da_r, ...da_z, ...da_n];                                    // (2')(1')
    const dgh = [...da_r, ...da_z, ...mul(da_n, s.r)];
    return {
      dn, dz, da_n, dr, da_r, da_z, dgi, dgh, dx: vecmat(dgi, p.W_ih),          // (1')
      dh_prev: add(mul(dh, s.z), vecmat(dgh, p.W_hh)),                           // (5') + (1')
      dW_ih: outer(dgi, s.x), dW_hh: outer(dgh, s.h_prev), db_ih: dgi, db_hh: dgh,
    };
  }

  // ---- the losses: L and dy = dL/dy_t (T, H) -------------------------------------------------
  function loss(kind, y, target) {
    const T = y.length, H = y[0].length, dy = y.map(() => zeros(H));
    if (kind === "sum") {                       // L = Σ_t Σ_k h_{t,k}
      dy.forEach((row) => row.fill(1));
      return { L: y.flat().reduce((s, v) => s + v, 0), dy };
    }
    if (kind === "last") {                      // L = Σ_k h_{T,k}
      dy[T - 1].fill(1);
      return { L: y[T - 1].reduce((s, v) => s + v, 0), dy };
    }
    // xent: L = −log softmax(h_T)[target], log-softmax made stable by subtracting the max
    const z = y[T - 1], m = Math.max(...z);
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = z.map((v) => v - m - lse);
    dy[T - 1] = logp.map((lp, k) => Math.exp(lp) - (k === target ? 1 : 0));
    return { L: -logp[target], dy };
  }

  // ---- the sequence: forward loop, then BPTT carrying dh_next (and dc_next) ------------------
  const GRADS = ["dW_ih", "dW_hh", "db_ih", "db_hh"];

  function run(cell, net, lossKind, target) {
    const p = net.params, T = net.x.length, H = net.h0.length, lstm = cell === "lstm";
    const forward = [];
    let h = net.h0, c = lstm ? net.c0 : null;
    for (let t = 0; t < T; t++) {                                 // (3) / (6): the loop
      const s = cell === "srn" ? srnStep(p, net.x[t], h)
        : lstm ? lstmStep(p, net.x[t], h, c) : gruStep(p, net.x[t], h);
      forward.push(s);
      h = s.h;
      if (lstm) c = s.c;
    }
    const y = forward.map((s) => s.h);
    const { L, dy } = loss(lossKind, y, target);

    const backward = new Array(T), sums = new Array(T);
    let dh_next = zeros(H), dc_next = zeros(H), running = null;   // nothing beyond T
    for (let t = T - 1; t >= 0; t--) {
      const dh = add(dy[t], dh_next);                            // (3') / (6')
      const b = cell === "srn" ? srnStepBack(p, forward[t], dh)
        : lstm ? lstmStepBack(p, forward[t], dh, dc_next) : gruStepBack(p, forward[t], dh);
      backward[t] = { dy: dy[t], dh_next, dh, ...b, ...(lstm ? { dc_next } : {}) };
      running = running === null ? Object.fromEntries(GRADS.map((k) => [k, b[k]]))
        : Object.fromEntries(GRADS.map((k) => [k, Array.isArray(b[k][0])
          ? addM(running[k], b[k]) : add(running[k], b[k])]));    // (4') / (7'): Σ_t
      sums[t] = running;
      dh_next = b.dh_prev;
      if (lstm) dc_next = b.dc_prev;
    }
    return {
      forward, backward, sums, dy, loss: { L, y, y_last: y[T - 1] },
      grads: { ...running, dx: backward.map((b) => b.dx), dh0: dh_next,
               dc0: lstm ? dc_next : null },
      norms: { dh: backward.map((b) => norm(b.dh)), dc: lstm ? backward.map((b) => norm(b.dc)) : null },
    };
  }

  return { run, norm };
})();
