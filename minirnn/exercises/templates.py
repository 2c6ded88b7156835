"""The student's exercise for each cell: equations, then four functions to fill in.

``exercise_source(cell)`` is the file ``minirnn exercise <cell>`` writes; ``exercise_parts(cell)``
is the same text in pieces (docstring, import, one function each, the footer), from which the
exercise notebooks are built, so the file and the notebooks cannot drift apart.
"""

_CHECK = """\
Fill in the four functions below, top to bottom, then check your work:

    minirnn check {file}        (or: python {file})

The checker runs your functions on random numbers and compares them with finite differences
and with minirnn's textbook tier (minirnn/textbook/{module}.py, the answer if you are stuck).
It stops at the first thing that is wrong and says which quantity, and why it might be.
Code index t from 0: x[t] in the code is x_{{t+1}} in the equations.
"""

_DOCS = {"srn": '''\
Exercise: the Elman SRN (simple recurrent network), forward and BPTT backward, in NumPy.

{check}
Notation. N batch, D input features, H hidden units, T time steps. Rows are examples, so a
layer computes x Wᵀ (x @ W.T). Weights in torch's layout:
  W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,);  x_t (N, D), h_t (N, H), h_0 given.

Forward, one step:
  (1) a = x_t W_ihᵀ + b_ih + h_{{t-1}} W_hhᵀ + b_hh          (N, H)
  (2) h_t = tanh(a)                                        (N, H)

Backward, one step, given dh = ∂L/∂h_t, the whole gradient of the loss with respect to h_t:
  (2') da = dh ⊙ (1 − h_t²)                                tanh' taken from the output h_t
  (1') dx = da W_ih;  dh_prev = da W_hh;
       dW_ih = daᵀ x_t;  dW_hh = daᵀ h_{{t-1}};  db_ih = db_hh = Σ_n da    (sum over the batch)

Sequence, t = 1..T:
  (3) h_t, cache_t = step_forward(x_t, h_{{t-1}});  y_t = h_t;  h_n = h_T
BPTT, t = T..1. dh_next is the gradient flowing back into h_t from step t+1; it starts as
dh_n, the gradient of the final state:
  (3') dh = dy_t + dh_next;  dx_t, dh_next, grads_t = step_backward(dh, cache_t)
  (4') dW_ih = Σ_t dW_ih of step t, and the same for W_hh, b_ih, b_hh: the same weights act
       at every step, so their gradients add up over time
''', "lstm": '''\
Exercise: the LSTM, forward and BPTT backward, in NumPy.

{check}
Notation. N batch, D input features, H hidden (cell) units, T time steps. Rows are examples,
so a layer computes x Wᵀ (x @ W.T). Weights in torch's layout, gate blocks in torch's order
i | f | g | o (rows 0:H of W_ih are i, H:2H f, 2H:3H g, 3H:4H o):
  W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,);  x_t (N, D), h_t (N, H), c_t (N, H).
σ(u) = 1 / (1 + exp(−u)), and ⊙ is the element-wise product.

Forward, one step:
  (1) a = x_t W_ihᵀ + b_ih + h_{{t-1}} W_hhᵀ + b_hh          (N, 4H), blocks a_i a_f a_g a_o
  (2) i, f, o = σ(a_i), σ(a_f), σ(a_o)                     (N, H) each
  (3) g = tanh(a_g)                                        (N, H)
  (4) c_t = f ⊙ c_{{t-1}} + i ⊙ g                            (N, H)
  (5) h_t = o ⊙ tanh(c_t)                                  (N, H)

Backward, one step, given dh = ∂L/∂h_t and dc_next, the gradient reaching c_t from step t+1:
  (5') do = dh ⊙ tanh(c_t);  dc = dc_next + dh ⊙ o ⊙ (1 − tanh²(c_t))
  (4') di = dc ⊙ g;  df = dc ⊙ c_{{t-1}};  dg = dc ⊙ i;  dc_prev = dc ⊙ f
  (3')(2') da = [di ⊙ i(1 − i) | df ⊙ f(1 − f) | dg ⊙ (1 − g²) | do ⊙ o(1 − o)]  (N, 4H)
  (1') dx = da W_ih;  dh_prev = da W_hh;
       dW_ih = daᵀ x_t;  dW_hh = daᵀ h_{{t-1}};  db_ih = db_hh = Σ_n da    (sum over the batch)

Sequence, t = 1..T:
  (6) h_t, c_t, cache_t = step_forward(x_t, h_{{t-1}}, c_{{t-1}});  y_t = h_t;  h_n, c_n = h_T, c_T
BPTT, t = T..1. dh_next and dc_next are the gradients flowing back into h_t and c_t from step
t+1; they start as dh_n and dc_n, the gradients of the final states:
  (6') dh = dy_t + dh_next;
       dx_t, dh_next, dc_next, grads_t = step_backward(dh, dc_next, cache_t)
  (7') dW_ih = Σ_t dW_ih of step t, and the same for W_hh, b_ih, b_hh: the same weights act
       at every step, so their gradients add up over time
''', "gru": '''\
Exercise: the GRU (in torch's form), forward and BPTT backward, in NumPy.

{check}
Notation. N batch, D input features, H hidden units, T time steps. Rows are examples, so a
layer computes x Wᵀ (x @ W.T). Weights in torch's layout, gate blocks in torch's order
r | z | n (rows 0:H of W_ih are r, H:2H z, 2H:3H n):
  W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,);  x_t (N, D), h_t (N, H).
σ(u) = 1 / (1 + exp(−u)), and ⊙ is the element-wise product.

Forward, one step:
  (1) gi = x_t W_ihᵀ + b_ih                                (N, 3H), blocks gi_r gi_z gi_n
  (2) gh = h_{{t-1}} W_hhᵀ + b_hh                            (N, 3H), blocks gh_r gh_z gh_n
  (3) r = σ(gi_r + gh_r);  z = σ(gi_z + gh_z)              (N, H) each
  (4) n = tanh(gi_n + r ⊙ gh_n)                            (N, H)
  (5) h_t = (1 − z) ⊙ n + z ⊙ h_{{t-1}}                      (N, H)
Torch applies the reset gate after the recurrent product, r ⊙ (h W_hnᵀ + b_hn); the paper
(Cho et al., 2014) has (r ⊙ h) W_hnᵀ. The checker expects torch's form.

Backward, one step, given dh = ∂L/∂h_t, the whole gradient of the loss with respect to h_t:
  (5') dn = dh ⊙ (1 − z);  dz = dh ⊙ (h_{{t-1}} − n);  dh_prev = dh ⊙ z (+ a term in (1'))
  (4') da_n = dn ⊙ (1 − n²);  dr = da_n ⊙ gh_n
  (3') da_r = dr ⊙ r(1 − r);  da_z = dz ⊙ z(1 − z)
  (2')(1') dgi = [da_r | da_z | da_n];  dgh = [da_r | da_z | r ⊙ da_n]        (N, 3H) each
       dx = dgi W_ih;  dh_prev += dgh W_hh;
       dW_ih = dgiᵀ x_t;  dW_hh = dghᵀ h_{{t-1}};  db_ih = Σ_n dgi;  db_hh = Σ_n dgh

Sequence, t = 1..T:
  (6) h_t, cache_t = step_forward(x_t, h_{{t-1}});  y_t = h_t;  h_n = h_T
BPTT, t = T..1. dh_next is the gradient flowing back into h_t from step t+1; it starts as
dh_n, the gradient of the final state:
  (6') dh = dy_t + dh_next;  dx_t, dh_next, grads_t = step_backward(dh, cache_t)
  (7') dW_ih = Σ_t dW_ih of step t, and the same for W_hh, b_ih, b_hh: the same weights act
       at every step, so their gradients add up over time
'''}

