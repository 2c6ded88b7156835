"""What the exercises and the checker know about each cell: names, arguments, gate blocks.

A cell has one or two states: ``h`` (SRN, GRU) or ``h, c`` (LSTM). Every function's arguments
and outputs follow from that, so the checker handles the three cells with one code path:

    step forward    f(x, *states_prev, W_ih, W_hh, b_ih, b_hh)  -> (*states, cache)
    step backward   b(*d_states, cache)                          -> (dx, *d_states_prev, grads)
    sequence fwd    F(x, *states_0, W_ih, W_hh, b_ih, b_hh)      -> (y, *states_n, cache)
    sequence bwd    B(dy, *d_states_n, cache)                    -> (dx, *d_states_0, grads)
"""
from dataclasses import dataclass

WEIGHTS = ("W_ih", "W_hh", "b_ih", "b_hh")        # the keys of every grads dict


@dataclass(frozen=True)
class Cell:
    name: str              # what the student types: srn, lstm, gru
    title: str             # what the checker prints
    prefix: str            # of the function names: rnn_, lstm_, gru_
    states: tuple          # ("h",) or ("h", "c")
    gates: tuple           # gate blocks of W_ih's rows, torch's order (SRN: one block "a")
    forward_eqs: str       # the equations the step forward implements, for messages

    @property
    def G(self):
        return len(self.gates)

    @property
    def GH(self):
        """How the templates write the number of rows of W_ih: H, 4H or 3H."""
        return "H" if self.G == 1 else f"{self.G}H"

    @property
    def functions(self):
        p = self.prefix
        return (f"{p}step_forward", f"{p}step_backward", f"{p}forward", f"{p}backward")

    def arguments(self, function):
        """The contract's positional arguments of one of ``functions``."""
        step_forward, step_backward, forward, backward = self.functions
        prev = tuple(f"{s}_prev" for s in self.states)
        if function == step_forward:
            return ("x",) + prev + WEIGHTS
        if function == step_backward:
            # dh is the whole gradient of h_t; a carried state's is dc_next (dc sums both parts)
            return ("dh",) + tuple(f"d{s}_next" for s in self.states[1:]) + ("cache",)
        if function == forward:
            return ("x",) + tuple(f"{s}0" for s in self.states) + WEIGHTS
        return ("dy",) + tuple(f"d{s}_n" for s in self.states) + ("cache",)


CELLS = {
    "srn": Cell("srn", "SRN", "rnn_", ("h",), ("a",), "(1) and (2)"),
    "lstm": Cell("lstm", "LSTM", "lstm_", ("h", "c"), ("i", "f", "g", "o"), "(1) to (5)"),
    "gru": Cell("gru", "GRU", "gru_", ("h",), ("r", "z", "n"), "(1) to (5)"),
}
