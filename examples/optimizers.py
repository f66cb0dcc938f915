"""Compare optimizers: on real data (digits) and on two 2-D surfaces you can see.

Part 1 trains the same MLP, from the same initial weights, on the same split of
the 8×8 digits that ship with minigrad with plain gradient descent three ways (full batch,
mini-batch, stochastic) and with each optimizer in ``minigrad.optim``, then
prints a table of final training loss, test accuracy and time.

Part 2 runs SGD, momentum, Nesterov, RMSprop, Adagrad, Adadelta and Adam on an
ill-conditioned quadratic (a long narrow valley) and on the Rosenbrock function,
prints where each ended, and draws their paths over the contours: SGD
zig-zags across the valley, momentum's averaging cancels the zig-zag.

With matplotlib installed it writes optimizers_loss.png and optimizers_paths.png.

    python examples/optimizers.py
    python examples/optimizers.py --epochs 40 --seed 1 --out plots
    python examples/optimizers.py --no-plots
    python examples/optimizers.py --device cuda     # Part 1 on an NVIDIA GPU (Part 2's
                                                    # two-parameter problems stay on the CPU)
"""

import time

_start = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.data import DataLoader, TensorDataset, load_digits, train_test_split  # noqa: E402
from minigrad.metrics import accuracy  # noqa: E402
from minigrad.utils.progress import Progress  # noqa: E402

MINI_BATCH = 32


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20,
                   help="passes over the training set for each run (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seeds init, the split and shuffling")
    p.add_argument("--device", default="cpu", help="'cpu' or 'cuda' (default cpu)")
    p.add_argument("--out", default=".", help="folder for the PNGs (default: current folder)")
    p.add_argument("--no-plots", action="store_true", help="print the tables only")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    return args


# ---- Part 1: the same model on the same data, one run per optimizer ------------------


def digits_runs(epochs, n_train):
    """(name, optimizer class, its arguments, batch size, epochs) of every run.

    The hyper-parameters are textbook defaults, not tuned for this problem.
    """
    updates_per_epoch = -(-n_train // MINI_BATCH)  # ceil: the last batch is smaller
    return [
        # Gradient descent three ways (REFERENCE.md): θ ← θ − α ∇L(θ), with ∇L averaged
        # over the whole training set, a mini-batch of 32, or a single sample.
        # Full batch makes one update per epoch, so with the same epochs it would make
        # 45× fewer updates than mini-batch; it gets 45× the epochs to make as many.
        ("GD, full batch", optim.SGD, dict(lr=0.1), n_train, epochs * updates_per_epoch),
        ("GD, mini-batch", optim.SGD, dict(lr=0.1), MINI_BATCH, epochs),
        # One sample's gradient is a much noisier estimate of ∇L, so it takes a smaller α
        # (α is often scaled with the batch size; 0.01 lies between 0.1 and 0.1/32).
        ("GD, stochastic", optim.SGD, dict(lr=0.01), 1, epochs),
        # Momentum in PyTorch's form b ← μb + g, θ ← θ − lr·b is the textbook
        # v ← βv + (1 − β)g, θ ← θ − αv with lr = α(1 − β): lr 0.01 with μ = 0.9 takes the
        # same size of step as plain SGD's 0.1, so what differs is the averaging alone.
        ("momentum", optim.SGD, dict(lr=0.01, momentum=0.9), MINI_BATCH, epochs),
        ("Nesterov", optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True), MINI_BATCH, epochs),
        # The adaptive family divides each coordinate's step by a running size of its
        # own gradients, so the lr is a step length rather than a gradient multiplier.
        ("Adagrad", optim.Adagrad, dict(lr=0.05), MINI_BATCH, epochs),
        ("RMSprop", optim.RMSprop, dict(lr=1e-3), MINI_BATCH, epochs),
        ("Adam", optim.Adam, dict(lr=1e-3), MINI_BATCH, epochs),
        ("AdamW", optim.AdamW, dict(lr=1e-3, weight_decay=1e-2), MINI_BATCH, epochs),
        ("Adadelta", optim.Adadelta, dict(lr=1.0), MINI_BATCH, epochs),  # 1.0: the original rule
    ]


def build_model(device="cpu"):
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)


