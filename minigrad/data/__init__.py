"""Feeding data to a model: datasets, batching, and a few ready-made datasets.

    from minigrad.data import DataLoader, TensorDataset, load_digits
    X, y = load_digits()
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, seed=0)
    for xb, yb in loader:   # CPU Tensors: float32 (64, 64) and int64 (64,)
        ...
"""

from .dataloader import DataLoader, collate
from .dataset import Dataset, TensorDataset
from .datasets import load_digits, load_mnist, train_test_split

__all__ = ["Dataset", "TensorDataset", "DataLoader", "collate",
           "load_mnist", "load_digits", "train_test_split"]
