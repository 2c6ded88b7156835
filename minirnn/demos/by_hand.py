"""Networks small enough to work out with pencil and paper, printed step by step.

``srn``  the 2-input, 2-hidden, 2-output simple recurrent network with every weight 1 and
         every bias 0, on the inputs [1, 1], [1, 1], [2, 2]:
           without an activation (φ = identity) the outputs are 4, 12, 32;
           with tanh they are 1.9280551601516338, 1.9984510891336251, 1.9999753470497836
         (both output units are equal at every step). ``backward=True`` adds BPTT for the
         loss L = Σ_t Σ_k y_t,k (the sum of every output), with every intermediate value.
``lstm`` the hand-wired LSTM of the well-known lecture example, x = (x1, x2, x3, 1): x2 = 1
         writes the value x1 into memory, x2 = −1 resets it, x3 = 1 reads it out. With step
         gates and an identity cell activation the memory before each step is
         0 0 3 3 7 7 7 0 6 (after each step 0 3 3 7 7 7 0 6 6) and the outputs are
         0 0 0 0 0 7 0 0 6, exactly.
"""
import numpy as np

from .. import nn
from ..functional.rnn import rnn_backward, rnn_forward
from ._common import fmt, out_dir, save_plot

# ---- the SRN -------------------------------------------------------------------------------
SRN_INPUTS = np.array([[1, 1], [1, 1], [2, 2]], dtype=np.float64)     # (T=3, D=2)
SRN_OUTPUTS = {"identity": [4.0, 12.0, 32.0],
               "tanh": [1.9280551601516338, 1.9984510891336251, 1.9999753470497836]}

# ---- the lecture LSTM --------------------------------------------------------------------
# columns: value x1, flag x2 (1 = write x1 into memory, -1 = reset memory), flag x3 (1 = read
# memory out), constant 1 (acts as the bias, so the layer has bias=False)
LSTM_INPUTS = np.array([[1, 0, 0, 1], [3, 1, 0, 1], [2, 0, 0, 1], [4, 1, 0, 1], [2, 0, 0, 1],
                        [1, 0, 1, 1], [3, -1, 0, 1], [6, 1, 0, 1], [1, 0, 1, 1]],
                       dtype=np.float64)
LSTM_WEIGHTS = np.array([[0, 100, 0, -10],    # i  input gate:  open when x2 = 1
                         [0, 100, 0, 10],     # f  forget gate: keep unless x2 = -1
                         [1, 0, 0, 0],        # g  candidate:   the value x1 itself
                         [0, 0, 100, -10]],   # o  output gate: open when x3 = 1
                        dtype=np.float64)     # rows in torch's gate order i, f, g, o
LSTM_MEMORY = [0, 3, 3, 7, 7, 7, 0, 6, 6]     # c_t after each step (before step 1: 0)
LSTM_OUTPUTS = [0, 0, 0, 0, 0, 7, 0, 0, 6]


# ===========================================================================================
# SRN forward
# ===========================================================================================

def srn_weights():
    """Every weight 1, every bias 0: W_ih (2, 2), W_hh (2, 2), b (2,), W_out (2, 2), b_out (2,)."""
    return dict(W_ih=np.ones((2, 2)), W_hh=np.ones((2, 2)), b=np.zeros(2),
                W_out=np.ones((2, 2)), b_out=np.zeros(2))


def srn_by_hand(activation):
    """The forward pass written out: a list of per-step dicts (x, h_prev, a, h, y)."""
    phi = {"identity": lambda a: a, "tanh": np.tanh}[activation]
    w = srn_weights()
    h = np.zeros(2)                                   # h_0
    steps = []
    for x in SRN_INPUTS:
        a = x @ w["W_ih"].T + h @ w["W_hh"].T + w["b"]    # pre-activation
        h_new = phi(a)                                    # state
        y = h_new @ w["W_out"].T + w["b_out"]             # output (a linear layer)
        steps.append(dict(x=x, h_prev=h, a=a, h=h_new, y=y))
        h = h_new
    return steps


