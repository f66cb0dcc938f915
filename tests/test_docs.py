"""Every Python block in docs/ runs, and what it prints is what the page shows.

A page's ```python blocks run in order in one namespace (a page is one program,
read top to bottom), in a scratch folder. A block followed directly by a ```text
block must print that text: numbers are compared to float32 precision (relative
1e-5, absolute 1e-6), everything else exactly, up to spacing; a line ``...``
stands for any number of printed lines, and ``...`` inside a line for any text
(the times a trace measures, say).
"""

import contextlib
import io
import math
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
PAGES = sorted(f for f in os.listdir(DOCS) if f.endswith(".md"))
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.M | re.S)
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def blocks(page):
    """[(python source, the text it must print or None, line number)] of a page."""
    text = open(os.path.join(DOCS, page), encoding="utf-8").read()
    found = [(m.group(1), m.group(2), m.start(), m.end()) for m in _BLOCK.finditer(text)]
    out = []
    for i, (lang, body, start, end) in enumerate(found):
        if lang != "python":
            continue
        expected = None
        if i + 1 < len(found) and found[i + 1][0] == "text" \
                and text[end:found[i + 1][2]].strip() == "":
            expected = found[i + 1][1]
        out.append((body, expected, text.count("\n", 0, start) + 1))
    return out


def _numbers_match(want, got):
    a, b = float(want), float(got)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)


def _line_matches(want, got):
    want, got = " ".join(want.split()), " ".join(got.split())
    if "..." in want:
        pattern = ".*".join(re.escape(part) for part in want.split("..."))
        return re.fullmatch(pattern, got) is not None
    w_nums, g_nums = _NUMBER.findall(want), _NUMBER.findall(got)
    if _NUMBER.sub("#", want) != _NUMBER.sub("#", got) or len(w_nums) != len(g_nums):
        return False
    return all(_numbers_match(a, b) for a, b in zip(w_nums, g_nums))


def output_matches(expected, printed):
    want = expected.rstrip("\n").split("\n")
    got = printed.rstrip("\n").split("\n") if printed.strip() else []

    def match(i, j):
        if i == len(want):
            return j == len(got)
        if want[i].strip() == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and _line_matches(want[i], got[j]) and match(i + 1, j + 1)
    return match(0, 0)


def test_the_checker_compares_numbers_to_float32_precision_and_nothing_else():
    assert output_matches("loss 0.6931472\n", "loss 0.69314724\n")
    assert not output_matches("loss 0.6931\n", "loss 0.6932\n")
    assert not output_matches("loss 0.5\n", "lost 0.5\n")
    assert output_matches("a\n...\nz\n", "a\nb\nc\nz\n")
    assert output_matches("took ... µs\n", "took 12.5 µs\n")
    assert not output_matches("a\nb\n", "a\n")


def test_every_page_has_a_python_block():
    assert PAGES and all(blocks(page) for page in PAGES if page != "architecture.md")


@pytest.mark.parametrize("page", PAGES)
def test_the_code_of_a_page_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs"}
    for code, expected, line in blocks(page):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile("\n" * (line) + code, os.path.join(DOCS, page), "exec"), namespace)
        if expected is not None:
            assert output_matches(expected, printed.getvalue()), (
                f"docs/{page}, the block at line {line} printed:\n{printed.getvalue()}\n"
                f"where the page shows:\n{expected}")
