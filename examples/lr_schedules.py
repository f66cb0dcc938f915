"""Learning-rate schedules: how each one moves the learning rate, and what that does.

Trains the same MLP, from the same initial weights, on the same split of
the 8×8 digits that ship with minigrad with SGD (lr_0 0.5, momentum 0.9) once per schedule in
``minigrad.optim.lr_scheduler`` (and once with a constant rate), then prints a
table of final training loss, test accuracy and final learning rate. With
matplotlib installed it writes lr_schedules.png: the rate and the training loss
of every run, epoch by epoch.

    python examples/lr_schedules.py
    python examples/lr_schedules.py --epochs 40 --seed 1 --out plots
    python examples/lr_schedules.py --lr 0.1     # a safe rate: see what changes
    python examples/lr_schedules.py --no-plots
    python examples/lr_schedules.py --device cuda   # on an NVIDIA GPU
"""

import time

_start = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.data import DataLoader, TensorDataset, load_digits, train_test_split  # noqa: E402
from minigrad.metrics import accuracy  # noqa: E402
from minigrad.optim import lr_scheduler  # noqa: E402

MOMENTUM, BATCH_SIZE = 0.9, 32


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=30,
                   help="passes over the training set for each run (default 30)")
    p.add_argument("--lr", type=float, default=0.5,
                   help="initial learning rate lr_0 (default 0.5: too high to keep constant)")
    p.add_argument("--seed", type=int, default=0, help="seeds init, the split and shuffling")
    p.add_argument("--device", default="cpu", help="'cpu' or 'cuda' (default cpu)")
    p.add_argument("--out", default=".", help="folder for the PNG (default: current folder)")
    p.add_argument("--no-plots", action="store_true", help="print the table only")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    if args.lr <= 0:
        p.error("--lr must be positive")
    return args


def warmup_then_inverse_sqrt(t, warmup=3):
    """Ramp up over the first ``warmup`` epochs, then decay as 1/√t (the Transformer's rule)."""
    return min((t + 1) / warmup, (warmup / (t + 1)) ** 0.5)


def schedules(epochs):
    """(name, rule, make) for each run; make(optimizer) returns its scheduler.

    Notation of REFERENCE.md: lr_0 the initial rate, t = epochs so far (we call
    ``scheduler.step()`` once per epoch). The constants are tied to ``epochs`` so
    that each shape shows over the run, whatever its length.
    """
    step_size = max(1, epochs // 3)
    ramp = max(1, 2 * epochs // 3)
    return [
        ("constant", "lr_0", lambda opt: None),
        ("StepLR", f"lr_0·0.1^floor(t/{step_size})",
         lambda opt: lr_scheduler.StepLR(opt, step_size=step_size, gamma=0.1)),
        ("ExponentialLR", "lr_0·0.9^t",
         lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.9)),
        # REFERENCE.md's linear decay lr_0 − k·t, down to the floor 0.05·lr_0 at t = ramp.
        ("LinearLR", f"lr_0·(1 − 0.95·min(t, {ramp})/{ramp})",
         lambda opt: lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.05,
                                           total_iters=ramp)),
        ("InverseTimeLR", "lr_0/(1 + 0.5·t)",  # the "time-based" decay
         lambda opt: lr_scheduler.InverseTimeLR(opt, decay_rate=0.5)),
        ("CosineAnnealingLR", f"lr_0·(1 + cos(π·t/{epochs}))/2",
         lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)),
        # Any rule at all: lr_0 times a function of t.
        ("LambdaLR", "lr_0·min((t+1)/3, √(3/(t+1)))",
         lambda opt: lr_scheduler.LambdaLR(opt, warmup_then_inverse_sqrt)),
        # The only one that watches training: ×0.1 after 3 epochs in a row without a
        # new best validation loss (patience 2: the third bad epoch triggers it).
        ("ReduceLROnPlateau", "×0.1 when val loss stalls",
         lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=2)),
    ]


def build_model(device="cpu"):
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)


def evaluate(model, X, y):
    """Mean loss and accuracy of ``model`` on (X, y)."""
    model.eval()
    with mg.no_grad():
        logits = model(X)
        return nn.CrossEntropyLoss()(logits, y).item(), accuracy(logits, y)


