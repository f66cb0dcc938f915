"""Layers, losses and their functional forms: ``from minigrad import nn``."""

from . import functional, init, utils
from .layers import *  # noqa: F403  (every layer: layers.__all__)
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter
