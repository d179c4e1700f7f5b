"""scikit-learn's ``MLPClassifier`` and ``MLPRegressor``, trained by nncore: the same constructor
parameters, defaults, semantics and fitted attributes as ``sklearn.neural_network`` (scikit-learn
1.9), so ``from nncore.sklearn import MLPClassifier`` replaces the scikit-learn import, and
:func:`patch_sklearn` makes ``sklearn.neural_network``'s names point here for existing scripts.

Computation is float32 (scikit-learn's is in X's dtype); ``coefs_``/``intercepts_`` and
predictions still come back in X's dtype. nncore's extras (batchnorm, dropout, l1, l2,
max_norm, other activations and optimizers, class_weight, n_threads) are additional keyword
parameters whose defaults leave scikit-learn's behaviour unchanged.

Needs scikit-learn >= 1.6: ``pip install nncore[sklearn]``.
"""

from __future__ import annotations

MIN_SKLEARN = (1, 6)
_NEED = "nncore.sklearn needs scikit-learn >= 1.6: pip install nncore[sklearn]"

try:
    import sklearn as _sk
except ImportError as e:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(_NEED) from e


def _version(v: str) -> tuple:
    parts = []
    for p in v.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


if _version(_sk.__version__) < MIN_SKLEARN:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(f"{_NEED} (found scikit-learn {_sk.__version__})")

from ._estimators import MLPClassifier, MLPRegressor  # noqa: E402
from ._patch import patch_sklearn, unpatch_sklearn  # noqa: E402

__all__ = ["MIN_SKLEARN", "MLPClassifier", "MLPRegressor", "patch_sklearn", "unpatch_sklearn"]