def evaluate(model, data):
    """Loss on the whole training set and accuracy on the test set."""
    model.eval()
    with mg.no_grad():
        loss = nn.CrossEntropyLoss()(model(data["X_train"]), data["y_train"]).item()
        acc = accuracy(model(data["X_test"]), data["y_test"])
    return loss, acc


def train(name, opt_class, opt_args, batch_size, epochs, initial_state, data, seed,
          progress=None):
    """One run from ``initial_state``; returns a dict of what the table and plot show.
    ``progress`` (a minigrad.utils.progress.Progress) is advanced once per epoch."""
    model = build_model(data["device"])
    model.load_state_dict(initial_state)  # every run starts from the very same weights
    opt = opt_class(model.parameters(), **opt_args)
    # The same seed gives every run the same sequence of shuffled batches.
    loader = DataLoader(TensorDataset(data["X_train"], data["y_train"]),
                        batch_size=batch_size, shuffle=True, seed=seed)
    loss_fn = nn.CrossEntropyLoss()

    # Loss after 0, 1, 2, ... epochs, on the whole training set: the raw mini-batch
    # losses are noisy in different ways for different batch sizes.
    losses, accuracies = [evaluate(model, data)[0]], []
    seconds = 0.0
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        seconds += time.perf_counter() - start  # the evaluation below is not training
        loss, acc = evaluate(model, data)
        losses.append(loss)
        accuracies.append(acc)
        if progress is not None:
            progress.update(run=name, loss=f"{loss:.4f}", accuracy=f"{acc:.2%}")
    return dict(name=name, optimizer=opt_class.__name__, settings=opt_args,
                batch_size=batch_size, epochs=epochs, updates=epochs * len(loader),
                losses=losses, accuracies=accuracies, loss=losses[-1],
                accuracy=accuracies[-1], seconds=seconds)


def warm_up(runs, initial_state, data):
    """One step of each optimizer on a throw-away model.

    numba compiles a kernel on its first call (or loads it from its on-disk cache),
    so doing that here keeps it out of the times in the table.
    """
    xb, yb = data["X_train"][:MINI_BATCH], data["y_train"][:MINI_BATCH]
    for _, opt_class, opt_args, _, _ in runs:
        model = build_model(data["device"])
        model.load_state_dict(initial_state)
        opt = opt_class(model.parameters(), **opt_args)
        nn.CrossEntropyLoss()(model(xb), yb).backward()
        opt.step()


def settings_text(settings):
    return ", ".join(f"{k}={v}" for k, v in settings.items())


def print_digits_table(results, n_train):
    print(f"\n{'run':16} {'optimizer':9} {'settings':38} {'batch':>5} {'epochs':>6} "
          f"{'updates':>7} {'train loss':>10} {'test acc':>8} {'time':>7}")
    for r in results:
        print(f"{r['name']:16} {r['optimizer']:9} {settings_text(r['settings']):38} "
              f"{r['batch_size']:5d} {r['epochs']:6d} {r['updates']:7d} {r['loss']:10.4f} "
              f"{r['accuracy']:8.2%} {r['seconds']:6.2f}s")
    full, mini, single = results[:3]
    e = mini["epochs"]
    slower = full["seconds"] / max(mini["seconds"], 1e-9)
    print(f"\n{n_train:,} training samples, {e} epochs → {e} updates (full batch), "
          f"{mini['updates']:,} (mini-batches of {MINI_BATCH}),\n"
          f"{single['updates']:,} (stochastic). So full-batch GD got {full['epochs']:,} "
          f"epochs, to make as many updates as\n"
          f"mini-batch GD; after {e} epochs ({e} updates) it was at training loss "
          f"{full['losses'][e]:.4f} and test accuracy\n"
          f"{full['accuracies'][e - 1]:.2%}. Each of its updates reads the whole training "
          f"set, so the same number of updates\n"
          f"took {slower:.0f}× as long. Stochastic GD pays the fixed cost of an update "
          f"{n_train:,} times an epoch.")


# ---- Part 2: paths on 2-D surfaces -----------------------------------------------------

# f(x, y) written with minigrad tensors; p is a 2-element Parameter, so backward()
# gives ∇f = (∂f/∂x, ∂f/∂y) in p.grad, exactly as it gives ∇L for the MLP's weights.


