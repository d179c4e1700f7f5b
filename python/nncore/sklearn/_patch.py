"""patch_sklearn()/unpatch_sklearn(): ``sklearn.neural_network.MLPClassifier``/``MLPRegressor``
(and the same names in its private module, which some code imports from) become nncore's, so an
existing script speeds up without edits; unpatch restores scikit-learn's classes."""

from __future__ import annotations

import importlib

_MODULES = ("sklearn.neural_network", "sklearn.neural_network._multilayer_perceptron")
_NAMES = ("MLPClassifier", "MLPRegressor")
_saved: dict = {}


def patch_sklearn() -> None:
    """Point scikit-learn's MLP names at nncore's estimators (idempotent).

    Code that already holds scikit-learn's class (``from sklearn.neural_network import
    MLPClassifier`` run before) keeps it; import after patching.

    See Also
    --------
    unpatch_sklearn : Undo it.

    Examples
    --------
    >>> import sklearn.neural_network
    >>> import nncore.sklearn
    >>> nncore.sklearn.patch_sklearn()
    >>> sklearn.neural_network.MLPClassifier is nncore.sklearn.MLPClassifier
    True
    >>> nncore.sklearn.unpatch_sklearn()
    >>> sklearn.neural_network.MLPClassifier is nncore.sklearn.MLPClassifier
    False
    """
    from . import _estimators

    for modname in _MODULES:
        mod = importlib.import_module(modname)
        for name in _NAMES:
            current = getattr(mod, name)
            if current is getattr(_estimators, name):
                continue
            _saved[(modname, name)] = current
            setattr(mod, name, getattr(_estimators, name))


def unpatch_sklearn() -> None:
    """Undo :func:`patch_sklearn` (idempotent): scikit-learn's own classes are back.

    Examples
    --------
    >>> import sklearn.neural_network
    >>> import nncore.sklearn
    >>> nncore.sklearn.patch_sklearn()
    >>> nncore.sklearn.unpatch_sklearn()
    >>> sklearn.neural_network.MLPRegressor.__module__
    'sklearn.neural_network._multilayer_perceptron'
    """
    for (modname, name), cls in list(_saved.items()):
        setattr(importlib.import_module(modname), name, cls)
        del _saved[(modname, name)]


def is_patched() -> bool:
    return bool(_saved)
