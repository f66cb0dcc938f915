"""Layers, losses and their functional forms: ``from minigrad import nn``."""

from . import functional, init, utils
from .layers import Dropout, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter
