"""Every Python snippet in README.md runs as written."""

import os
import re

import pytest

import minigrad as mg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
# "Add your own activation" is pieces of three files, not programs: its steps are
# followed by tests/test_add_activation.py.
_PROGRAMS = re.sub(r"\n## Add your own activation\n.*?(?=\n## )", "\n", README, flags=re.S)
SNIPPETS = re.findall(r"```python\n(.*?)```", _PROGRAMS, flags=re.S)


def test_the_readme_has_python_snippets():
    assert len(SNIPPETS) >= 2


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_a_readme_snippet_runs(code, monkeypatch, capsys):
    if "cuda" in code and os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        # a 784-256-10 model is hours of work for the simulator: the snippet takes its
        # CPU branch there (the CUDA ops themselves are tested in test_cuda.py)
        monkeypatch.setattr(mg.cuda, "is_available", lambda: False)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    for line in code.splitlines():
        # a print whose comment states the result: check it
        m = re.match(r"print\((.*)\)\s*#\s*(<|\()\s*(.*)", line.strip())
        if m and m.group(2) == "<":
            assert float(printed.split()[0]) < float(m.group(3))
        elif m:
            assert "(" + m.group(3) in printed
