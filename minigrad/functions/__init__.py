"""Every built-in differentiable operation, one RawFunction subclass each.

Each is written once against the backend interface (``ctx.backend``), so it runs on
any device. Read any of them as: forward computes, saves what the derivative needs;
backward applies the chain rule with it.
"""

from .arithmetic import (
    Abs, Add, Cast, Clamp, Clone, Cos, Div, Exp, Expand, Full, Log, MatMul, Maximum, Minimum,
    Mul, Neg, Pow, Sin, Sqrt, Sub, ToDevice, Where,
)
from .activation import (
    ELU, GELU, Activation, Dropout, GELUTanh, LeakyReLU, LinearActivation, LogSoftmax, ReLU,
    SiLU, Sigmoid, Softmax, Softplus, Tanh,
)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .reduction import Max, Mean, Min, Sum
from .shape import Cat, GetItem, Reshape, SetItem, Transpose
