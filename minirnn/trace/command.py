"""``minirnn trace {srn,lstm,gru}``: record a network's BPTT and write the page."""
import os

from .page import write_page
from .presets import preset, random_network
from .recorder import record

TITLES = {"srn": "the by-hand SRN (2 units, every weight 1, tanh)",
          "lstm": "the lecture LSTM with sigmoid gates and tanh",
          "gru": "a small GRU (2 inputs, 2 units, 4 steps)"}


def run(network, loss="sum", hidden=None, steps=None, seed=None, out="out/trace",
        verbose=True):
    """Write out/trace_<network>.html for the preset network, or for a random one when any
    of hidden, steps, seed is given (defaults 2 units, 4 steps, seed 0; 2 inputs).
    Returns {'path', 'bytes', 'events', 'loss'}."""
    if hidden is None and steps is None and seed is None:
        net, title = preset(network), f"{network}: {TITLES[network]}"
    else:
        hidden, steps, seed = hidden or 2, steps or 4, 0 if seed is None else seed
        net = random_network(network, hidden=hidden, steps=steps, seed=seed)
        title = f"{network}: random, {hidden} units, 2 inputs, {steps} steps, seed {seed}"
    trace = record(network, net["params"], net["x"], net["h0"], net.get("c0"), loss=loss,
                   title=title)
    path = write_page(trace, out)
    if verbose:
        print(f"{title}; loss: {loss}")
        print(f"{len(trace['events'])} events, L = {trace['loss']['L']:.6g}")
        print(path)
    return {"path": path, "bytes": os.path.getsize(path), "events": len(trace["events"]),
            "loss": trace["loss"]["L"]}
