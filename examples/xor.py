"""The smallest complete example: an MLP learns XOR, which no linear model can.

    python examples/xor.py
    python examples/xor.py --device cuda      # the same program on an NVIDIA GPU
"""

import argparse

import minigrad as mg
from minigrad import nn, optim


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="'cpu' or 'cuda' (default cpu)")
    p.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    args = p.parse_args(argv)
    mg.manual_seed(0)

    # The four points of XOR and their labels: 1 when exactly one input is 1.
    X = mg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], device=args.device)
    y = mg.tensor([[0.0], [1.0], [1.0], [0.0]], device=args.device)

    # One hidden layer is enough: 2 inputs -> 8 tanh units -> 1 logit.
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)).to(args.device)
    loss_fn = nn.BCEWithLogitsLoss()  # sigmoid + binary cross-entropy, fused and stable
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

    for step in range(args.steps + 1):
        opt.zero_grad()            # forget the last step's gradients
        loss = loss_fn(model(X), y)
        loss.backward()            # ∂loss/∂θ for every parameter θ, into θ.grad
        opt.step()                 # θ ← θ − lr · (momentum-averaged gradient)
        if step % 50 == 0 or step == args.steps:
            print(f"step {step:3d}  loss {loss.item():.5f}")

    with mg.no_grad():
        p = model(X).sigmoid()
    for xi, pi in zip(X.tolist(), p.tolist()):
        print(f"{xi} -> {pi[0]:.3f}")
    return p.numpy()[:, 0]


if __name__ == "__main__":
    main()
