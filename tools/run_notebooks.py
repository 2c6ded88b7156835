"""Rebuild the exercise notebooks, run every notebook, and save each with its outputs and figures.

    python tools/run_notebooks.py               # every notebook under notebooks/
    python tools/run_notebooks.py bptt_tour     # only notebooks/bptt_tour.ipynb

notebooks/exercise_<cell>.ipynb is first rebuilt from minirnn/exercises/templates.py
(``exercise_notebook``); nobody edits it by hand. Each notebook then runs top to bottom in a
fresh python3 kernel started in notebooks/ (as ``jupyter lab notebooks/`` starts it) with this
checkout first on PYTHONPATH, and is written back in place with its outputs, so that a learner
who only browses a notebook sees what it prints and draws. Nothing that varies between runs is
saved (no timings, no kernel version). tests/test_notebooks.py runs the notebooks again and
checks the saved outputs against the fresh ones. Needs nbclient, nbformat and ipykernel (the
test extra has them) and matplotlib.
"""
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from minirnn.exercises.cells import CELLS                     # noqa: E402
from minirnn.exercises.templates import exercise_notebook     # noqa: E402


def blank(nb):
    """A copy of notebook ``nb`` (a dict) without outputs or execution counts."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def execute(nb, timeout=120):
    """Run notebook ``nb`` (a dict) top to bottom in a fresh python3 kernel started in
    notebooks/, with this checkout first on PYTHONPATH; returns the run notebook as a dict,
    its metadata left as ``nb`` had it. An error in a cell raises nbclient's CellExecutionError."""
    import nbclient
    import nbformat

    node = nbformat.reads(json.dumps(blank(nb)), as_version=4)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    env.pop("MPLBACKEND", None)            # the kernel's own inline backend draws the figures
    client = nbclient.NotebookClient(node, timeout=timeout, kernel_name="python3",
                                     record_timing=False, coalesce_streams=True,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=env)
    ran = blank(nb)                        # its cells and metadata, not the kernel's versions
    for cell, done in zip(ran["cells"], json.loads(nbformat.writes(node))["cells"]):
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = done["outputs"], done["execution_count"]
    return ran


def save(nb, path):
    """Write ``nb`` as nbformat 4 JSON, one space of indentation, as Jupyter writes it."""
    text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def main(names):
    paths = sorted(set(NOTEBOOKS.glob("*.ipynb"))
                   | {NOTEBOOKS / f"exercise_{cell}.ipynb" for cell in CELLS})
    if names:
        wanted = {name.removesuffix(".ipynb") for name in names}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            raise SystemExit(f"no notebook named {', '.join(sorted(unknown))} under notebooks/; "
                             f"expected one of {', '.join(p.stem for p in paths)}")
        paths = [p for p in paths if p.stem in wanted]
    for path in paths:
        cell = path.stem.removeprefix("exercise_")
        nb = (exercise_notebook(cell) if cell in CELLS and path.stem != cell
              else json.loads(path.read_text(encoding="utf-8")))
        save(execute(nb), path)
        print(f"ran and saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