def srn_with_modules(nonlinearity):
    """The same network from minirnn.nn: an RNNCell called in a loop and one RNN layer.

    Returns (outputs from the cell (T, 2), outputs from the layer (T, 2)).
    """
    ones, zeros = {"weight_ih": np.ones((2, 2)), "weight_hh": np.ones((2, 2))}, np.zeros(2)
    cell = nn.RNNCell(2, 2, nonlinearity=nonlinearity)
    cell.load_state_dict({**ones, "bias_ih": zeros, "bias_hh": zeros})
    layer = nn.RNN(2, 2, nonlinearity=nonlinearity)
    layer.load_state_dict({k + "_l0": v for k, v in
                           {**ones, "bias_ih": zeros, "bias_hh": zeros}.items()})
    out = nn.Linear(2, 2)
    out.load_state_dict({"weight": np.ones((2, 2)), "bias": zeros})

    h, from_cell = None, []
    for x in SRN_INPUTS:                  # one step at a time
        h = cell(x, h)
        from_cell.append(out(h))
    hs, _ = layer(SRN_INPUTS)             # all steps at once: (T, 2) unbatched
    return np.array(from_cell), out(hs)


def print_srn_forward(activation, steps):
    rows = [(str(t), fmt(s["x"]), fmt(s["h_prev"]), fmt(s["a"]), fmt(s["h"]), fmt(s["y"]))
            for t, s in enumerate(steps, start=1)]
    head = ("t", "input x_t", "h_(t-1)", "a_t", "state h_t", "output y_t")
    widths = [max(len(r[k]) for r in rows + [head]) for k in range(len(head))]
    print(f"-- forward, φ = {activation} " + "-" * 50)
    for r in [head] + rows:
        print("  " + "  ".join(f"{v:<{w}}" for v, w in zip(r, widths)).rstrip())


# ===========================================================================================
# SRN backward
# ===========================================================================================

def srn_backward_by_hand(activation, steps):
    """BPTT for L = Σ_t Σ_k y_t,k, so dL/dy_t = [1, 1] at every step.

    Returns the per-step records (in processing order t = T..1) and the final gradients.
    """
    dphi = {"identity": lambda h: np.ones_like(h), "tanh": lambda h: 1 - h * h}[activation]
    w = srn_weights()
    g = {k: np.zeros_like(v) for k, v in w.items()}   # dW_ih, dW_hh, db, dW_out, db_out
    dh_next = np.zeros(2)              # gradient reaching h_t from step t+1 (none after T)
    records = []
    for t in reversed(range(len(steps))):
        s = steps[t]
        dy = np.ones(2)                                 # dL/dy_t
        g["W_out"] += np.outer(dy, s["h"])              # y_t = h_t W_outᵀ + b_out
        g["b_out"] += dy
        dh = dy @ w["W_out"] + dh_next                  # from the output and from step t+1
        da = dh * dphi(s["h"])                          # through φ
        g["W_ih"] += np.outer(da, s["x"])               # a_t = x_t W_ihᵀ + h_(t-1) W_hhᵀ + b
        g["W_hh"] += np.outer(da, s["h_prev"])
        g["b"] += da
        dh_next = da @ w["W_hh"]                        # carried back to step t−1
        records.append(dict(t=t + 1, dy=dy, dh=dh, da=da, dh_next=dh_next,
                            **{"d" + k: v.copy() for k, v in g.items()}))
    return records, g


def srn_backward_with_modules(nonlinearity):
    """The same gradients from the package: functional rnn_forward/rnn_backward (a sequence)
    plus the output layer's gradients. Returns {name: gradient}."""
    w = srn_weights()
    x = SRN_INPUTS[:, None, :]                               # (T, N=1, D)
    y, _, cache = rnn_forward(x, np.zeros((1, 2)), w["W_ih"], w["W_hh"], w["b"], w["b"],
                              nonlinearity)
    h = y[:, 0, :]                                           # (T, H)
    dy = np.ones((3, 2))                                     # dL/dy_t
    dh = dy @ w["W_out"]                                     # into each h_t from its output
    _, _, grads = rnn_backward(dh[:, None, :], None, cache)
    return dict(W_ih=grads["W_ih"], W_hh=grads["W_hh"], b=grads["b_ih"],
                W_out=dy.T @ h, b_out=dy.sum(axis=0))


