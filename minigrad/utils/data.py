"""``minigrad.utils.data``: the data loading of :mod:`minigrad.data` under PyTorch's
``torch.utils.data`` path, so ``from torch.utils.data import DataLoader`` keeps working
when ``torch`` becomes ``minigrad``."""

from ..data import DataLoader, Dataset, TensorDataset  # noqa: F401
