"""Write the trace page: one HTML file with its style, scripts and numbers inlined.

The parts are ordinary files in minirnn/trace/assets/ (installed with the package):
page.html (the skeleton), style.css, cells.js (the three cells' forward and backward in
JavaScript), equations.js (the equations as text, rendered as HTML) and trace.js (the page).
``page_html`` puts them and the recorded trace into the skeleton; the result needs no
network, no build step and no server.
"""
import html
import json
import os
from importlib import resources

from .._io import atomic_write

ASSETS = ("page.html", "style.css", "cells.js", "equations.js", "trace.js")


def asset(name):
    """The text of minirnn/trace/assets/<name>."""
    return (resources.files(__package__) / "assets" / name).read_text(encoding="utf-8")


def page_html(trace):
    """The page for ``trace`` (a dict from ``record``) as one HTML string."""
    # JSON inside <script>: "<" escaped so that no "</script>" in a string can end the block
    data = json.dumps(trace, allow_nan=False, ensure_ascii=False,
                      separators=(",", ":")).replace("<", "\\u003c")
    text = asset("page.html")
    for marker, content in (("__TITLE__", html.escape(trace["title"])),
                            ("/*__STYLE__*/", asset("style.css")),
                            ("/*__CELLS__*/", asset("cells.js")),
                            ("/*__EQUATIONS__*/", asset("equations.js")),
                            ("/*__PAGE__*/", asset("trace.js")),
                            ("/*__DATA__*/", data)):             # the data last: it is text
        if text.count(marker) != 1:
            raise AssertionError(f"page.html should hold {marker} once")
        text = text.replace(marker, content)
    return text


def write_page(trace, folder):
    """Write ``folder``/trace_<cell>.html (created if missing); returns its path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"trace_{trace['cell']}.html")
    with atomic_write(path, encoding="utf-8") as f:
        f.write(page_html(trace))
    return path