def print_srn_backward(activation, records):
    print(f"-- backward, φ = {activation}: loss L = Σ_t Σ_k y_t,k (the sum of every output), "
          f"so dL/dy_t = [1, 1] --")
    print("   Going back from t = 3 to t = 1; dh_next is the gradient reaching h_t from step t+1")
    print("   (zero at t = 3). 2x2 gradients are printed [[row 1], [row 2]]; db is the gradient")
    print("   of b_ih and of b_hh alike (they are added in a_t).")
    for r in records:
        t = r["t"]
        print(f"  t = {t}")
        print(f"    dy_{t}    = {fmt(r['dy'])}")
        print(f"    dh      = dy_{t} W_out + dh_next  = {fmt(r['dh'])}")
        print(f"    da      = dh ⊙ φ'(a_{t})          = {fmt(r['da'])}"
              + ("   (φ' = 1)" if activation == "identity" else "   (φ' = 1 − h_t²)"))
        where = f"to step {t - 1}" if t > 1 else "= dL/dh_0"
        print(f"    dh_next = da W_hh               = {fmt(r['dh_next'])}   ({where})")
        print(f"    dW_ih  += daᵀ x_{t}        -> {fmt(r['dW_ih'])}")
        print(f"    dW_hh  += daᵀ h_{t - 1}        -> {fmt(r['dW_hh'])}")
        print(f"    db     += da            -> {fmt(r['db'])}")
        print(f"    dW_out += dy_{t}ᵀ h_{t}      -> {fmt(r['dW_out'])}")
        print(f"    db_out += dy_{t}          -> {fmt(r['db_out'])}")


# ===========================================================================================
# the SRN, top to bottom
# ===========================================================================================

def run_srn(backward=False, verbose=True):
    """Forward (and optionally backward) of the by-hand SRN. Returns a dict of the numbers:
    outputs[activation] (T,) of y_t's first unit, modules[activation] = (cell, layer) outputs
    (T, 2), and with ``backward`` grads[activation] and module_grads[activation]."""
    say = print if verbose else (lambda *a, **k: None)
    result = {"outputs": {}, "modules": {}, "grads": {}, "module_grads": {}}
    if verbose:
        print("SRN by hand: 2 inputs, 2 hidden units, 2 outputs; every weight 1, every bias 0,")
        print("h_0 = [0, 0].   a_t = x_t W_ihᵀ + h_(t-1) W_hhᵀ + b,   h_t = φ(a_t),"
              "   y_t = h_t W_outᵀ + b_out")
    for activation in ("identity", "tanh"):
        steps = srn_by_hand(activation)
        if verbose:
            print()
            print_srn_forward(activation, steps)
        result["outputs"][activation] = [float(s["y"][0]) for s in steps]
        # the modules: RNN's nonlinearity is tanh or relu, and relu(a) = a for a > 0
        nonlinearity = "relu" if activation == "identity" else "tanh"
        cell_y, layer_y = srn_with_modules(nonlinearity)
        result["modules"][activation] = (cell_y, layer_y)
        same = all(np.array_equal(m[:, 0], result["outputs"][activation]) and
                   np.array_equal(m[:, 0], m[:, 1]) for m in (cell_y, layer_y))
        say(f"   nn.RNNCell in a loop ({nonlinearity!r}) -> y = {fmt(cell_y[:, 0])}")
        say(f"   nn.RNN layer         ({nonlinearity!r}) -> y = {fmt(layer_y[:, 0])}")
        if activation == "identity":
            say("   (RNN and RNNCell offer only tanh or relu; relu(a) = a whenever a > 0, and")
            say("    every pre-activation here is positive, so relu reproduces the identity)")
        say(f"   same numbers as by hand, both output units equal: {'yes' if same else 'NO'}")
        documented = result["outputs"][activation] == SRN_OUTPUTS[activation]
        say(f"   the documented outputs {SRN_OUTPUTS[activation]}: "
            f"{'reproduced exactly' if documented else 'NOT reproduced'}")
        if backward:
            records, grads = srn_backward_by_hand(activation, steps)
            module_grads = srn_backward_with_modules(nonlinearity)
            result["grads"][activation] = grads
            result["module_grads"][activation] = module_grads
            if verbose:
                print()
                print_srn_backward(activation, records)
            agree = all(np.allclose(grads[k], module_grads[k], rtol=1e-12, atol=0)
                        for k in grads)
            say(f"   minirnn.functional.rnn_backward ({nonlinearity!r}) gives the same "
                f"gradients: {'yes' if agree else 'NO'}")
    return result


# ===========================================================================================
# the lecture LSTM
# ===========================================================================================

def lecture_lstm(gate_activation="step", cell_activation="identity"):
    """nn.LSTM(4, 1, bias=False) holding the hand-wired weights (weight_hh zero)."""
    lstm = nn.LSTM(4, 1, bias=False, gate_activation=gate_activation,
                   cell_activation=cell_activation)
    lstm.load_state_dict({"weight_ih_l0": LSTM_WEIGHTS, "weight_hh_l0": np.zeros((4, 1))})
    return lstm


