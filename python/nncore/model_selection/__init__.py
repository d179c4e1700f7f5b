"""Model selection: splitters, cross-validation, grid/random search, learning and validation curves.

A model is given as ``model_fn`` — a function that returns a fresh *compiled*
:class:`nncore.Sequential` (``model_fn(**params)`` in the searches); every fold trains its own
model. Any object with ``split(X, y)`` (scikit-learn's splitters included) is accepted as ``cv``;
an int means :class:`StratifiedKFold` for classifiers (loss ``cross_entropy`` /
``binary_cross_entropy``) and :class:`KFold` otherwise, unshuffled like scikit-learn.

Scores: a metric receives ``(y_true, model.predict(X))``, i.e. class probabilities for classifiers;
label metrics (accuracy, f1, ...) argmax them and probability metrics (log_loss, roc_auc) use
them directly; a callable scorer gets the same probabilities (wrap it to argmax if it wants
labels). The default is ``accuracy`` for classifiers and ``r2`` otherwise. Loss-type metric names
(mse, mae, log_loss) are ranked smaller-is-better, everything else greater-is-better.

Not here: nested CV, grouped or time-series splitters (use scikit-learn's; they plug into ``cv``).
"""

from __future__ import annotations

from ..preprocessing import Standardizer  # where the CLI and older code import it from
from ._curves import learning_curve, validation_curve
from ._search import GridSearch, RandomSearch, SearchResults
from ._split import KFold, RepeatedStratifiedKFold, StratifiedKFold, train_test_split
from ._validation import cross_val_score, cross_validate

__all__ = [
    "GridSearch",
    "KFold",
    "RandomSearch",
    "RepeatedStratifiedKFold",
    "SearchResults",
    "Standardizer",
    "StratifiedKFold",
    "cross_val_score",
    "cross_validate",
    "learning_curve",
    "train_test_split",
    "validation_curve",
]
