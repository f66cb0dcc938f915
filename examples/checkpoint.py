"""Checkpoint a training run, kill it, resume it: the result is the same, bit for bit.

A small MLP with dropout learns the digits from shuffled mini-batches with Adam
and a StepLR schedule. Every ``--save-every`` steps the run saves all it needs
to go on with ``mg.save``, one file, replaced atomically:

    model.state_dict()       the parameters
    optimizer.state_dict()   Adam's moments and step counts, the rates
    scheduler.state_dict()   where the schedule is
    loader.state_dict()      this epoch's order of samples and how far into it
    mg.get_rng_state()       the generator behind dropout and shuffling
                             (and mg.cuda.get_rng_state() for dropout on a GPU)

A run started with ``--resume`` loads that file and carries on: it redoes the
steps since the last save and ends with parameters equal, bit for bit, to those
of a run that was never stopped.

    python examples/checkpoint.py            # shows it: a straight run, a run killed
                                             # at step 110, its resumption, compared
    python examples/checkpoint.py --out a.mg                     # one straight run
    python examples/checkpoint.py --checkpoint ck.mg --kill-at 110
    python examples/checkpoint.py --checkpoint ck.mg --resume --out b.mg
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile

import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, load_digits, train_test_split
from minigrad.metrics import accuracy
from minigrad.optim import lr_scheduler


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=4, help="passes over the training set (default 4)")
    p.add_argument("--checkpoint", metavar="FILE", default=None,
                   help="save the run's state to FILE every --save-every steps")
    p.add_argument("--save-every", type=int, default=25, help="steps between saves (default 25)")
    p.add_argument("--resume", action="store_true",
                   help="carry on from --checkpoint FILE (start afresh if it does not exist)")
    p.add_argument("--kill-at", type=int, default=None, metavar="STEP",
                   help="kill this process (SIGKILL: no clean-up) right after step STEP")
    p.add_argument("--out", metavar="FILE", default=None, help="save the final parameters to FILE")
    p.add_argument("--device", default="cpu", help="'cpu' or 'cuda' (default cpu)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.resume and not args.checkpoint:
        p.error("--resume needs --checkpoint FILE")
    if args.epochs < 1 or args.save_every < 1:
        p.error("--epochs and --save-every must be at least 1")
    return args


def train(args):
    """One run, from the start or from the checkpoint; returns the model."""
    mg.manual_seed(args.seed)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=args.seed)
    train_set = TensorDataset(mg.tensor(X_train, device=args.device),
                              mg.tensor(y_train, device=args.device))
    # No seed of its own: the order is drawn from the generator that dropout draws
    # from too, so the two streams interleave and both have to resume exactly.
    loader = DataLoader(train_set, batch_size=32, shuffle=True)
    X_test = mg.tensor(X_test, device=args.device)

    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 10),
    ).to(args.device)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()

    epoch, step = 0, 0
    state = None
    if args.resume and os.path.exists(args.checkpoint):
        state = mg.load(args.checkpoint)
        model.load_state_dict(state["model"])
        # The optimizer is loaded before the scheduler is made, an order PyTorch
        # resumes in too: a StepLR's first rate is lr_0 itself, so making it
        # leaves the loaded rate in place. Loading after making it works the same.
        opt.load_state_dict(state["optimizer"])
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    if state is not None:
        sched.load_state_dict(state["scheduler"])
        loader.load_state_dict(state["loader"])
        mg.set_rng_state(state["rng"])
        if args.device != "cpu":
            mg.cuda.set_rng_state(state["cuda_rng"])
        epoch, step = state["epoch"], state["step"]
        print(f"resumed from {args.checkpoint}: epoch {epoch + 1}, after step {step}")

    while epoch < args.epochs:
        model.train()
        for xb, yb in loader:     # after a resume: the rest of the saved epoch
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            step += 1
            if args.checkpoint and step % args.save_every == 0:
                mg.save({
                    "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "loader": loader.state_dict(),
                    "rng": mg.get_rng_state(),
                    "cuda_rng": mg.cuda.get_rng_state() if args.device != "cpu" else None,
                    "epoch": epoch, "step": step,
                }, args.checkpoint)
            if step == args.kill_at:
                print(f"step {step}: killed", flush=True)
                _kill_self()
        sched.step()
        epoch += 1
        model.eval()
        with mg.no_grad():
            acc = accuracy(model(X_test), y_test)
        print(f"epoch {epoch}  step {step:4d}  next lr {opt.param_groups[0]['lr']:.5f}  "
              f"test accuracy {acc:.2%}", flush=True)

    if args.out:
        mg.save(model.state_dict(), args.out)
    return model


def _kill_self():
    """Die at once, as from a power cut or an out-of-memory kill: nothing is flushed
    or cleaned up."""
    if hasattr(signal, "SIGKILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(137)


def same_parameters(path_a, path_b):
    """Whether two saved state dicts hold the same arrays, bit for bit."""
    a, b = mg.load(path_a), mg.load(path_b)
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k].view(np.uint8), b[k].view(np.uint8))
        for k in a)


def demo(kill_at=110):
    """The three runs, each a fresh process: straight, killed, resumed."""
    script = os.path.abspath(__file__)

    def run(*extra):
        print(f"$ python examples/checkpoint.py {' '.join(extra)}", flush=True)
        return subprocess.run([sys.executable, script, *extra]).returncode

    with tempfile.TemporaryDirectory() as folder:
        straight, resumed, ck = (os.path.join(folder, n) for n in ("a.mg", "b.mg", "ck.mg"))
        if run("--out", straight) != 0:
            return False
        print(f"(exit status {run('--checkpoint', ck, '--kill-at', str(kill_at))})")
        if run("--checkpoint", ck, "--resume", "--out", resumed) != 0:
            return False
        equal = same_parameters(straight, resumed)
    print("the resumed run's parameters equal the straight run's, bit for bit:",
          "yes" if equal else "NO")
    return equal


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return demo()
    return train(parse_args(argv))


if __name__ == "__main__":
    sys.exit(0 if main() is not False else 1)
