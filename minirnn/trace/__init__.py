"""``minirnn trace``: an HTML page that steps through BPTT with every real number.

    record(cell, params, x, ...)  run the textbook tier and record every number (recorder.py)
    preset(cell), random_network  the networks to trace (presets.py)
    write_page(trace, folder)     the one self-contained HTML file (page.py, assets/)

docs/trace.md explains the page and the trace's schema.
"""
from .presets import CELLS, preset, random_network
from .recorder import LOSSES, record

__all__ = ["CELLS", "LOSSES", "preset", "random_network", "record"]