def quadratic(p):
    """0.5·(x² + 25·y²): curvature 1 along the valley (x), 25 across it (y)."""
    x, y = p[0], p[1]
    return 0.5 * (x ** 2 + 25 * y ** 2)


def rosenbrock(p):
    """(1 − x)² + 100·(y − x²)²: a curved valley with a flat floor; minimum at (1, 1)."""
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


# For each surface: where to start, how many steps, where the minimum is, and each
# optimizer's settings. Plain gradient descent diverges on a quadratic when
# lr > 2 / (largest curvature); SGD's lr sits just under that limit, so its y-step
# multiplies y by 1 − lr·25 = −0.75 (quadratic) and flips sign every step.
# Momentum and Nesterov get lr·(1 − μ): the same step size as SGD in the textbook
# form (see digits_runs), so the difference in the pictures is the averaging.
SURFACES = [
    dict(name="quadratic", f=quadratic, start=(-7.0, 2.0), steps=100, minimum=(0.0, 0.0),
         runs=[("SGD", optim.SGD, dict(lr=0.07)),
               ("momentum", optim.SGD, dict(lr=0.007, momentum=0.9)),
               ("Nesterov", optim.SGD, dict(lr=0.007, momentum=0.9, nesterov=True)),
               ("RMSprop", optim.RMSprop, dict(lr=0.1)),
               ("Adagrad", optim.Adagrad, dict(lr=1.0)),
               ("Adadelta", optim.Adadelta, dict(lr=1.0)),
               ("Adam", optim.Adam, dict(lr=0.2))]),
    dict(name="Rosenbrock", f=rosenbrock, start=(-1.2, 1.0), steps=1500, minimum=(1.0, 1.0),
         runs=[("SGD", optim.SGD, dict(lr=0.002)),
               ("momentum", optim.SGD, dict(lr=0.0002, momentum=0.9)),
               ("Nesterov", optim.SGD, dict(lr=0.0002, momentum=0.9, nesterov=True)),
               ("RMSprop", optim.RMSprop, dict(lr=0.01)),
               ("Adagrad", optim.Adagrad, dict(lr=0.5)),
               ("Adadelta", optim.Adadelta, dict(lr=1.0)),
               ("Adam", optim.Adam, dict(lr=0.05))]),
]


def descend(f, start, opt_class, opt_args, steps):
    """Minimise f from ``start``; returns the path, an array of shape (steps + 1, 2)."""
    p = nn.Parameter(mg.tensor(start))
    opt = opt_class([p], **opt_args)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def run_surfaces():
    results = []
    for surface in SURFACES:
        paths = {name: descend(surface["f"], surface["start"], opt_class, opt_args,
                               surface["steps"])
                 for name, opt_class, opt_args in surface["runs"]}
        results.append(dict(surface, paths=paths))
    return results


def print_surface_tables(surfaces):
    for s in surfaces:
        print(f"\n{s['name']}: {s['f'].__doc__.split(':')[0]}, {s['steps']} steps from "
              f"{s['start']}, minimum at {s['minimum']}")
        print(f"{'optimizer':9} {'settings':38} {'final (x, y)':>22} {'distance':>9} "
              f"{'f(x, y)':>9}")
        for name, opt_class, opt_args in s["runs"]:
            end = s["paths"][name][-1]
            distance = float(np.hypot(*(end - np.array(s["minimum"]))))
            value = s["f"](mg.tensor(end)).item()
            print(f"{name:9} {settings_text(opt_args):38} ({end[0]:9.4f}, {end[1]:9.4f}) "
                  f"{distance:9.2e} {value:9.2e}")
    print("""
What to look for (the numbers above, the picture below):
- quadratic: SGD's y flips sign at every step (the zig-zag across the valley). Momentum
  averages the gradient, v ← βv + (1 − β)g, so the flipping y-components cancel and the
  path is smooth; with β = 0.9 it overshoots like a rolling ball, and Nesterov, which
  takes the gradient after the momentum step, damps that swing.
- Rosenbrock: the walls are steep and the floor nearly flat, so SGD's lr is capped by
  the walls and it crawls along the floor; momentum at the same step size crawls as
  fast, but without the zig-zag at the start. Dividing by the running size of the
  gradient (RMSprop, Adam) makes small floor gradients still take full-size steps;
  Adagrad divides by a sum that only grows, so its steps shrink for ever and it stalls.
- Adadelta has no learning rate: its step is RMS(past steps) / RMS(gradients) · g,
  which starts near √ε = 0.001 and grows slowly, so 100 steps barely move it on the
  quadratic; it needs many steps (digits: hundreds of updates) to get going.""")


