// The equations the page shows, written as in the textbook's docstrings (minirnn/textbook/
// {rnn,lstm,gru}.py): x_t is a subscript, W^T a superscript, {…} groups (h_{t−1}). They are
// keyed by the cell and by the first quantity an event shows; `math` turns them into HTML.
"use strict";

const MinirnnEquations = (() => {
  // "h_{t−1} W_hh^T" -> "h<sub>t−1</sub> W<sub>hh</sub><sup>T</sup>"
  const math = (text) => text.replace(/([_^])(\{([^}]*)\}|([\w−+]+))/g,
    (_, mark, __, group, word) => {
      const tag = mark === "_" ? "sub" : "sup";
      return `<${tag}>${group !== undefined ? group : word}</${tag}>`;
    });

  const COMMON = {
    "backward.dh": "dh = dy_t + dh_next   (the gradient reaching h_t from above and from " +
                   "step t+1)",
    "backward.dx": "dx_t = da W_ih,   dh_prev = da W_hh   (dh_prev is step t−1's dh_next)",
    "backward.dW_ih": "dW_ih = da^T x_t,   dW_hh = da^T h_{t−1},   db_ih = db_hh = da",
    "sums.dW_ih": "dW = Σ_t dW_{step t}   (the same weights act at every step, so their " +
                  "gradients add up)",
  };
  const EQ = {
    srn: {
      "forward.a": "a = x_t W_ih^T + b_ih + h_{t−1} W_hh^T + b_hh",
      "forward.h": "h_t = tanh(a)",
      "backward.da": "da = dh ⊙ (1 − h_t^2)",
    },
    lstm: {
      "forward.a": "a = x_t W_ih^T + b_ih + h_{t−1} W_hh^T + b_hh   (blocks a_i a_f a_g a_o)",
      "forward.i": "i, f, o = σ(a_i), σ(a_f), σ(a_o)",
      "forward.g": "g = tanh(a_g)",
      "forward.c": "c_t = f ⊙ c_{t−1} + i ⊙ g",
      "forward.tanh_c": "h_t = o ⊙ tanh(c_t)",
      "backward.do": "do = dh ⊙ tanh(c_t),   dc = dc_next + dh ⊙ o ⊙ (1 − tanh^2 c_t)",
      "backward.di": "di = dc ⊙ g,   df = dc ⊙ c_{t−1},   dg = dc ⊙ i,   dc_prev = dc ⊙ f",
      "backward.da": "da = [di ⊙ i(1 − i) | df ⊙ f(1 − f) | dg ⊙ (1 − g^2) | do ⊙ o(1 − o)]",
    },
    gru: {
      "forward.gi": "gi = x_t W_ih^T + b_ih   (blocks gi_r gi_z gi_n)",
      "forward.gh": "gh = h_{t−1} W_hh^T + b_hh   (blocks gh_r gh_z gh_n)",
      "forward.r": "r = σ(gi_r + gh_r),   z = σ(gi_z + gh_z)",
      "forward.n": "n = tanh(gi_n + r ⊙ gh_n)",
      "forward.h": "h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}",
      "backward.dn": "dn = dh ⊙ (1 − z),   dz = dh ⊙ (h_{t−1} − n)",
      "backward.da_n": "da_n = dn ⊙ (1 − n^2),   dr = da_n ⊙ gh_n",
      "backward.da_r": "da_r = dr ⊙ r(1 − r),   da_z = dz ⊙ z(1 − z)",
      "backward.dgi": "dgi = [da_r | da_z | da_n],   dgh = [da_r | da_z | r ⊙ da_n]",
      "backward.dx": "dx_t = dgi W_ih,   dh_prev = dh ⊙ z + dgh W_hh",
      "backward.dW_ih": "dW_ih = dgi^T x_t,   dW_hh = dgh^T h_{t−1},   db_ih = dgi,   " +
                        "db_hh = dgh",
    },
  };
  // The HTML of the equation an event shows ("" when there is none), spaces kept.
  function equation(cell, key) {
    const text = EQ[cell][key] || COMMON[key] || "";
    return math(text).replace(/ {2,}/g, (run) => "&nbsp;".repeat(run.length));
  }

  // How a quantity's name reads: h_prev -> h_{t−1}, dW_ih -> dW with subscript ih, ...
  const NAMES = { x: "x_t", h: "h_t", c: "c_t", h_prev: "h_{t−1}", c_prev: "c_{t−1}",
    tanh_c: "tanh(c_t)", dy: "dy_t", y: "y = (h_1 … h_T)", y_last: "h_T", do: "do" };
  function label(ref) {
    const [table, name] = ref.split(".");
    const k = name.indexOf("_");
    const text = NAMES[name] || (k > 0 ? `${name.slice(0, k)}_{${name.slice(k + 1)}}` : name);
    return math(table === "sums" ? `Σ_t ${text}` : text);
  }

  return { equation, label, math };
})();