_FUNCS = {"srn": ['''\
def rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One SRN step, equations (1) and (2).

    x (N, D), h_prev (N, H), W_ih (H, D), W_hh (H, H), b_ih (H,), b_hh (H,).
    Returns h (N, H) and a cache: anything you like (a tuple, a dict, a small dataclass)
    holding what rnn_step_backward will need (x, h_prev, h, the weights).
    """
    raise NotImplementedError("rnn_step_forward: write equations (1) and (2)")
''', '''\
def rnn_step_backward(dh, cache):
    """Backward through one SRN step, equations (2') and (1').

    dh (N, H): the whole gradient of the loss with respect to this step's h.
    Returns dx (N, D), dh_prev (N, H) and grads, a dict with this step's
    W_ih (H, D), W_hh (H, H), b_ih (H,) and b_hh (H,) gradients.
    """
    raise NotImplementedError("rnn_step_backward: write equations (2') and (1')")
''', '''\
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run the SRN over a sequence, equation (3): rnn_step_forward for t = 0..T-1.

    x (T, N, D), h0 (N, H), weights as for rnn_step_forward.
    Returns y (T, N, H) (y[t] is the h computed from x[t]), h_n (N, H) (the h after the last
    step) and a cache for rnn_backward (for example the list of step caches).
    """
    raise NotImplementedError("rnn_forward: loop rnn_step_forward over t = 0..T-1, (3)")
''', '''\
def rnn_backward(dy, dh_n, cache):
    """BPTT through the sequence, equations (3') and (4'): t = T-1 down to 0.

    dy (T, N, H): the gradient of every output y[t]; dh_n (N, H): that of the final state.
    Returns dx (T, N, D), dh0 (N, H) and grads, a dict with W_ih (H, D), W_hh (H, H),
    b_ih (H,) and b_hh (H,), each summed over the T steps.
    """
    # for t in reversed(range(T)): ... carry dh_next from one step to the one before (3')
    raise NotImplementedError("rnn_backward: loop rnn_step_backward back in time, (3') (4')")
'''], "lstm": ['''\
def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, equations (1) to (5).

    x (N, D), h_prev (N, H), c_prev (N, H), W_ih (4H, D), W_hh (4H, H), b_ih (4H,), b_hh (4H,).
    Returns h (N, H), c (N, H) and a cache: anything you like (a tuple, a dict, a small
    dataclass) holding what lstm_step_backward will need.
    """
    # H = h_prev.shape[1]; a's gate blocks: a[:, :H], a[:, H:2*H], a[:, 2*H:3*H], a[:, 3*H:]
    raise NotImplementedError("lstm_step_forward: write equations (1) to (5)")
''', '''\
def lstm_step_backward(dh, dc_next, cache):
    """Backward through one LSTM step, equations (5') to (1').

    dh (N, H): the whole gradient of the loss with respect to this step's h;
    dc_next (N, H): the gradient reaching this step's c from step t+1.
    Returns dx (N, D), dh_prev (N, H), dc_prev (N, H) and grads, a dict with this step's
    W_ih (4H, D), W_hh (4H, H), b_ih (4H,) and b_hh (4H,) gradients.
    """
    # np.concatenate([..., ..., ..., ...], axis=1) puts the four gate blocks side by side
    raise NotImplementedError("lstm_step_backward: write equations (5') to (1')")
''', '''\
def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Run the LSTM over a sequence, equation (6): lstm_step_forward for t = 0..T-1.

    x (T, N, D), h0 (N, H), c0 (N, H), weights as for lstm_step_forward.
    Returns y (T, N, H) (y[t] is the h computed from x[t]), h_n (N, H) and c_n (N, H) (the
    states after the last step) and a cache for lstm_backward (e.g. the list of step caches).
    """
    raise NotImplementedError("lstm_forward: loop lstm_step_forward over t = 0..T-1, (6)")
''', '''\
def lstm_backward(dy, dh_n, dc_n, cache):
    """BPTT through the sequence, equations (6') and (7'): t = T-1 down to 0.

    dy (T, N, H): the gradient of every output y[t]; dh_n (N, H), dc_n (N, H): those of the
    final states. Returns dx (T, N, D), dh0 (N, H), dc0 (N, H) and grads, a dict with
    W_ih (4H, D), W_hh (4H, H), b_ih (4H,) and b_hh (4H,), each summed over the T steps.
    """
    # for t in reversed(range(T)): ... carry dh_next and dc_next to the step before (6')
    raise NotImplementedError("lstm_backward: loop lstm_step_backward back in time, (6') (7')")
'''], "gru": ['''\
def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, equations (1) to (5).

    x (N, D), h_prev (N, H), W_ih (3H, D), W_hh (3H, H), b_ih (3H,), b_hh (3H,).
    Returns h (N, H) and a cache: anything you like (a tuple, a dict, a small dataclass)
    holding what gru_step_backward will need.
    """
    # H = h_prev.shape[1]; the gate blocks of gi are gi[:, :H], gi[:, H:2*H], gi[:, 2*H:]
    raise NotImplementedError("gru_step_forward: write equations (1) to (5)")
''', '''\
def gru_step_backward(dh, cache):
    """Backward through one GRU step, equations (5') to (1').

    dh (N, H): the whole gradient of the loss with respect to this step's h.
    Returns dx (N, D), dh_prev (N, H) and grads, a dict with this step's
    W_ih (3H, D), W_hh (3H, H), b_ih (3H,) and b_hh (3H,) gradients.
    """
    # np.concatenate([..., ..., ...], axis=1) puts the three gate blocks side by side
    raise NotImplementedError("gru_step_backward: write equations (5') to (1')")
''', '''\
def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run the GRU over a sequence, equation (6): gru_step_forward for t = 0..T-1.

    x (T, N, D), h0 (N, H), weights as for gru_step_forward.
    Returns y (T, N, H) (y[t] is the h computed from x[t]), h_n (N, H) (the h after the last
    step) and a cache for gru_backward (for example the list of step caches).
    """
    raise NotImplementedError("gru_forward: loop gru_step_forward over t = 0..T-1, (6)")
''', '''\
def gru_backward(dy, dh_n, cache):
    """BPTT through the sequence, equations (6') and (7'): t = T-1 down to 0.

    dy (T, N, H): the gradient of every output y[t]; dh_n (N, H): that of the final state.
    Returns dx (T, N, D), dh0 (N, H) and grads, a dict with W_ih (3H, D), W_hh (3H, H),
    b_ih (3H,) and b_hh (3H,), each summed over the T steps.
    """
    # for t in reversed(range(T)): ... carry dh_next from one step to the one before (6')
    raise NotImplementedError("gru_backward: loop gru_step_backward back in time, (6') (7')")
''']}