def train(name, rule, make_scheduler, initial_state, data, lr, epochs, seed):
    model = build_model(data["device"])
    model.load_state_dict(initial_state)  # every run starts from the very same weights
    opt = optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    scheduler = make_scheduler(opt)
    loader = DataLoader(TensorDataset(data["X_train"], data["y_train"]),
                        batch_size=BATCH_SIZE, shuffle=True, seed=seed)
    loss_fn = nn.CrossEntropyLoss()

    lrs, losses = [], []  # the rate used in each epoch, the training loss after it
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        losses.append(evaluate(model, data["X_train"], data["y_train"])[0])
        # A scheduler steps after the optimizer, once per epoch here.
        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
            val_loss, _ = evaluate(model, data["X_val"], data["y_val"])
            scheduler.step(val_loss)  # watches data the model does not train on
        elif scheduler is not None:
            scheduler.step()
    _, test_acc = evaluate(model, data["X_test"], data["y_test"])
    return dict(name=name, rule=rule, lrs=lrs, losses=losses, loss=losses[-1],
                accuracy=test_acc, final_lr=lrs[-1])


def print_table(results):
    print(f"\n{'schedule':18} {'rule (t = epoch)':34} {'train loss':>10} {'test acc':>8} "
          f"{'final lr':>9}")
    for r in results:
        print(f"{r['name']:18} {r['rule']:34} {r['loss']:10.4f} {r['accuracy']:8.2%} "
              f"{r['final_lr']:9.2e}")
    print("""
What to look for. With the default lr_0 = 0.5 and momentum 0.9 (a step of
lr/(1 − μ) = 5 in the textbook form v ← βv + (1 − β)g, θ ← θ − αv) the rate is too
high to keep: the constant run bounces from batch to batch and ends with the
highest loss. A decaying rate keeps the large early steps, which do the fast part of
the work, and lets the late steps settle. How soon it comes down matters: StepLR
keeps lr_0 for a whole third of the run, ReduceLROnPlateau cuts only after the
validation loss has stalled for 3 epochs, and a warm-up (LambdaLR) starts gently.
Run with --lr 0.1 to see the other side: at a safe rate this easy problem needs no
schedule. The MLP fits every training sample, so near the minimum the mini-batch
gradients vanish and leave no noise for a decay to average away; the constant rate
then ends with the lowest training loss.""")


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


def plot(plt, results, lr, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for r in results:
        epochs = len(r["lrs"])
        # Epoch t (t = 0, 1, ...) trains with lrs[t]: a flat step from t to t + 1.
        left.step(range(epochs + 1), r["lrs"] + r["lrs"][-1:], where="post", label=r["name"])
        right.plot(range(1, epochs + 1), r["losses"], label=r["name"])
    left.set_title(f"learning rate in each epoch (SGD, lr_0 = {lr}, momentum {MOMENTUM})")
    left.set_ylabel("learning rate")
    right.set_title("training loss at the end of each epoch")
    right.set_ylabel("cross-entropy (whole training set)")
    right.set_yscale("log")
    for ax in (left, right):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    mg.manual_seed(args.seed)

    X, y = load_digits()  # X: (1797, 64) float32 in [0, 1]; y: (1797,) int64
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=args.seed)
    # ReduceLROnPlateau needs a loss to watch that training does not optimise: hold out
    # a validation set (the test set stays untouched until the end). Every run uses
    # the same smaller training set.
    X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_fraction=0.2,
                                                      seed=args.seed)
    dev = args.device
    data = dict(X_train=mg.tensor(X_train, device=dev), y_train=mg.tensor(y_train, device=dev),
                X_val=mg.tensor(X_val, device=dev), y_val=mg.tensor(y_val, device=dev),
                X_test=mg.tensor(X_test, device=dev), y_test=mg.tensor(y_test, device=dev),
                device=dev)
    initial_state = build_model().state_dict()  # built once: every run starts here
    print(f"digits: {len(X_train)} train / {len(X_val)} validation / {len(X_test)} test; "
          f"MLP 64-64-10 with ReLU; SGD lr_0 {args.lr}, momentum {MOMENTUM}, batch {BATCH_SIZE}, "
          f"{args.epochs} epochs")

    results = [train(name, rule, make, initial_state, data, args.lr, args.epochs, args.seed)
               for name, rule, make in schedules(args.epochs)]
    print_table(results)

    figures = []
    plt = None if args.no_plots else load_pyplot()
    if plt is not None:
        os.makedirs(args.out, exist_ok=True)
        figures = [os.path.join(args.out, "lr_schedules.png")]
        plot(plt, results, args.lr, figures[0])
        print(f"\nwrote {figures[0]}")
    print(f"total {time.perf_counter() - _start:.1f} s")
    return dict(runs=results, figures=figures)


if __name__ == "__main__":
    main()
