"""Every built-in differentiable operation, one Function subclass each.

Each is written once against the backend interface (``ctx.backend``), so it runs on
any device. Read any of them as: forward computes, saves what the derivative needs;
backward applies the chain rule with it.
"""

from .arithmetic import Abs, Add, Cast, Clamp, Div, Exp, Log, MatMul, Mul, Neg, Pow, Sqrt, Sub, ToDevice
from .activation import Activation, Dropout, LinearActivation, LogSoftmax, Softmax
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .reduction import Max, Mean, Sum
from .shape import GetItem, Reshape, Transpose
