"""README's Python examples run as written, and its two commands are the ones CI runs."""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_commands():
    first = re.search(r"```bash\n(.*?)```", README, flags=re.S).group(1).strip().splitlines()
    assert len(first) == 2
    assert first[0].startswith("pip install -e .[demos] && minirnn ")
    assert first[1].startswith("pip install -e .[test] && pytest")
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    assert "pip install -e '.[test]'" in ci and "pytest" in ci


@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_readme_python_block_runs(k, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # examples may write files (checkpoints)
    exec(compile(BLOCKS[k], f"README.md python block {k}", "exec"), {})
