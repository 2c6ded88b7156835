"""The hand-wired LSTM of the well-known lecture example, and ``LSTM.last_gates``.

One cell, four inputs (value, "remember" flag, "recall" flag, constant 1), step gates and an
identity cell activation: the input gate opens on "remember", the forget gate closes on a
negative flag, the output gate opens on "recall". Every number below can be checked by hand.
"""
import numpy as np
import pytest
import torch

import minirnn
import minirnn.nn as mnn
from torch_oracle import assert_close, copy_weights, randomize_, tensor

# rows in torch gate order i, f, g, o; columns: value, remember, recall, constant 1
W_IH = np.array([[0, 100, 0, -10],   # i: open when remember = 1
                 [0, 100, 0, 10],    # f: keep unless remember = -1
                 [1, 0, 0, 0],       # g: the value itself
                 [0, 0, 100, -10]],  # o: open when recall = 1
                dtype=np.float64)
INPUTS = np.array([[1, 0, 0, 1], [3, 1, 0, 1], [2, 0, 0, 1], [4, 1, 0, 1], [2, 0, 0, 1],
                   [1, 0, 1, 1], [3, -1, 0, 1], [6, 1, 0, 1], [1, 0, 1, 1]], dtype=np.float64)
OUTPUTS = [0, 0, 0, 0, 0, 7, 0, 0, 6]
MEMORY = [0, 3, 3, 7, 7, 7, 0, 6, 6]  # c_t after each step (before each step: 0, then these)
GATE_I = [0, 1, 0, 1, 0, 0, 0, 1, 0]
GATE_F = [1, 1, 1, 1, 1, 1, 0, 1, 1]
GATE_O = [0, 0, 0, 0, 0, 1, 0, 0, 1]


def lecture_lstm(**activations):
    activations = activations or dict(gate_activation="step", cell_activation="identity")
    lstm = mnn.LSTM(4, 1, bias=False, **activations)
    lstm.load_state_dict({"weight_ih_l0": W_IH, "weight_hh_l0": np.zeros((4, 1))})
    return lstm


def test_lecture_outputs_are_exact():
    lstm = lecture_lstm()
    out, (h_n, c_n) = lstm(INPUTS)
    assert out.shape == (9, 1) and h_n.shape == (1, 1) and c_n.shape == (1, 1)
    np.testing.assert_array_equal(out[:, 0], OUTPUTS)
    np.testing.assert_array_equal(h_n, [[6]])
    np.testing.assert_array_equal(c_n, [[6]])


def test_lecture_gates_and_memory_are_exact():
    lstm = lecture_lstm()
    lstm(INPUTS)
    gates = lstm.last_gates
    for name in "ifgoc":
        assert gates[name].shape == (1, 9, 1), name
    np.testing.assert_array_equal(gates["c"][0, :, 0], MEMORY)
    np.testing.assert_array_equal(gates["i"][0, :, 0], GATE_I)
    np.testing.assert_array_equal(gates["f"][0, :, 0], GATE_F)
    np.testing.assert_array_equal(gates["o"][0, :, 0], GATE_O)
    np.testing.assert_array_equal(gates["g"][0, :, 0], INPUTS[:, 0])


def test_step_of_zero_is_one():
    """With the constant input 0 every gate's pre-activation is exactly 0: step(0) = 1."""
    lstm = lecture_lstm()
    out, (h_n, c_n) = lstm(np.array([[5.0, 0.0, 0.0, 0.0]]))
    np.testing.assert_array_equal(out, [[5.0]])
    np.testing.assert_array_equal(c_n, [[5.0]])
    for name in "ifo":
        np.testing.assert_array_equal(lstm.last_gates[name], [[[1.0]]])


def test_lecture_batched_copies_agree():
    lstm = lecture_lstm()
    out, _ = lstm(np.stack([INPUTS, INPUTS], axis=1))  # (9, 2, 4)
    np.testing.assert_array_equal(out[:, 0, 0], OUTPUTS)
    np.testing.assert_array_equal(out[:, 1, 0], OUTPUTS)
    assert lstm.last_gates["c"].shape == (1, 9, 2, 1)
    np.testing.assert_array_equal(lstm.last_gates["c"][0, :, 1, 0], MEMORY)


def test_lecture_cell_stepped_by_hand():
    cell = mnn.LSTMCell(4, 1, bias=False, gate_activation="step", cell_activation="identity")
    cell.load_state_dict({"weight_ih": W_IH, "weight_hh": np.zeros((4, 1))})
    h = c = np.zeros(1)
    outputs, memory = [], []
    for x_t in INPUTS:
        h, c = cell(x_t, (h, c))
        outputs.append(h[0])
        memory.append(c[0])
    assert outputs == OUTPUTS and memory == MEMORY


