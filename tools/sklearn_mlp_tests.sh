#!/usr/bin/env bash
# Runs scikit-learn's own MLP test file (sklearn/neural_network/tests/test_mlp.py of the installed
# scikit-learn) against nncore.sklearn with only its import line changed:
#   from sklearn.neural_network import MLPClassifier, MLPRegressor
#   -> from nncore.sklearn import MLPClassifier, MLPRegressor
# Extra pytest arguments are passed on (e.g. -x, -k lbfgs). Needs nncore importable (PYTHONPATH=python
# after tools/dev_build.sh, or an installed nncore).
#
# Excluded (they read scikit-learn's private internals, not its contract):
#   test_gradient: calls the private MLPClassifier._loss_grad_lbfgs with scikit-learn's internal
#     activation/delta buffers and compares a float64 finite-difference gradient to 7 decimals;
#     nncore computes in float32, where a 1e-5 central difference is rounding noise. The same
#     property is tested in tests/test_sklearn.py (nncore's C++ loss and gradient against
#     scikit-learn's float64 backprop, every activation and output, with alpha and sample weights).
set -euo pipefail
src="$(python3 -c 'import os, sklearn.neural_network.tests as t; print(os.path.join(os.path.dirname(t.__file__), "test_mlp.py"))')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
old="from sklearn.neural_network import MLPClassifier, MLPRegressor"
new="from nncore.sklearn import MLPClassifier, MLPRegressor"
if [ "$(grep -cxF "$old" "$src")" != 1 ]; then
  echo "sklearn_mlp_tests: '$old' not found once in $src" >&2
  exit 2
fi
sed "s/^${old}\$/${new}/" "$src" > "$work/test_mlp.py"
# scikit-learn's conftest provides this fixture (SKLEARN_TESTS_GLOBAL_RANDOM_SEED, default 42).
cat > "$work/conftest.py" <<'PY'
import os

import pytest


@pytest.fixture(params=[int(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42"))])
def global_random_seed(request):
    return request.param
PY
# Absolute import paths: the run happens in the temporary directory.
PYTHONPATH="$(python3 -c 'import os, sys; print(os.pathsep.join(os.path.abspath(p) for p in sys.argv[1].split(os.pathsep) if p))' "${PYTHONPATH:-}")"
export PYTHONPATH
cd "$work"
python3 -m pytest -q -p no:cacheprovider -rfEs test_mlp.py \
  --deselect test_mlp.py::test_gradient \
  "$@"
