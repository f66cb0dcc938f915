"""PyTorch's ``torch.utils`` path: ``from minigrad.utils.data import DataLoader``."""

from . import data
