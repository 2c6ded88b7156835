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
         0 0 0 0 0 7 0 0 6, exactly. ``backward=True`` adds BPTT through the standard LSTM
         (sigmoid gates, tanh) with the same weights, for the loss L = Σ_t h_t, step by step:
         the textbook's lstm_step_forward / lstm_step_backward, every intermediate printed.

Printed numbers are rounded to SIG significant digits so that every line fits 100 columns;
the returned dicts (and the command's summary.json) keep full precision. Equation tags such as
(5') are those of minirnn/textbook/rnn.py and lstm.py.
"""
import numpy as np

from .. import nn
from ..functional.rnn import rnn_backward, rnn_forward
from ..textbook.lstm import lstm_step_backward, lstm_step_forward
from ._common import fmt, num, out_dir, save_plot

SIG = 6                       # significant digits printed (full precision in summary.json)

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
    rows = [(str(t), fmt(s["x"]), *(fmt(s[k], sig=SIG) for k in ("h_prev", "a", "h", "y")))
            for t, s in enumerate(steps, start=1)]
    head = ("t", "x_t", "h_(t-1)", "(1) a_t", "(2) h_t", "y_t")
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
    print(f"-- backward, φ = {activation}: L = Σ_t Σ_k y_t,k (the sum of every output), "
          f"so dL/dy_t = [1, 1] --")
    print("   Going back from t = 3 to t = 1; dh_next is the gradient reaching h_t from step t+1")
    print("   (zero at t = 3). 2x2 gradients are printed [[row 1], [row 2]]; db is the gradient")
    print("   of b_ih and of b_hh alike (they are added in a_t). The tags are the equations of")
    print("   minirnn/textbook/rnn.py; the output layer's lines (dy, dW_out, db_out) have none.")
    dphi = "dh ⊙ φ'(a_{t}), φ' = 1" if activation == "identity" else "dh ⊙ (1 − h_{t}²)"

    def line(tag, name, expr, value, note=""):
        print(f"    {tag:<8} {name:<7} = {expr:<22} = {value}{note}".rstrip())

    def running(tag, name, expr, value):
        print(f"    {tag:<8} {name:<6} += {expr:<12} -> {value}".rstrip())

    for r in records:
        t = r["t"]
        print(f"  t = {t}")
        line("", f"dy_{t}", "dL/dy_{t}".format(t=t), fmt(r["dy"]))
        line("(3')", "dh", f"dy_{t} W_out + dh_next", fmt(r["dh"], sig=SIG))
        line("(2')", "da", dphi.format(t=t), fmt(r["da"], sig=SIG))
        where = f"to step {t - 1}" if t > 1 else "= dL/dh_0"
        line("(1')", "dh_next", "da W_hh", fmt(r["dh_next"], sig=SIG), f"   ({where})")
        running("(1')(4')", "dW_ih", f"daᵀ x_{t}", fmt(r["dW_ih"], sig=SIG))
        running("(1')(4')", "dW_hh", f"daᵀ h_{t - 1}", fmt(r["dW_hh"], sig=SIG))
        running("(1')(4')", "db", "da", fmt(r["db"], sig=SIG))
        running("", "dW_out", f"dy_{t}ᵀ h_{t}", fmt(r["dW_out"], sig=SIG))
        running("", "db_out", f"dy_{t}", fmt(r["db_out"], sig=SIG))


# ===========================================================================================
# the SRN, top to bottom
# ===========================================================================================

def run_srn(backward=False, verbose=True, out=None):
    """Forward (and optionally backward) of the by-hand SRN. Returns a dict of the numbers:
    outputs[activation] (T,) of y_t's first unit, forward[activation] (srn_by_hand's steps),
    modules[activation] = (cell, layer) outputs (T, 2), and with ``backward``
    steps[activation] (srn_backward_by_hand's records), grads[activation] and
    module_grads[activation]. With ``out`` a folder, also saves a figure of h_t (and of the
    gradients per step) there and lists it in files."""
    say = print if verbose else (lambda *a, **k: None)
    result = {"outputs": {}, "forward": {}, "modules": {}, "steps": {}, "grads": {},
              "module_grads": {}, "files": []}
    if verbose:
        print("SRN by hand: 2 inputs, 2 hidden units, 2 outputs; every weight 1, every bias 0, "
              "h_0 = [0, 0].")
        print("   (1) a_t = x_t W_ihᵀ + h_(t-1) W_hhᵀ + b,   (2) h_t = φ(a_t),"
              "   y_t = h_t W_outᵀ + b_out")
        print(f"(tags: the equations of minirnn/textbook/rnn.py; numbers rounded to {SIG} "
              f"significant digits,")
        print(" full precision in summary.json)")
    for activation in ("identity", "tanh"):
        steps = srn_by_hand(activation)
        if verbose:
            print()
            print_srn_forward(activation, steps)
        result["outputs"][activation] = [float(s["y"][0]) for s in steps]
        result["forward"][activation] = steps
        # the modules: RNN's nonlinearity is tanh or relu, and relu(a) = a for a > 0
        nonlinearity = "relu" if activation == "identity" else "tanh"
        cell_y, layer_y = srn_with_modules(nonlinearity)
        result["modules"][activation] = (cell_y, layer_y)
        same = all(np.array_equal(m[:, 0], result["outputs"][activation]) and
                   np.array_equal(m[:, 0], m[:, 1]) for m in (cell_y, layer_y))
        say(f"   nn.RNNCell in a loop ({nonlinearity!r}) -> y = {fmt(cell_y[:, 0], sig=SIG)}")
        say(f"   nn.RNN layer         ({nonlinearity!r}) -> y = {fmt(layer_y[:, 0], sig=SIG)}")
        if activation == "identity":
            say("   (RNN and RNNCell offer only tanh or relu; relu(a) = a whenever a > 0, and")
            say("    every pre-activation here is positive, so relu reproduces the identity)")
        say(f"   same numbers as by hand, both output units equal: {'yes' if same else 'NO'}")
        documented = result["outputs"][activation] == SRN_OUTPUTS[activation]
        say(f"   y_t,1 in full: {', '.join(map(num, result['outputs'][activation]))}")
        say("   the documented outputs: " + ("reproduced exactly" if documented else
                                             "NOT reproduced"))
        if backward:
            records, grads = srn_backward_by_hand(activation, steps)
            module_grads = srn_backward_with_modules(nonlinearity)
            result["steps"][activation] = records
            result["grads"][activation] = grads
            result["module_grads"][activation] = module_grads
            if verbose:
                print()
                print_srn_backward(activation, records)
            agree = all(np.allclose(grads[k], module_grads[k], rtol=1e-12, atol=0)
                        for k in grads)
            say(f"   minirnn.functional.rnn_backward ({nonlinearity!r}) gives the same "
                f"gradients: {'yes' if agree else 'NO'}")
    if out is not None:
        path = save_plot("plot_per_step", srn_figure(result), f"{out_dir(out)}/srn_by_hand.png",
                         annotate=True, title="The by-hand SRN (every weight 1, x = [1, 1], "
                                              "[1, 1], [2, 2])")
        result["files"] = [path] if path else []
        if path and verbose:
            print(f"\nsaved {path}")
    return result


def srn_figure(result):
    """plot_per_step's panels: h_t, and with the backward ‖dh_t‖ and ‖da_t‖ (unit 1 of the
    states: both units are equal; norms over both units)."""
    name = {"identity": "φ = identity", "tanh": "φ = tanh"}
    panels = [dict(title="forward: the state h_t (both units equal)", ylabel="h_t (log scale)",
                   log=True, series={name[a]: [s["h"][0] for s in steps]
                                     for a, steps in result["forward"].items()})]
    if result["steps"]:
        series, styles = {}, {}
        for k, (a, records) in enumerate(result["steps"].items()):
            by_t = sorted(records, key=lambda r: r["t"])              # t = 1..T
            series[f"‖dh_t‖, {name[a]}"] = [np.linalg.norm(r["dh"]) for r in by_t]
            series[f"‖da_t‖, {name[a]}"] = [np.linalg.norm(r["da"]) for r in by_t]
            styles[f"‖dh_t‖, {name[a]}"] = dict(color=f"C{k}")
            styles[f"‖da_t‖, {name[a]}"] = dict(color=f"C{k}", ls="--", marker="s")
        panels.append(dict(title="backward (L = Σ y): what reaches step t",
                           ylabel="gradient L2 norm (log scale)", log=True, series=series,
                           styles=styles))
    return panels


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


# ===========================================================================================
# the lecture LSTM, backward
# ===========================================================================================

def lstm_backward_by_hand():
    """BPTT through the lecture LSTM with the standard activations, for L = Σ_t h_t.

    The output is h_t itself, so dy_t = dL/dh_t from the output = 1 at every step. Forward
    and backward are the textbook's ``lstm_step_forward`` and ``lstm_step_backward``; the
    intermediates of (5') to (2') are the step backward's own local variables, read as it
    returns (``minirnn.trace.recorder.watching``), not computed again here.
    Returns (forward: list per step t = 1..T of dicts x, h_prev, c_prev, i, f, g, o, c,
    tanh_c, h; records: list per step in processing order t = T..1 of dicts t, dh, do, dc,
    di, df, dg, dc_next (= dc_prev of (4'), sent to step t-1), da (4,), dh_next (= dh_prev of
    (1')), and the running sums dW_ih (4, 4), dW_hh (4, 1), db (4,); totals: dicts W_ih,
    W_hh, b (the sums over all steps), dh0, dc0 (1,)).
    """
    from ..textbook import lstm as core
    from ..trace.recorder import watching     # here: minirnn.trace's presets import this module
    W_ih, W_hh = LSTM_WEIGHTS, np.zeros((4, 1))
    b = np.zeros(4)            # no bias: the constant input x4 = 1 plays its part
    h, c = np.zeros((1, 1)), np.zeros((1, 1))             # h_0, c_0: (N=1, H=1)
    caches, forward = [], []
    for x in LSTM_INPUTS:                                 # (6) the loop over t
        h, c, cache = lstm_step_forward(x[None, :], h, c, W_ih, W_hh, b, b)   # (1)-(5)
        caches.append(cache)
        forward.append(dict(x=x, h_prev=cache.h_prev[0, 0], c_prev=cache.c_prev[0, 0],
                            **{k: getattr(cache, k)[0, 0] for k in ("i", "f", "g", "o", "c",
                                                                    "tanh_c")}, h=h[0, 0]))
    sums = dict(W_ih=np.zeros((4, 4)), W_hh=np.zeros((4, 1)), db=np.zeros(4))
    # dh_next, dc_next: the gradients reaching h_t and c_t from step t+1 (none after T)
    dh_next, dc_next = np.zeros((1, 1)), np.zeros((1, 1))
    records = []
    with watching({"step_backward": core.lstm_step_backward}) as calls:   # its locals
        for t in reversed(range(len(caches))):
            dh = 1.0 + dh_next                            # (6') dy_t + dh_next
            _, dh_prev, dc_prev, grads = lstm_step_backward(dh, dc_next, caches[t])
            # what lstm_step_backward computed on the way: its own local variables
            seen = calls[-1]["locals"]
            do, dc, di, df, dg, da = (seen[k] for k in ("do", "dc", "di", "df", "dg", "da"))
            sums["W_ih"] += grads["W_ih"]                 # (1')(7') Σ_t
            sums["W_hh"] += grads["W_hh"]
            sums["db"] += grads["b_ih"]
            records.append(dict(t=t + 1, dh=dh[0, 0], do=do[0, 0], dc=dc[0, 0], di=di[0, 0],
                                df=df[0, 0], dg=dg[0, 0], dc_next=dc_prev[0, 0], da=da[0],
                                dh_next=dh_prev[0, 0], dW_ih=sums["W_ih"].copy(),
                                dW_hh=sums["W_hh"].copy(), db=sums["db"].copy()))
            dh_next, dc_next = dh_prev, dc_prev
    totals = dict(W_ih=sums["W_ih"], W_hh=sums["W_hh"], b=sums["db"], dh0=dh_next[0],
                  dc0=dc_next[0])
    return forward, records, totals


def lstm_module_gradients(gate_activation, cell_activation):
    """Σ_t dW_ih, dW_hh of L = Σ_t h_t from nn.LSTM's backward (the engine, by default)."""
    lstm = lecture_lstm(gate_activation, cell_activation)
    out, _ = lstm(LSTM_INPUTS)                      # (T, 1) unbatched
    lstm.backward(np.ones_like(out))                # dL/dy_t = 1
    return dict(W_ih=lstm.weight_ih_l0.grad, W_hh=lstm.weight_hh_l0.grad)


TAG_SUM = "(1')(7')"          # dW += (1')'s term of step t: the running Σ_t of (7')
TAG_DA = "(3')(2')"


def print_lstm_backward(forward, records):
    T = len(forward)
    print("-- backward: BPTT through the standard LSTM above, L = Σ_t h_t (the sum of the outputs)")
    print("   dy_t = dL/dh_t from the output = 1 at every step; dh_next and dc_next are the")
    print(f"   gradients reaching h_t and c_t from step t+1 (0 at t = {T}). H = 1, so each is one")
    print("   number; da holds the four gate blocks i | f | g | o. Every number comes from")
    print("   minirnn.textbook's lstm_step_forward / lstm_step_backward; the tags are the")
    print("   equations of minirnn/textbook/lstm.py. There is no bias (x4 = 1 plays its part),")
    print("   so Σ db is dW_ih's last column; W_hh = 0, so dh_next is 0 and every gradient")
    print("   reaches earlier steps through the cell state, dc_next = dc ⊙ f.")

    def line(tag, name, expr, value, note=""):
        print(f"    {tag:<9}{name:<8}= {expr:<36} = {value}{note}".rstrip())

    for r in records:
        t = r["t"]
        s = forward[t - 1]
        x = "(" + ", ".join(num(v) for v in s["x"]) + ")"
        print(f"  t = {t}   x_{t} = {x}   h_{t - 1} = {num(s['h_prev'], sig=SIG)}   "
              f"c_{t - 1} = {num(s['c_prev'], sig=SIG)}   c_{t} = {num(s['c'], sig=SIG)}")
        print("          " + "  ".join(f"{k} = {num(s[k], sig=SIG)}" for k in "ifgo")
              + f"  tanh(c_{t}) = {num(s['tanh_c'], sig=SIG)}")
        line("(6')", "dh", f"dy_{t} + dh_next", num(r["dh"], sig=SIG))
        line("(5')", "do", f"dh ⊙ tanh(c_{t})", num(r["do"], sig=SIG))
        line("(5')", "dc", f"dc_next + dh ⊙ o ⊙ (1 − tanh²(c_{t}))", num(r["dc"], sig=SIG))
        line("(4')", "di", "dc ⊙ g", num(r["di"], sig=SIG))
        line("(4')", "df", f"dc ⊙ c_{t - 1}", num(r["df"], sig=SIG))
        line("(4')", "dg", "dc ⊙ i", num(r["dg"], sig=SIG))
        line("(4')", "dc_next", "dc ⊙ f", num(r["dc_next"], sig=SIG),
             f"   (to step {t - 1})" if t > 1 else "   (= dL/dc_0)")
        print(f"    {TAG_DA:<9}{'da':<8}= [di·i(1−i) | df·f(1−f) | dg·(1−g²) | do·o(1−o)]")
        print(f"    {'':<9}{'':<8}= {fmt(r['da'], sig=SIG)}")
        line("(1')", "dh_next", "da W_hh", num(r["dh_next"], sig=SIG),
             f"   (to step {t - 1})" if t > 1 else "   (= dL/dh_0)")
        print(f"    {TAG_SUM:<9}Σ dW_ih += daᵀ x_{t},  Σ dW_hh += daᵀ h_{t - 1}   "
              f"(rows i, f, g, o; columns x1 x2 x3 1 | h)")
        for k, gate in enumerate("ifgo"):
            print(f"    {'':<13}{gate}  {fmt(r['dW_ih'][k], sig=SIG):<52} "
                  f"{fmt(r['dW_hh'][k], sig=SIG)}")


def run_lstm_backward(verbose=True):
    """BPTT through the lecture LSTM (see ``lstm_backward_by_hand``), checked against
    nn.LSTM's backward; and with step gates, nn.LSTM's gradients (every gate's is zero).
    Returns dict: forward, steps (the records), grads (totals), module_agrees, step_gates
    (nn.LSTM's Σ_t dW_ih and dW_hh with step gates and an identity cell, gate_rows_zero)."""
    forward, records, totals = lstm_backward_by_hand()
    module = lstm_module_gradients("sigmoid", "tanh")
    agree = all(np.allclose(totals[k], module[k], rtol=1e-12, atol=1e-300)
                for k in ("W_ih", "W_hh"))
    step = lstm_module_gradients("step", "identity")
    zero_gates = not step["W_ih"][[0, 1, 3]].any() and not step["W_hh"][[0, 1, 3]].any()
    if verbose:
        print()
        print_lstm_backward(forward, records)
        print(f"   nn.LSTM's own backward gives the same Σ_t dW: {'yes' if agree else 'NO'}")
        print()
        print("With the step gates of the exact run, every gate gradient is zero: the step is flat")
        print("on both sides of 0, so σ' = 0 and da_i = da_f = da_o = 0 at every step. nn.LSTM's")
        print(f"backward with step gates: rows i, f, o of Σ dW_ih and Σ dW_hh "
              f"{'are all 0' if zero_gates else 'are NOT all 0'}; only the")
        print(f"candidate's row is not (dW_ih row g = {fmt(step['W_ih'][2], sig=SIG)}). "
              f"Gradient descent cannot learn those gates.")
    return dict(forward=forward, steps=records, grads=totals, module_agrees=agree,
                step_gates=dict(W_ih=step["W_ih"], W_hh=step["W_hh"],
                                gate_rows_zero=zero_gates))


def run_lstm(out=None, verbose=True, backward=False):
    """The lecture LSTM with step gates (exact) and with the standard sigmoid/tanh (smooth).

    Returns {'step': dict of arrays, 'standard': dict of arrays} (see ``run_lstm_variant``),
    and with ``backward`` 'backward' (see ``run_lstm_backward``); with ``out`` a folder, also
    saves a heat map of the exact run's gates there (and with ``backward`` a plot of the
    gradients per step).
    """
    exact = run_lstm_variant("step", "identity")
    smooth = run_lstm_variant("sigmoid", "tanh")
    result = {"step": exact, "standard": smooth}
    if verbose:
        print("The lecture LSTM: one memory cell, inputs x = (x1 value, x2 write/reset flag, "
              "x3 read flag, 1).")
        print("x2 = 1 writes x1 into memory, x2 = -1 resets it, x3 = 1 outputs it.")
        print("Gate weights (columns x1, x2, x3, 1), loaded as nn.LSTM(4, 1, bias=False)."
              "weight_ih_l0,")
        print("weight_hh_l0 = 0:")
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
    if backward:
        result["backward"] = run_lstm_backward(verbose)
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
        result["files"] = [path] if path else []
        if path and verbose:
            print(f"\nsaved {path}")
        if backward:
            path = save_plot("plot_per_step", lstm_backward_figure(result["backward"]),
                             f"{out_dir(out)}/lecture_lstm_backward.png",
                             title="The lecture LSTM (sigmoid, tanh), BPTT of L = Σ_t h_t")
            result["files"] += [path] if path else []
            if path and verbose:
                print(f"saved {path}")
    return result


def lstm_backward_figure(backward):
    """plot_per_step's panels: |dc_t|, ‖da_t‖ and |dc_next| per step (log), and f_t."""
    by_t = sorted(backward["steps"], key=lambda r: r["t"])           # t = 1..T
    dc, sent = "|dc_t|, (5')", "|dc_next| sent to step t−1, (4')"
    return [dict(title="backward: the gradient at step t", ylabel="|gradient| (log scale)",
                 log=True, series={dc: [abs(r["dc"]) for r in by_t],
                                   sent: [abs(r["dc_next"]) for r in by_t],
                                   "‖da_t‖, the four gate blocks, (3')(2')":
                                       [np.linalg.norm(r["da"]) for r in by_t]},
                 styles={dc: dict(ms=7), sent: dict(ls="--", marker="s", ms=4)}),
            dict(title="forward: the forget gate (dc_next = dc ⊙ f)", ylabel="f_t",
                 ylim=(-0.05, 1.05), series={"f_t": [s["f"] for s in backward["forward"]]})]