_MODULES = {"srn": "rnn", "lstm": "lstm", "gru": "gru"}

IMPORTS = "import numpy as np\n"

_FOOTER = '''\
if __name__ == "__main__":          # python {file} checks this file
    from minirnn.exercises import check_main
    raise SystemExit(check_main([__file__]))
'''


def exercise_filename(cell):
    """The name of the file ``minirnn exercise <cell>`` writes: ``lstm_exercise.py``."""
    return f"{cell}_exercise.py"


_CHECK_NOTEBOOK = """\
Fill in the four functions below, top to bottom, then run the last cell: it runs your functions
on random numbers and compares them with finite differences and with minirnn's textbook tier
(minirnn/textbook/{module}.py, the answer if you are stuck). It stops at the first thing that
is wrong and says which quantity, and why it might be.
Code index t from 0: x[t] in the code is x_{{t+1}} in the equations.
"""


def exercise_parts(cell, file=None, notebook=False):
    """(docstring, imports, [the four functions' sources], footer) of ``cell``'s exercise;
    ``notebook`` words the instructions for the notebook."""
    file = file or exercise_filename(cell)
    check = (_CHECK_NOTEBOOK if notebook else _CHECK).format(file=file, module=_MODULES[cell])
    doc = _DOCS[cell].format(check=check)
    return doc, IMPORTS, list(_FUNCS[cell]), _FOOTER.format(file=file)


