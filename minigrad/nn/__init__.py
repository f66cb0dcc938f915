"""Layers, losses and their functional forms: ``from minigrad import nn``."""

from . import functional, init, utils
from .layers import (
    Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ModuleList, ReLU, Sequential,
    Sigmoid, Softmax, Tanh, Unflatten,
)
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter
