"""The notebooks are saved with their outputs and figures, and those outputs are what a fresh run
gives: each notebook runs top to bottom in a fresh kernel (tools/run_notebooks.py's ``execute``,
the way the tool that saves them runs them) and every printed number must match the saved one to
a relative 1e-6. The exceptions are the finite-difference checks' errors, which are rounding
error whose digits differ between CPUs: there both runs must print a number below 1e-7. Figures
are not compared pixel by pixel; each must be a PNG in both runs. The exercise notebooks are
built from the same text as the exercise files; with the solution in their "exercise" cells
their checker passes, and untouched they say where to start.
"""
import base64
import configparser
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")            # the notebooks' python3 kernel
pytest.importorskip("matplotlib")           # the tour draws a figure

from minirnn.exercises.cells import CELLS                                   # noqa: E402
from minirnn.exercises.templates import _DOCS, _LATEX, exercise_notebook    # noqa: E402
from minirnn.exercises.templates import exercise_parts                      # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "tests" / "exercise_solutions"
_spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
RERUN = "rerun `python tools/run_notebooks.py` and commit the notebooks"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
ROUNDING = "from finite differences"        # a line whose last number is rounding error
PNG = b"\x89PNG\r\n\x1a\n"
FONT_CACHE = "Matplotlib is building the font cache"     # on a fresh machine, once


def read(name):
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


def text(value):
    return "".join(value) if isinstance(value, list) else value


def outputs(cell):
    """What a code cell showed: its stdout and stderr (however the kernel split them into
    stream outputs), and its displays in order, each as (text/plain, PNG bytes or None)."""
    shown = {"stdout": "", "stderr": "", "displays": []}
    for out in cell["outputs"]:
        if out["output_type"] == "stream":
            shown[out["name"]] += text(out["text"])
        elif out["output_type"] == "error":
            shown["stderr"] += f"{out['ename']}: {out['evalue']}"
        else:
            data = out["data"]
            png = base64.b64decode(data["image/png"]) if "image/png" in data else None
            shown["displays"].append((text(data.get("text/plain", "")), png))
    shown["stderr"] = "".join(line for line in shown["stderr"].splitlines(keepends=True)
                              if not line.startswith(FONT_CACHE))
    return shown


def same_text(saved, fresh):
    """True if ``saved`` and ``fresh`` read the same, numbers equal to a relative 1e-6 (on a
    line with ROUNDING in it, the last number need only be below 1e-7 in both)."""
    saved_lines, fresh_lines = saved.splitlines(), fresh.splitlines()
    if len(saved_lines) != len(fresh_lines):
        return False
    for a, b in zip(saved_lines, fresh_lines):
        if NUMBER.sub("#", a) != NUMBER.sub("#", b):
            return False
        x, y = [float(v) for v in NUMBER.findall(a)], [float(v) for v in NUMBER.findall(b)]
        if ROUNDING in a:
            if not (x and abs(x[-1]) < 1e-7 and abs(y[-1]) < 1e-7):
                return False
            x, y = x[:-1], y[:-1]
        if not all(math.isclose(u, v, rel_tol=1e-6, abs_tol=0.0) for u, v in zip(x, y)):
            return False
    return True


def stored_text(name):
    """All the text the saved notebook ``name`` printed."""
    nb = read(name)
    return "".join(outputs(c)["stdout"] for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("name", NAMES)
def test_saved_outputs_are_what_a_fresh_run_gives(name):
    saved = read(name)
    fresh = run_notebooks.execute(saved)
    code = [(k, a, b) for k, (a, b) in enumerate(zip(saved["cells"], fresh["cells"]))
            if a["cell_type"] == "code"]
    for k, a, b in code:
        was, now = outputs(a), outputs(b)
        where = f"{name}, cell {k}"
        assert now["stderr"] == "" and was["stderr"] == "", f"{where} wrote to stderr:\n{now}"
        assert same_text(was["stdout"], now["stdout"]), \
            f"{where} printed\n{now['stdout']}\nbut the saved one has\n{was['stdout']}\n{RERUN}"
        assert len(was["displays"]) == len(now["displays"]), f"{where}: {RERUN}"
        for (saved_plain, saved_png), (plain, png) in zip(was["displays"], now["displays"]):
            assert same_text(saved_plain, plain), f"{where}: {saved_plain!r} != {plain!r}"
            assert (saved_png is None) == (png is None), f"{where}: a figure differs; {RERUN}"
            for image in (saved_png, png):
                assert image is None or image.startswith(PNG), f"{where}: not a PNG"
        assert a["execution_count"] is not None or not a["source"], f"{where} never ran; {RERUN}"


@pytest.mark.parametrize("cell", CELLS)
def test_exercise_notebook_is_built_from_the_exercise(cell):
    saved = run_notebooks.blank(read(f"exercise_{cell}.ipynb"))
    assert saved == exercise_notebook(cell), f"notebooks/exercise_{cell}.ipynb is stale; {RERUN}"


@pytest.mark.parametrize("cell", CELLS)
def test_rendered_equations_are_numbered_as_the_plain_text(cell):
    """The LaTeX the notebook renders and _DOCS's text (which the notebook also shows) carry the
    same equation numbers, (1) to (7'), in the same order, so neither has one the other lacks."""
    label = re.compile(r"\((\d+'?)\)")
    assert label.findall(_LATEX[cell]) == label.findall(_DOCS[cell])
    markdown = "".join(exercise_notebook(cell)["cells"][0]["source"])
    assert "```" not in markdown and "$$" in markdown


def test_the_tour_shows_what_its_text_says():
    out = stored_text("bptt_tour.ipynb")
    errors = [float(line.split()[-1]) for line in out.splitlines() if ROUNDING in line]
    assert len(errors) == 2 and max(errors) < 1e-7, out          # "far below 1e-7"
    assert "ratio ≤ factor at every step: True" in out, out      # the "at most" bound holds
    table = [line.split() for line in out.splitlines() if re.match(r"^ ?\d+ +\d\.\d+e", line)]
    norms = {int(row[0]): [float(v.strip("()")) for v in row[1:]] for row in table}
    srn, lstm, gru, _ = norms[0]
    assert srn < lstm / 100 and srn < gru / 100, out             # the SRN's fades fastest
    forget = [[float(v) for v in re.search(r"f = (\S+), .* = (\S+)$", line).groups()]
              for line in out.splitlines() if "mean forget gate" in line]
    (f, at_h0), (f_biased, at_h0_biased) = forget
    assert abs(f - 0.5) < 0.05 and f_biased > f + 0.1, out     # f near 0.5; +1 raises it
    assert at_h0_biased > at_h0 and at_h0 == lstm, out         # and keeps more gradient
    medians = {line.split()[0]: float(line.split()[-1]) for line in out.splitlines()
               if "median" in line}
    assert medians["SRN"] < min(medians["LSTM"], medians["GRU"]), out
    smallest = int(re.search(r"smallest in (\d+) of 20 runs", out).group(1))
    assert smallest < 20, out                                   # "not ... in every run"
    figures = [png for c in read("bptt_tour.ipynb")["cells"] if c["cell_type"] == "code"
               for _, png in outputs(c)["displays"] if png is not None]
    assert len(figures) == 1 and figures[0].startswith(PNG)


@pytest.mark.parametrize("cell", CELLS)
def test_untouched_exercise_notebook_says_where_to_start(cell):
    first = re.match(r"def (\w+)", exercise_parts(cell)[2][0]).group(1)
    out = stored_text(f"exercise_{cell}.ipynb")
    assert "NotImplementedError" in out and f"start with {first}" in out, out


@pytest.mark.parametrize("cell", CELLS)
def test_exercise_notebook_with_the_solution_passes(cell):
    nb = read(f"exercise_{cell}.ipynb")
    student = [c for c in nb["cells"] if "exercise" in c["metadata"].get("tags", [])]
    assert len(student) == 4
    student[0]["source"] = (SOLUTIONS / f"{cell}_solution.py").read_text(encoding="utf-8")
    for c in student[1:]:
        c["source"] = ""
    ran = run_notebooks.execute(nb)
    out = "".join(outputs(c)["stdout"] for c in ran["cells"] if c["cell_type"] == "code")
    assert "all 6 checks passed" in out, out


def test_readme_says_how_to_open_them_and_the_extra_brings_what_they_import():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e .[notebooks] && jupyter lab notebooks/" in readme
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    extra = set(cfg["options.extras_require"]["notebooks"].split())
    assert {"jupyterlab", "ipykernel"} <= extra               # the front end and its kernel
    imported = {m for name in NAMES for c in read(name)["cells"] if c["cell_type"] == "code"
                for m in re.findall(r"^(?:from|import) (\w+)", text(c["source"]), flags=re.M)}
    assert imported - {"numpy", "minirnn"} <= extra, imported   # numpy: install_requires


def jupyterlab():
    """JupyterLab's distribution; a skip on a laptop without the extra, a failure in CI (which
    installs it: .ci/run)."""
    try:
        return importlib.metadata.distribution("jupyterlab")
    except importlib.metadata.PackageNotFoundError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs the notebooks extra, but JupyterLab is missing")
        pytest.skip("JupyterLab is not installed here (pip install -e .[notebooks])")


def test_the_extras_jupyter_lab_command_exists_where_it_is_installed():
    scripts = {ep.name for ep in jupyterlab().entry_points if ep.group == "console_scripts"}
    assert "jupyter-lab" in scripts                      # what `jupyter lab` runs


def test_readmes_command_serves_the_notebooks(tmp_path):
    """`jupyter lab notebooks/` starts and serves the four notebooks (no browser is opened)."""
    jupyterlab()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = ["jupyter", "lab", "notebooks/", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
               "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")                  # CI runs as root; a learner does not
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"))
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline, listing = time.monotonic() + 90, None
        while listing is None and time.monotonic() < deadline and server.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/contents/"
                with urllib.request.urlopen(url, timeout=5) as r:
                    listing = json.load(r)
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"jupyter lab did not answer (exit code {server.poll()})"
        names = {item["name"] for item in listing["content"]}
        assert names >= {"bptt_tour.ipynb", "exercise_srn.ipynb", "exercise_lstm.ipynb",
                         "exercise_gru.ipynb"}, names
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