# ---- Plots (optional: matplotlib) ------------------------------------------------------


def load_pyplot():
    """matplotlib.pyplot with the file-only Agg backend, or None if not installed."""
    try:
        import matplotlib
    except ImportError:
        print('matplotlib is not installed, so no plots: pip install -e ".[examples]"')
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_losses(plt, results, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for r in results[:3]:
        left.plot(range(r["epochs"] + 1), r["losses"],
                  label=f"{r['name']} ({r['updates']:,} updates)")
    left.set_xscale("symlog", linthresh=1)  # full batch runs for many more epochs
    left.set_title("gradient descent, three ways (SGD)")
    mini_batch_sgd = results[1]
    for r in [mini_batch_sgd] + results[3:]:
        right.plot(range(r["epochs"] + 1), r["losses"],
                   label="SGD" if r is mini_batch_sgd else r["name"])
    right.set_title(f"optimizers, mini-batches of {MINI_BATCH}")
    for ax in (left, right):
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    left.set_ylabel("training loss (whole training set)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_paths(plt, surfaces, path):
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    for ax, s, (x_lim, y_lim) in zip(axes, surfaces, [((-8, 2), (-2.5, 2.5)),
                                                      ((-1.6, 1.6), (-0.6, 1.6))]):
        # Contours of f on a grid: NumPy here, f itself written for NumPy arrays.
        X, Y = np.meshgrid(np.linspace(*x_lim, 400), np.linspace(*y_lim, 400))
        Z = s["f"](np.stack([X, Y]))
        ax.contour(X, Y, Z, levels=np.geomspace(max(Z.min(), 1e-3), Z.max(), 20),
                   colors="0.75", linewidths=0.7)
        for name, _, _ in s["runs"]:
            xy = s["paths"][name]
            line, = ax.plot(xy[:, 0], xy[:, 1], ".-", markersize=2.5, linewidth=1, label=name)
            ax.plot(*xy[-1], "s", color=line.get_color(), markersize=6)  # where it ended
        ax.plot(*s["start"], "ko", markersize=5)
        ax.plot(*s["minimum"], "k*", markersize=12)
        ax.set_xlim(x_lim)
        ax.set_ylim(y_lim)
        ax.set_title(f"{s['name']}: {s['f'].__doc__.split(':')[0]}, {s['steps']} steps")
        ax.legend(fontsize=8, loc="lower right" if s["name"] == "Rosenbrock" else "upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    mg.manual_seed(args.seed)

    X, y = load_digits()  # X: (1797, 64) float32 in [0, 1]; y: (1797,) int64
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=args.seed)
    dev = args.device
    data = dict(X_train=mg.tensor(X_train, device=dev), y_train=mg.tensor(y_train, device=dev),
                X_test=mg.tensor(X_test, device=dev), y_test=y_test, device=dev)
    initial_state = build_model().state_dict()  # built once: every run starts here
    runs = digits_runs(args.epochs, len(X_train))
    print(f"digits: {len(X_train)} train / {len(X_test)} test; MLP 64-64-10 with ReLU; "
          f"{len(runs)} runs from the same initial weights")

    warm_up(runs, initial_state, data)
    with Progress(total=sum(run[4] for run in runs), desc="epochs") as progress:
        results = [train(*run, initial_state, data, args.seed, progress) for run in runs]
    print_digits_table(results, len(X_train))

    surfaces = run_surfaces()
    print_surface_tables(surfaces)

    figures = []
    plt = None if args.no_plots else load_pyplot()
    if plt is not None:
        os.makedirs(args.out, exist_ok=True)
        figures = [os.path.join(args.out, "optimizers_loss.png"),
                   os.path.join(args.out, "optimizers_paths.png")]
        plot_losses(plt, results, figures[0])
        plot_paths(plt, surfaces, figures[1])
        print(f"\nwrote {' and '.join(figures)}")
    print(f"total {time.perf_counter() - _start:.1f} s")
    return dict(digits=results, surfaces=surfaces, figures=figures)


if __name__ == "__main__":
    main()
