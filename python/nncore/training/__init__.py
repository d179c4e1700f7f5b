"""Training: the one epoch driver and what plugs into it.

It owns how a model is trained, whatever the data and the loss: user input checked once on the
way in (:mod:`.inputs`), the epoch driver with its callbacks, learning-rate schedules, logs,
progress, history and stopping written once (:mod:`.driver`), the steps it plugs in (the fused
C++ step, a Python loss: :mod:`.steps`), the scores of outputs (:mod:`.scoring`) and the
distributed context the public face hands in (:mod:`.context`). Batch sources live with their
data: in-memory arrays here, streamed chunks in :mod:`nncore.streaming`, MPI shards in
:mod:`nncore.distributed`. It reaches the network only through the model's engine.
"""

from . import context, driver, inputs, scoring, steps
from .driver import ArraySource, Driver, callback_list

__all__ = [
    "context",
    "driver",
    "inputs",
    "scoring",
    "steps",
    "ArraySource",
    "Driver",
    "callback_list",
]