def run_lstm_variant(gate_activation, cell_activation):
    """Returns dict of (T,) arrays: i, f, g, o, memory_before, memory (c_t), output."""
    lstm = lecture_lstm(gate_activation, cell_activation)
    out, _ = lstm(LSTM_INPUTS)                      # (T, 1) unbatched
    gates = {k: v[0, :, 0] for k, v in lstm.last_gates.items()}   # layer 0, (T,)
    memory = gates["c"]
    return dict(i=gates["i"], f=gates["f"], g=gates["g"], o=gates["o"],
                memory_before=np.r_[0.0, memory[:-1]], memory=memory, output=out[:, 0])


def print_lstm(r, digits):
    def num(v):
        return f"{v:g}" if digits is None else f"{v:.{digits}f}"
    print(f"{'t':>2}  {'x = (x1, x2, x3, 1)':<20} {'i':>7} {'f':>7} {'g':>7} {'o':>7}  "
          f"{'memory before':>13} {'memory after':>12} {'output':>8}")
    for t, x in enumerate(LSTM_INPUTS):
        row = " ".join(f"{num(r[k][t]):>7}" for k in "ifgo")
        print(f"{t + 1:>2}  {str(tuple(int(v) for v in x)):<20} {row}  "
              f"{num(r['memory_before'][t]):>13} {num(r['memory'][t]):>12} "
              f"{num(r['output'][t]):>8}")


def run_lstm(out=None, verbose=True):
    """The lecture LSTM with step gates (exact) and with the standard sigmoid/tanh (smooth).

    Returns {'step': dict of arrays, 'standard': dict of arrays} (see ``run_lstm_variant``);
    with ``out`` a folder, also saves a heat map of the exact run's gates there.
    """
    exact = run_lstm_variant("step", "identity")
    smooth = run_lstm_variant("sigmoid", "tanh")
    if verbose:
        print("The lecture LSTM: one memory cell, inputs x = (x1 value, x2 write/reset flag, "
              "x3 read flag, 1).")
        print("x2 = 1 writes x1 into memory, x2 = -1 resets it, x3 = 1 outputs it.")
        print("Gate weights (columns x1, x2, x3, 1), loaded as nn.LSTM(4, 1, bias=False)."
              "weight_ih_l0, weight_hh_l0 = 0:")
        for name, row in zip("ifgo", LSTM_WEIGHTS):
            print(f"   {name}: {fmt(row)}")
        print("Rows go in torch's gate order i, f, g, o (input, forget, candidate, output).")
        print("A common mistake is to load them as i, f, o, g or i, g, f, o (the order of some")
        print("papers and other libraries): the network then computes something else entirely.")
        print()
        print("-- gate_activation='step' (1 if a >= 0 else 0), cell_activation='identity': "
              "exact --")
        print_lstm(exact, None)
        print("memory c_t after each step: " + " ".join(f"{v:g}" for v in exact["memory"])
              + "   (read from lstm.last_gates['c'])")
        print("outputs h_t:                " + " ".join(f"{v:g}" for v in exact["output"]))
        documented = (exact["memory"].tolist() == LSTM_MEMORY and
                      exact["output"].tolist() == LSTM_OUTPUTS)
        print(f"the lecture's numbers: {'reproduced exactly' if documented else 'NOT reproduced'}")
        print()
        print("-- the standard LSTM (sigmoid gates, tanh) with the same weights: smooth --")
        print_lstm(smooth, 4)
        print("The sigmoid gates are almost exactly 0 or 1 (every pre-activation is ±10 or")
        print("further), but tanh squashes the candidate: g = tanh(x1) ≈ 1 for x1 >= 2, so the")
        print("memory counts the writes (≈ 1 each) instead of adding up the values, and the")
        print("output o ⊙ tanh(c) can never exceed 1.")
    if out is not None:
        gates = {k: exact[k][:, None] for k in ("i", "f", "o")}     # (T, H=1) each
        gates["c"] = exact["memory"][:, None]
        path = save_plot("plot_gates", {**gates, "h": exact["output"][:, None]},
                         f"{out_dir(out)}/lecture_lstm_gates.png", keys=("i", "f", "o", "c", "h"),
                         tokens=[f"x1={x[0]:g}" + {1: "\nwrite", -1: "\nreset"}.get(x[1], "")
                                 + ("\nread" if x[2] == 1 else "") for x in LSTM_INPUTS],
                         token_label="x1; x2 = 1 write, x2 = −1 reset, x3 = 1 read",
                         gate_activation="step", stacked=True, annotate=True,
                         title="The lecture LSTM, gates: step (0 or 1), cell: identity")
        if path and verbose:
            print(f"\nsaved {path}")
    return {"step": exact, "standard": smooth}
