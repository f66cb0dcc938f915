"""Optimizers and learning-rate schedules: ``from minigrad import optim``."""

from .adaptive import Adadelta, Adagrad, Adam, AdamW, RMSprop
from .optimizer import Optimizer
from .sgd import SGD
from . import functional, lr_scheduler
