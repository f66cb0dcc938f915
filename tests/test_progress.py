"""minigrad.utils.progress: one updating line in a terminal, readable logs elsewhere;
and the examples' --plot."""

import io
import sys

import pytest

from minigrad.utils.progress import Progress
from test_examples import load_example


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_in_a_terminal_one_line_is_rewritten_and_written_lines_stay(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)   # the plain line, even where tqdm is
    out = Terminal()
    with Progress(total=3, desc="train", file=out) as bar:
        bar.update(loss="0.5")
        bar.write("epoch 1 done")
        bar.update(2, loss="0.25")
    text = out.getvalue()
    assert text.count("\r") >= 3 and text.endswith("\n")
    assert "epoch 1 done\n" in text
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("train  3/3  loss 0.25  ") and last.rstrip().endswith(" s")


def test_in_a_log_only_written_lines_and_a_last_line_appear(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    out = io.StringIO()
    with Progress(total=10, desc="train", file=out) as bar:
        for i in range(10):
            bar.update(step=i)
        bar.write("halfway and more")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "halfway and more" and lines[1].startswith("train  10/10  step 9")
    assert len(lines) == 2


def test_asking_for_tqdm_without_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        Progress(total=1, use_tqdm=True)


def test_train_mlp_writes_its_curves(tmp_path, capsys):
    train_mlp = load_example("train_mlp")
    csv = tmp_path / "curves.csv"
    train_mlp.main(["--epochs", "2", "--subset", "200", "--plot", str(csv)])
    rows = csv.read_text().splitlines()
    assert rows[0] == "epoch,train_loss,test_accuracy" and len(rows) == 3
    assert [int(r.split(",")[0]) for r in rows[1:]] == [1, 2]
    png = tmp_path / "curves.png"
    train_mlp.main(["--epochs", "1", "--subset", "100", "--plot", str(png)])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "epoch   2   train loss" in out and f"curves written to {png}" in out
