"""The trace page in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
Playwright. It loads without an error, steps through every event showing the recorded
numbers, its JavaScript cells equal the textbook tier to 1e-12, and an edit recomputes what
Python computes. A missing browser skips these tests on a laptop and fails them in CI
(CI=true); never run `playwright install` (it downloads a browser): .ci/run installs
Debian's chromium.

Screenshots of a forward and a backward event go to out/trace-screenshots/ for review; with
MINIRNN_UPDATE_SCREENSHOTS=1 they also replace docs/img/trace_lstm_*.png (README's).
"""
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from minirnn.trace import LOSSES, preset, random_network, record
from minirnn.trace.command import TITLES
from minirnn.trace.page import write_page

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]
CELLS = ("srn", "lstm", "gru")
TOL = 1e-12                      # |browser − textbook| ≤ TOL · max(1, |textbook|)


def _missing_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e .[test])"
    if not os.access(CHROMIUM, os.X_OK):
        return (f"no browser at {CHROMIUM} (apt-get install chromium; never "
                f"`playwright install`)")
    return ""


@pytest.fixture(scope="module")
def browser():
    problem = _missing_browser()
    if problem:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI must run the browser tests: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def trace_of(cell, net, loss="sum"):
    return record(cell, net["params"], net["x"], net["h0"], net.get("c0"), loss=loss,
                  title=f"{cell}: {TITLES[cell]}")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """{cell: (path of its preset's page, the trace)}, each written when first asked for."""
    folder = tmp_path_factory.mktemp("trace")

    class Pages(dict):
        def __missing__(self, cell):
            trace = trace_of(cell, preset(cell))
            self[cell] = (write_page(trace, folder), trace)
            return self[cell]
    return Pages()