def test_lecture_gradients_pass_finite_differences():
    """Step gates have derivative 0 and every pre-activation is >= 10 away from the jump."""
    errors = minirnn.gradcheck(lecture_lstm(), INPUTS.copy(), eps=1e-6, seed=0)
    assert errors and max(errors.values()) < 1e-7, errors


def test_lecture_weights_with_default_activations_match_torch():
    lstm = lecture_lstm(gate_activation="sigmoid", cell_activation="tanh")
    ref = torch.nn.LSTM(4, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.from_numpy(W_IH))
        ref.weight_hh_l0.zero_()
    x = tensor(INPUTS, True)
    out_t, (h_t, c_t) = ref(x)
    g = np.random.default_rng(0).standard_normal((9, 1))
    (out_t * tensor(g)).sum().backward()
    out, (h_n, c_n) = lstm(INPUTS)
    grad_x, _ = lstm.backward(g)
    assert_close(out, out_t, np.float64, "output", "lecture")
    assert_close(c_n, c_t, np.float64, "c_n", "lecture")
    assert_close(grad_x, x.grad, np.float64, "grad of x", "lecture")
    assert_close(lstm.weight_ih_l0.grad, ref.weight_ih_l0.grad, np.float64, "grad W_ih",
                 "lecture")


# ---- last_gates of a deep bidirectional LSTM, against gates computed from torch's weights ---

def reference_gates(ref, x, h0, c0):
    """Gates of every layer and direction, stepping torch's weights by hand (x: (L, N, D)).

    Returns (gates dict shaped (layers*2, L, N, H), output (L, N, 2H)).
    """
    L = x.shape[0]
    gates = {k: [] for k in "ifgoc"}
    layer_in = x
    for layer in range(ref.num_layers):
        outs = []
        for d, suffix in enumerate(["", "_reverse"]):
            p = {n: getattr(ref, f"{n}_l{layer}{suffix}") for n in
                 ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            k = 2 * layer + d
            h, c = h0[k], c0[k]
            per_t = {n: [None] * L for n in "ifgoc"}
            out = [None] * L
            for t in (range(L) if d == 0 else reversed(range(L))):
                a = (layer_in[t] @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T
                     + p["bias_hh"])
                a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
                i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
                g = torch.tanh(a_g)
                c = f * c + i * g
                h = o * torch.tanh(c)
                for n, v in zip("ifgoc", (i, f, g, o, c)):
                    per_t[n][t] = v
                out[t] = h
            for n in "ifgoc":
                gates[n].append(torch.stack(per_t[n]))
            outs.append(torch.stack(out))
        layer_in = torch.cat(outs, dim=-1)
    return {n: torch.stack(v).detach() for n, v in gates.items()}, layer_in.detach()


@pytest.mark.parametrize("with_hx", [False, True])
def test_last_gates_of_bidirectional_two_layer_lstm(with_hx):
    L, N, D, H = 5, 3, 2, 4
    rng = np.random.default_rng(1)
    ref = randomize_(torch.nn.LSTM(D, H, num_layers=2, bidirectional=True, dtype=torch.float64),
                     rng)
    lstm = copy_weights(mnn.LSTM(D, H, num_layers=2, bidirectional=True, rng=0), ref)
    x = rng.standard_normal((L, N, D))
    h0 = rng.standard_normal((4, N, H)) if with_hx else np.zeros((4, N, H))
    c0 = rng.standard_normal((4, N, H)) if with_hx else np.zeros((4, N, H))
    expected, expected_out = reference_gates(ref, tensor(x), tensor(h0), tensor(c0))
    out_t, _ = ref(tensor(x), (tensor(h0), tensor(c0)))
    np.testing.assert_allclose(expected_out.numpy(), out_t.detach().numpy(), rtol=1e-12)

    out, _ = lstm(x, (h0, c0) if with_hx else None)
    gates = lstm.last_gates
    assert set(gates) >= set("ifgoc")
    for n in "ifgoc":
        assert_close(gates[n], expected[n], np.float64, f"last_gates[{n!r}]", "last_gates")
        assert gates[n].shape == (4, L, N, H)


def test_last_gates_unbatched_shape():
    lstm = mnn.LSTM(3, 2, num_layers=2, bidirectional=True, rng=0)
    lstm(np.random.default_rng(0).standard_normal((6, 3)))
    for n in "ifgoc":
        assert lstm.last_gates[n].shape == (4, 6, 2)


def test_last_gates_refreshed_by_each_forward():
    lstm = lecture_lstm()
    lstm(INPUTS)
    lstm(INPUTS[:3])
    assert lstm.last_gates["c"].shape == (1, 3, 1)
    np.testing.assert_array_equal(lstm.last_gates["c"][0, :, 0], MEMORY[:3])
