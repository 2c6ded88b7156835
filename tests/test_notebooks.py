"""The notebooks run top to bottom in a fresh kernel: the tour as it is, each exercise with the
solution put in its "exercise" cells (the checker's last cell must pass), and an untouched
exercise (the checker must say where to start). The exercise notebooks are built from the
same text as the exercise files, and are saved without outputs.
"""
import json
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from minirnn.exercises.cells import CELLS                       # noqa: E402
from minirnn.exercises.templates import exercise_notebook       # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "tests" / "exercise_solutions"
REBUILD = ("python -c \"import json; from minirnn.exercises.templates import exercise_notebook; "
           "json.dump(exercise_notebook('{cell}'), open('notebooks/exercise_{cell}.ipynb', 'w', "
           "encoding='utf-8'), indent=1, ensure_ascii=False)\"")


def run(nb):
    """Execute ``nb`` in a fresh python3 kernel started in the repository root (so that it
    imports this checkout's minirnn); returns the text every cell printed."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=env)
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.outputs)


def read(name):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_is_saved_without_outputs(name):
    for cell in read(name).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name} has outputs"


@pytest.mark.parametrize("cell", CELLS)
def test_exercise_notebook_is_built_from_the_exercise(cell):
    saved = json.loads((NOTEBOOKS / f"exercise_{cell}.ipynb").read_text(encoding="utf-8"))
    assert saved == exercise_notebook(cell), \
        f"notebooks/exercise_{cell}.ipynb is stale; rebuild it with\n  {REBUILD.format(cell=cell)}"


def test_the_tour_runs():
    out = run(read("bptt_tour.ipynb"))
    errors = [float(line.split()[-1]) for line in out.splitlines()
              if "largest relative difference" in line]
    assert len(errors) == 2 and max(errors) < 1e-7, out
    assert "SRN ‖dh_t‖" in out


@pytest.mark.parametrize("cell", CELLS)
def test_exercise_notebook_with_the_solution_passes(cell):
    nb = read(f"exercise_{cell}.ipynb")
    student = [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]
    assert len(student) == 4
    student[0].source = (SOLUTIONS / f"{cell}_solution.py").read_text(encoding="utf-8")
    for c in student[1:]:
        c.source = ""
    out = run(nb)
    assert "all 6 checks passed" in out, out


def test_untouched_exercise_notebook_says_where_to_start():
    out = run(read("exercise_lstm.ipynb"))
    assert "start with lstm_step_forward" in out, out