def open_page(browser, url):
    """A new tab at ``url``; returns (page, errors: console errors and page errors)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.minirnnPage && window.minirnnPage.readyMs > 0")
    return page, errors


def assert_agree(js, rec, where=""):
    """Every number of the recording ``rec`` is in ``js`` and equal to TOL."""
    if isinstance(rec, dict):
        for k, v in rec.items():
            if v is not None:
                assert_agree(js[k], v, f"{where}.{k}")
    elif isinstance(rec, list):
        assert len(js) == len(rec), where
        for k, (a, b) in enumerate(zip(js, rec)):
            assert_agree(a, b, f"{where}[{k}]")
    else:
        assert abs(js - rec) <= TOL * max(1, abs(rec)), (where, js, rec)


def numbers_of(trace):
    """The parts of a trace the browser recomputes."""
    keys = ("forward", "backward", "sums", "dy", "grads", "norms")
    return {**{k: trace[k] for k in keys}, "L": trace["loss"]["L"]}


def js_numbers(js):
    return {**{k: js[k] for k in ("forward", "backward", "sums", "dy", "grads", "norms")},
            "L": js["loss"]["L"]}


# ---- loading ------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
def test_page_loads_fast_without_errors_and_agrees_with_the_textbook(browser, pages, cell):
    path, trace = pages[cell]
    page, errors = open_page(browser, Path(path).as_uri())
    assert errors == []
    state = page.evaluate("({a: minirnnPage.agreement, ms: minirnnPage.readyMs, "
                          "badge: document.getElementById('badge').className, "
                          "trace: window.minirnnTrace})")
    assert state["a"]["ok"] and state["a"]["bad"] == 0 and state["a"]["count"] > 100
    assert state["badge"] == "badge ok"
    assert state["trace"] == trace                       # the recording, exposed as is
    assert state["ms"] < 1000, f"the page took {state['ms']:.0f} ms to be ready"
    page.close()


def test_page_works_from_a_static_server_and_opens_at_the_event_in_its_address(browser, pages):
    folder = Path(pages["srn"][0]).parent
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/trace_srn.html#backward-t2-da"
        page, errors = open_page(browser, url)
        assert errors == []
        assert page.evaluate("document.body.dataset.event") == "backward-t2-da"
        assert page.evaluate("minirnnPage.agreement.ok")
        page.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_recording_the_browser_does_not_reproduce_is_flagged_loudly(browser, tmp_path):
    trace = trace_of("gru", preset("gru"))
    trace["backward"][1]["da_z"][0] += 1e-9                 # one number off, as a bug would be
    page, errors = open_page(browser, Path(write_page(trace, tmp_path)).as_uri())
    badge = page.evaluate("({cls: document.getElementById('badge').className, "
                          "text: document.getElementById('badge').textContent})")
    assert badge["cls"] == "badge bad"
    assert "DISAGREEMENT" in badge["text"] and "backward[1].da_z[0]" in badge["text"]
    assert "in 1 of" in badge["text"]
    page.close()


# ---- stepping -----------------------------------------------------------------------------

SHOWN = """() => ({
  event: document.body.dataset.event,
  current: [...document.querySelectorAll('#graph .node.current')].map((n) => n.id),
  shown: [...document.querySelectorAll('#values .quantity')].map((q) => ({
    name: q.dataset.name,
    values: [...q.querySelectorAll('td')].map((td) => Number(td.dataset.value))})),
  source: document.getElementById('source').textContent,
  equation: document.getElementById('equation').textContent })"""


def recorded(trace, ref, t):
    table, name = ref.split(".")
    value = (trace["loss"][name] if table == "loss" else trace["params"][name]
             if table == "params" else trace[table][t - 1][name])
    return list(np.ravel(value))


@pytest.mark.parametrize("cell", CELLS)
def test_stepping_through_every_event_shows_its_recorded_values(browser, pages, cell):
    path, trace = pages[cell]
    page, errors = open_page(browser, Path(path).as_uri())
    before = None
    for i, event in enumerate(trace["events"]):
        if i:
            page.keyboard.press("ArrowRight")
        now = page.evaluate(SHOWN)
        assert now["event"] == event["id"]
        assert len(now["current"]) == 1                     # one quantity highlighted ...
        assert (now["event"], now["current"]) != before      # ... and it moved
        before = (now["event"], now["current"])
        assert [q["name"] for q in now["shown"]] == event["show"]
        for q in now["shown"]:                              # the very numbers recorded
            assert q["values"] == recorded(trace, q["name"], event["t"]), (event["id"], q)
        assert f"{event['lines'][0]['file']}:{event['lines'][0]['line']}" in now["source"]
        assert now["equation"].strip(), event["id"]
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.body.dataset.event") == trace["events"][-2]["id"]
    page.click("#play")                                     # plays on to the last event
    page.wait_for_function(f"minirnnPage.index === {len(trace['events']) - 1}", timeout=5000)
    page.select_option("#jump", label="backward t = 2")       # the first event of a step
    assert page.evaluate("document.body.dataset.event") == next(
        e["id"] for e in trace["events"] if e["phase"] == "backward" and e["t"] == 2)
    assert errors == []
    page.close()


# ---- the JavaScript cells equal the textbook --------------------------------------------

def test_javascript_cells_equal_the_textbook_on_random_networks(browser, pages):
    page, errors = open_page(browser, Path(pages["gru"][0]).as_uri())
    cases = [(cell, random_network(cell, hidden=H, inputs=D, steps=T, seed=seed), loss)
             for seed, (H, D, T) in enumerate([(1, 1, 1), (3, 2, 5), (4, 4, 12)])
             for cell in CELLS for loss in LOSSES if not (loss == "xent" and H < 2)]
    for cell, net, loss in cases:
        trace = trace_of(cell, net, loss)
        js = page.evaluate("([cell, net, loss]) => MinirnnCells.run(cell, net, loss, 0)",
                           [cell, {k: trace[k] for k in ("params", "x", "h0", "c0")}, loss])
        assert_agree(js_numbers(js), numbers_of(trace), f"{cell} {loss}")
    assert errors == []
    page.close()


# ---- editing a number ----------------------------------------------------------------------

def edit(page, selector, value):
    page.evaluate("document.getElementById('edit-panel').open = true")
    page.fill(selector, str(value))
    page.press(selector, "Enter")
    page.dispatch_event(selector, "change")


@pytest.mark.parametrize("cell, selector, change", [
    ("lstm", "#edit-forget-bias", lambda net: net["params"]["b_ih"].__setitem__(1, 2.5)),
    ("srn", "#edit-x-0-1", lambda net: net["x"].__setitem__((0, 1), -0.5)),
    ("gru", "#edit-W_hh-4-0", lambda net: net["params"]["W_hh"].__setitem__((4, 0), 1.25)),
])
def test_editing_a_number_recomputes_and_agrees_with_python(browser, pages, cell, selector,
                                                            change):
    page, errors = open_page(browser, Path(pages[cell][0]).as_uri())
    page.evaluate("minirnnPage.goTo(minirnnPage.events.length - 4)")
    net = preset(cell)
    change(net)
    value = {"lstm": 2.5, "srn": -0.5, "gru": 1.25}[cell]
    edit(page, selector, value)
    python = trace_of(cell, net)
    state = page.evaluate("({values: minirnnPage.values, js: minirnnPage.js, "
                          "badge: document.getElementById('badge').className})")
    assert state["badge"] == "badge edited"
    assert_agree(js_numbers(state["js"]), numbers_of(python), cell)
    now = page.evaluate(SHOWN)                             # what the page shows, too
    event = python["events"][len(python["events"]) - 4]
    for q in now["shown"]:
        assert_agree(q["values"], recorded(python, q["name"], event["t"]), q["name"])
    page.click("#reset")
    assert page.evaluate("document.getElementById('badge').className") == "badge ok"
    assert errors == []
    page.close()


# ---- screenshots for review ----------------------------------------------------------------

def test_screenshots_of_a_forward_and_a_backward_event(browser, pages):
    out = ROOT / "out" / "trace-screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page, errors = open_page(browser, Path(pages["lstm"][0]).as_uri())
    for name, event in (("forward", "forward-t6-c"), ("backward", "backward-t4-do")):
        page.evaluate(f"minirnnPage.goTo(minirnnPage.events.findIndex((e) => e.id === "
                      f"'{event}'))")
        assert page.evaluate("document.body.dataset.event") == event
        path = out / f"trace_lstm_{name}.png"
        page.screenshot(path=str(path), full_page=False)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("MINIRNN_UPDATE_SCREENSHOTS"):
            shutil.copyfile(path, ROOT / "docs" / "img" / path.name)
    assert errors == []
    page.close()