def exercise_source(cell, file=None):
    """The text of the student's file for ``cell`` ('srn', 'lstm' or 'gru')."""
    doc, imports, funcs, footer = exercise_parts(cell, file)
    return '"""' + doc + '"""\n' + imports + "\n\n" + "\n\n".join(funcs) + "\n\n" + footer


def _cell(kind, source, **metadata):
    lines = source.rstrip("\n").split("\n")
    cell = {"cell_type": kind, "metadata": metadata,
            "source": [line + "\n" for line in lines[:-1]] + lines[-1:]}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


# The notebooks show the equations of _DOCS rendered as LaTeX ($...$ and $$...$$, which GitHub
# and Jupyter both render), followed by _DOCS's own plain text; tests/test_notebooks.py checks
# that the two number the same equations in the same order.
_LATEX = {"srn": r'''
**Notation.** $N$ batch, $D$ input features, $H$ hidden units, $T$ time steps. Rows are
examples, so a layer computes $x W^\top$ (`x @ W.T`). Weights in torch's layout:
$W_{ih}$ $(H, D)$, $W_{hh}$ $(H, H)$, $b_{ih}$ $(H)$, $b_{hh}$ $(H)$; $x_t$ $(N, D)$,
$h_t$ $(N, H)$, $h_0$ given.

**Forward, one step:**

$$
\begin{array}{lll}
\text{(1)} & a = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh} & (N, H) \\
\text{(2)} & h_t = \tanh(a) & (N, H)
\end{array}
$$

**Backward, one step,** given $dh = \partial L / \partial h_t$, the whole gradient of the loss
with respect to $h_t$:

$$
\begin{array}{lll}
\text{(2')} & da = dh \odot (1 - h_t^2) & \tanh' \text{ taken from the output } h_t \\
\text{(1')} & dx = da \, W_{ih}; \quad dh_\text{prev} = da \, W_{hh} & \\
 & dW_{ih} = da^\top x_t; \quad dW_{hh} = da^\top h_{t-1} & \\
 & db_{ih} = db_{hh} = \textstyle\sum_n da & \text{sum over the batch}
\end{array}
$$

**Sequence,** $t = 1, \dots, T$:

- (3) `h_t, cache_t = step_forward(x_t, h_{t-1})`; $\; y_t = h_t$; $\; h_n = h_T$

**BPTT,** $t = T, \dots, 1$. `dh_next` is the gradient flowing back into $h_t$ from step
$t+1$; it starts as $dh_n$, the gradient of the final state:

- (3') $dh = dy_t + dh_\text{next}$; then `dx_t, dh_next, grads_t = step_backward(dh, cache_t)`
- (4') $dW_{ih} = \sum_t dW_{ih}^{(t)}$, the gradient of step $t$ summed over the steps, and
  the same for $W_{hh}$, $b_{ih}$, $b_{hh}$: the same weights act at every step, so their
  gradients add up over time
''', "lstm": r'''
**Notation.** $N$ batch, $D$ input features, $H$ hidden (cell) units, $T$ time steps. Rows are
examples, so a layer computes $x W^\top$ (`x @ W.T`). Weights in torch's layout, gate blocks in
torch's order $i \mid f \mid g \mid o$ (rows `0:H` of $W_{ih}$ are $i$, `H:2H` $f$, `2H:3H` $g$,
`3H:4H` $o$): $W_{ih}$ $(4H, D)$, $W_{hh}$ $(4H, H)$, $b_{ih}$ $(4H)$, $b_{hh}$ $(4H)$;
$x_t$ $(N, D)$, $h_t$ $(N, H)$, $c_t$ $(N, H)$. $\sigma(u) = 1 / (1 + e^{-u})$, and $\odot$ is
the element-wise product.

**Forward, one step:**

$$
\begin{array}{lll}
\text{(1)} & a = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}
  & (N, 4H), \text{ blocks } a_i, a_f, a_g, a_o \\
\text{(2)} & i, f, o = \sigma(a_i), \sigma(a_f), \sigma(a_o) & (N, H) \text{ each} \\
\text{(3)} & g = \tanh(a_g) & (N, H) \\
\text{(4)} & c_t = f \odot c_{t-1} + i \odot g & (N, H) \\
\text{(5)} & h_t = o \odot \tanh(c_t) & (N, H)
\end{array}
$$

**Backward, one step,** given $dh = \partial L / \partial h_t$ and $dc$, the gradient reaching
$c_t$ from step $t+1$:

$$
\begin{array}{lll}
\text{(5')} & do = dh \odot \tanh(c_t); \quad dc_t = dc + dh \odot o \odot (1 - \tanh^2(c_t)) & \\
\text{(4')} & di = dc_t \odot g; \quad df = dc_t \odot c_{t-1}; \quad dg = dc_t \odot i & \\
 & dc_\text{prev} = dc_t \odot f & \\
\text{(3')(2')} & da = \big[\, di \odot i(1 - i) \mid df \odot f(1 - f) \mid dg \odot (1 - g^2)
  \mid do \odot o(1 - o) \,\big] & (N, 4H) \\
\text{(1')} & dx = da \, W_{ih}; \quad dh_\text{prev} = da \, W_{hh} & \\
 & dW_{ih} = da^\top x_t; \quad dW_{hh} = da^\top h_{t-1} & \\
 & db_{ih} = db_{hh} = \textstyle\sum_n da & \text{sum over the batch}
\end{array}
$$

**Sequence,** $t = 1, \dots, T$:

- (6) `h_t, c_t, cache_t = step_forward(x_t, h_{t-1}, c_{t-1})`; $\; y_t = h_t$;
  $\; h_n, c_n = h_T, c_T$

**BPTT,** $t = T, \dots, 1$. `dh_next` and `dc_next` are the gradients flowing back into $h_t$
and $c_t$ from step $t+1$; they start as $dh_n$ and $dc_n$, the gradients of the final states:

- (6') $dh = dy_t + dh_\text{next}$; then
  `dx_t, dh_next, dc_next, grads_t = step_backward(dh, dc_next, cache_t)`
- (7') $dW_{ih} = \sum_t dW_{ih}^{(t)}$, the gradient of step $t$ summed over the steps, and
  the same for $W_{hh}$, $b_{ih}$, $b_{hh}$: the same weights act at every step, so their
  gradients add up over time
''', "gru": r'''
**Notation.** $N$ batch, $D$ input features, $H$ hidden units, $T$ time steps. Rows are
examples, so a layer computes $x W^\top$ (`x @ W.T`). Weights in torch's layout, gate blocks in
torch's order $r \mid z \mid n$ (rows `0:H` of $W_{ih}$ are $r$, `H:2H` $z$, `2H:3H` $n$):
$W_{ih}$ $(3H, D)$, $W_{hh}$ $(3H, H)$, $b_{ih}$ $(3H)$, $b_{hh}$ $(3H)$; $x_t$ $(N, D)$,
$h_t$ $(N, H)$. $\sigma(u) = 1 / (1 + e^{-u})$, and $\odot$ is the element-wise product.

**Forward, one step:**

$$
\begin{array}{lll}
\text{(1)} & gi = x_t W_{ih}^\top + b_{ih} & (N, 3H), \text{ blocks } gi_r, gi_z, gi_n \\
\text{(2)} & gh = h_{t-1} W_{hh}^\top + b_{hh} & (N, 3H), \text{ blocks } gh_r, gh_z, gh_n \\
\text{(3)} & r = \sigma(gi_r + gh_r); \quad z = \sigma(gi_z + gh_z) & (N, H) \text{ each} \\
\text{(4)} & n = \tanh(gi_n + r \odot gh_n) & (N, H) \\
\text{(5)} & h_t = (1 - z) \odot n + z \odot h_{t-1} & (N, H)
\end{array}
$$

Torch applies the reset gate after the recurrent product, $r \odot (h W_{hn}^\top + b_{hn})$;
the paper (Cho et al., 2014) has $(r \odot h) W_{hn}^\top$. The checker expects torch's form.

**Backward, one step,** given $dh = \partial L / \partial h_t$, the whole gradient of the loss
with respect to $h_t$:

$$
\begin{array}{lll}
\text{(5')} & dn = dh \odot (1 - z); \quad dz = dh \odot (h_{t-1} - n) & \\
 & dh_\text{prev} = dh \odot z & \text{(+ a term in (1'))} \\
\text{(4')} & da_n = dn \odot (1 - n^2); \quad dr = da_n \odot gh_n & \\
\text{(3')} & da_r = dr \odot r(1 - r); \quad da_z = dz \odot z(1 - z) & \\
\text{(2')(1')} & dgi = \big[\, da_r \mid da_z \mid da_n \,\big] & (N, 3H) \\
 & dgh = \big[\, da_r \mid da_z \mid r \odot da_n \,\big] & (N, 3H) \\
 & dx = dgi \, W_{ih}; \quad dh_\text{prev} \mathrel{+}= dgh \, W_{hh} & \\
 & dW_{ih} = dgi^\top x_t; \quad dW_{hh} = dgh^\top h_{t-1} & \\
 & db_{ih} = \textstyle\sum_n dgi; \quad db_{hh} = \textstyle\sum_n dgh &
\end{array}
$$

**Sequence,** $t = 1, \dots, T$:

- (6) `h_t, cache_t = step_forward(x_t, h_{t-1})`; $\; y_t = h_t$; $\; h_n = h_T$

**BPTT,** $t = T, \dots, 1$. `dh_next` is the gradient flowing back into $h_t$ from step
$t+1$; it starts as $dh_n$, the gradient of the final state:

- (6') $dh = dy_t + dh_\text{next}$; then `dx_t, dh_next, grads_t = step_backward(dh, cache_t)`
- (7') $dW_{ih} = \sum_t dW_{ih}^{(t)}$, the gradient of step $t$ summed over the steps, and
  the same for $W_{hh}$, $b_{ih}$, $b_{hh}$: the same weights act at every step, so their
  gradients add up over time
'''}


