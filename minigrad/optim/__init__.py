"""Optimizers: ``from minigrad import optim``."""

from .optimizer import Optimizer
from .sgd import SGD
