"""Train a multi-layer perceptron on handwritten digits: minigrad's main job.

The data are the 8×8 digit images that ship with minigrad (1,797 of them, 10
classes; ``minigrad.data.load_digits``), split 80/20 into training and test sets.
Each epoch prints the mean training loss and the test accuracy; in a terminal one
line updates as the steps run (through tqdm when it is installed).

    python examples/train_mlp.py
    python examples/train_mlp.py --epochs 30 --batch-size 64 --lr 0.05 --hidden 256 --seed 1
    python examples/train_mlp.py --device cuda      # the same training on an NVIDIA GPU
    python examples/train_mlp.py --plot curves.png  # the loss and accuracy per epoch
                                                    # (a .csv file needs no matplotlib)
"""

import time

_start = time.perf_counter()

import argparse  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.data import DataLoader, TensorDataset, load_digits, train_test_split  # noqa: E402
from minigrad.metrics import accuracy  # noqa: E402
from minigrad.utils.progress import Progress  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20, help="passes over the training set (default 20)")
    p.add_argument("--batch-size", type=int, default=32,
                   help="samples per step: 1 is stochastic, the training-set size is "
                        "full-batch gradient descent (default 32)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--hidden", type=int, default=128, help="hidden units (default 128)")
    p.add_argument("--seed", type=int, default=0, help="seeds init, the split and shuffling")
    p.add_argument("--device", default="cpu", help="'cpu' or 'cuda' (default cpu)")
    p.add_argument("--subset", type=int, default=None,
                   help="train on the first N training samples only: a quick run")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="write the training loss and test accuracy per epoch to FILE: "
                        "a picture (.png, .svg, .pdf; needs matplotlib) or a .csv table")
    args = p.parse_args(argv)
    if args.plot and not args.plot.endswith(".csv"):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error(f"--plot {args.plot}: drawing needs matplotlib (pip install matplotlib); "
                    f"or give a .csv file")
    for name in ("epochs", "batch_size", "hidden", "subset"):
        if name == "subset" and args.subset is None:
            continue
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    mg.manual_seed(args.seed)

    X, y = load_digits()  # X: (1797, 64) float32 in [0, 1]; y: (1797,) int64
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=args.seed)
    if args.subset is not None:
        X_train, y_train = X_train[:args.subset], y_train[:args.subset]
    # The data go to the device once; the loader then cuts every batch there.
    train = TensorDataset(mg.tensor(X_train, device=args.device),
                          mg.tensor(y_train, device=args.device))
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    X_test = mg.tensor(X_test, device=args.device)

    model = nn.Sequential(
        nn.Linear(64, args.hidden), nn.ReLU(),
        nn.Linear(args.hidden, 10),
    ).to(args.device)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    print(f"digits: {len(X_train)} train / {len(y_test)} test, {len(loader)} steps per epoch")
    print(model)

    first_step_done = None
    train_start = time.perf_counter()
    history = []   # (epoch, mean training loss, test accuracy)
    with Progress(total=args.epochs * len(loader), desc="train") as progress:
        for epoch in range(1, args.epochs + 1):
            model.train()
            total, seen = 0.0, 0
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                # Summed as a tensor, so that a GPU is not asked for a number every step.
                total = loss.detach() * len(xb) + total
                seen += len(xb)
                if first_step_done is None:
                    first_step_done = time.perf_counter()
                    progress.write(f"first step done {first_step_done - _start:.2f} s after "
                                   f"start (imports, data, kernel compile or cache load)")
                progress.update(epoch=f"{epoch}/{args.epochs}")
            model.eval()
            with mg.no_grad():
                acc = accuracy(model(X_test), y_test)
            history.append((epoch, total.item() / seen, acc))
            progress.update(0, loss=f"{history[-1][1]:.4f}", accuracy=f"{acc:.2%}")
            progress.write(f"epoch {epoch:3d}   train loss {history[-1][1]:.4f}   "
                           f"test accuracy {acc:.2%}")

    print(f"trained {args.epochs} epochs in {time.perf_counter() - train_start:.2f} s; "
          f"total {time.perf_counter() - _start:.2f} s")
    if args.plot:
        print(f"curves written to {write_curves(history, args.plot)}")
    return acc


def write_curves(history, path):
    """The training loss and test accuracy per epoch: a .csv table, or a picture."""
    if path.endswith(".csv"):
        with open(path, "w") as f:
            f.write("epoch,train_loss,test_accuracy\n")
            for epoch, loss, acc in history:
                f.write(f"{epoch},{loss:.6f},{acc:.6f}\n")
        return path
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = [h[0] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, [h[1] for h in history], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
    ax_acc.plot(epochs, [100 * h[2] for h in history], marker="o", color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="accuracy")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