def exercise_notebook(cell):
    """``cell``'s exercise as a notebook (nbformat 4 JSON, without outputs): the instructions
    and the equations rendered as LaTeX, the same equations as the exercise file's plain text,
    one code cell per function (tagged "exercise"), and a last cell that runs the checker."""
    doc, imports, funcs, _ = exercise_parts(cell, notebook=True)
    title, _, rest = doc.partition("\n")
    check = _CHECK_NOTEBOOK.format(module=_MODULES[cell])
    equations = rest.strip().partition(check.strip())[2].strip()    # _DOCS after the instructions
    instructions = (check.replace(f"minirnn/textbook/{_MODULES[cell]}.py",
                                  f"`minirnn/textbook/{_MODULES[cell]}.py`")
                    .replace("x[t]", "`x[t]`").replace("x_{t+1}", "$x_{t+1}$"))
    cells = [_cell("markdown", f"# {title}\n\n{instructions}\n{_LATEX[cell]}"),
             _cell("markdown", "The same equations in plain text, as the exercise file "
                               f"(`minirnn exercise {cell}`) writes them:\n\n"
                               f"```text\n{equations}\n```"),
             _cell("code", imports)]
    cells += [_cell("code", f, tags=["exercise"]) for f in funcs]
    cells += [_cell("markdown", "Check your functions (run this cell again after every fix):"),
              _cell("code", "from minirnn.exercises import check_functions\n\n"
                            "passed = check_functions(globals(), label=\"this notebook\")")]
    for k, c in enumerate(cells):
        c["id"] = f"{cell}-{k}"
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3",
                                                        "language": "python", "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}
