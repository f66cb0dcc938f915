"""minigrad.viz: make_dot's graph structure and labels, and summary's table."""

import math
import os
import re
import stat
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
import minigrad.nn.functional as F
from minigrad.viz import make_dot, summary


def parse(dot):
    """(labels by node id, edges as (from label, to label), saved boxes by op label)
    read back from DOT text, each label's first line."""
    labels = dict(re.findall(r'^\s+(n\d+(?:s\d+)?) \[label="([^"]*)"', dot.source, re.M))
    edges = re.findall(r"^\s+(n\d+(?:s\d+)?) -> (n\d+)(?: \[|$)", dot.source, re.M)
    first = {k: v.split("\\n")[0] for k, v in labels.items()}
    plain = [(first[a], first[b]) for a, b in edges if "s" not in a]
    saved = {}
    for a, b in edges:
        if "s" in a:
            saved.setdefault(first[b], []).append(labels[a])
    return labels, plain, saved


def test_an_mlp_graph_has_every_op_and_leaf_with_shapes_and_edges_forward():
    mg.manual_seed(0)
    l1, l2 = nn.Linear(3, 4), nn.Linear(4, 2)
    x, target = mg.randn(5, 3), mg.randn(5, 2)
    loss = F.mse_loss(l2(F.relu(l1(x))), target)
    params = {"l1.weight": l1.weight, "l1.bias": l1.bias,
              "l2.weight": l2.weight, "l2.bias": l2.bias}
    labels, edges, _ = parse(make_dot(loss, params))
    assert sorted(labels.values()) == sorted([
        "l1.weight\\n(4, 3) float32", "l1.bias\\n(4,) float32",
        "LinearBackward\\n(5, 4) float32", "ReLUBackward\\n(5, 4) float32",
        "l2.weight\\n(2, 4) float32", "l2.bias\\n(2,) float32",
        "LinearBackward\\n(5, 2) float32", "MSELossBackward\\n() float32"])
    # arrows run the way forward did; the data x and target need no gradient: not drawn
    assert sorted(edges) == sorted([
        ("l1.weight", "LinearBackward"), ("l1.bias", "LinearBackward"),
        ("LinearBackward", "ReLUBackward"), ("ReLUBackward", "LinearBackward"),
        ("l2.weight", "LinearBackward"), ("l2.bias", "LinearBackward"),
        ("LinearBackward", "MSELossBackward")])
    root = re.search(r'(n\d+) \[label="MSELossBackward[^\]]*\]', make_dot(loss).source)
    assert "darkolivegreen1" in root.group(0)   # the tensor drawn from stands out


def test_a_shared_parameter_is_one_leaf_with_an_arrow_to_each_use():
    w = mg.tensor(np.eye(3, dtype=np.float32) * 0.5, requires_grad=True)
    x = mg.ones(2, 3)
    loss = ((x @ w).tanh() @ w).sum()
    labels, edges, _ = parse(make_dot(loss, {"w": w}))
    assert list(labels.values()).count("w\\n(3, 3) float32") == 1
    assert sorted(b for a, b in edges if a == "w") == ["MatMulBackward", "MatMulBackward"]
    assert len(labels) == 5   # w, two products, tanh, sum


def test_a_fused_layer_is_one_node_named_after_both_parts():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 8), nn.Sigmoid(), nn.Linear(8, 1))
    loss = nn.BCEWithLogitsLoss()(model(mg.randn(4, 2)), mg.ones(4, 1))
    labels, edges, _ = parse(make_dot(loss, dict(model.named_parameters())))
    assert ("0.weight", "LinearSigmoidBackward") in edges
    assert ("0.bias", "LinearSigmoidBackward") in edges
    assert ("LinearSigmoidBackward", "LinearBackward") in edges
    assert ("LinearBackward", "BCEWithLogitsLossBackward") in edges
    assert "LinearSigmoidBackward\\n(4, 8) float32" in labels.values()


def test_a_graph_made_before_backward_shows_the_gradient_norms_after():
    mg.manual_seed(2)
    w = mg.randn(3, requires_grad=True)
    loss = (w * w).sum()                       # ∂/∂w = 2w, whose norm is 2‖w‖
    dot = make_dot(loss, {"w": w})
    assert "grad norm" not in dot.source
    loss.backward()
    expected = 2 * math.sqrt(float((w.detach().numpy().astype(np.float64) ** 2).sum()))
    norm = float(re.search(r"grad norm ([0-9.e+-]+)", dot.source).group(1))
    assert norm == pytest.approx(expected, rel=1e-3)
    with pytest.raises(RuntimeError, match="freed this graph"):
        make_dot(loss)


def test_show_saved_names_what_each_op_kept():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()           # Exp saves its output
    z = (y * x).sum()     # Mul saves both inputs
    _, _, saved = parse(make_dot(z, {"x": x}, show_saved=True))
    assert saved["ExpBackward"] == ["saved output\\n(2,) float32"]
    assert sorted(saved["MulBackward"]) == ["saved input 0\\n(2,) float32",
                                           "saved input 1\\n(2,) float32"]
    assert "saved" not in make_dot(z, {"x": x}).source


def test_the_text_is_deterministic_and_escaped():
    def build():
        mg.manual_seed(3)
        m = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
        return make_dot(m(mg.randn(2, 2)).sum(), {'a "quoted" name': m[0].weight}).source
    assert build() == build()
    assert 'a \\"quoted\\" name' in build()


def test_a_leaf_and_a_tensor_without_a_graph():
    w = mg.ones(2, requires_grad=True)
    assert parse(make_dot(w, {"w": w}))[0] == {"n0": "w\\n(2,) float32"}
    with pytest.raises(TypeError, match="expected a Tensor"):
        make_dot(np.ones(2))


def test_render_says_what_is_missing_without_graphviz(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    dot = make_dot((mg.ones(2, requires_grad=True) * 2).sum())
    with pytest.raises(RuntimeError, match="Graphviz's `dot` program"):
        dot.render("graph.svg")
    assert dot._repr_svg_() is None


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in dot is a shell script")
def test_render_hands_the_text_to_dot_and_writes_what_it_returns(tmp_path, monkeypatch):
    fake = tmp_path / "dot"   # a stand-in for Graphviz's dot: echoes its format and input
    fake.write_text('#!/bin/sh\necho "format $1"\ncat\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    dot = make_dot((mg.ones(2, requires_grad=True) * 2).sum())
    out = dot.render(tmp_path / "g.png")
    assert open(out, "rb").read().decode() == "format -Tpng\n" + dot.source


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = nn.Sequential(nn.Linear(2, 8), nn.Sigmoid(), nn.Linear(8, 1))
    s = summary(model, (4, 2))
    assert s.rows == [("0", "Linear", (4, 8), 2 * 8 + 8), ("1", "Sigmoid", (4, 8), 0),
                      ("2", "Linear", (4, 1), 8 + 1)]
    assert (s.total_params, s.trainable_params) == (33, 33)
    text = str(s)
    assert "0 (Linear)" in text and "Total params: 33" in text
    model[2].bias.requires_grad_(False)
    assert summary(model, (1, 2)).trainable_params == 32
    # the hooks summary used are gone: the model fuses again
    assert model(mg.randn(1, 2)).grad_fn.inputs[0].grad_fn.name() == "LinearSigmoidBackward"
