"""The docstrings of MLPClassifier and MLPRegressor, in numpydoc form: every parameter and fitted
attribute, with what differs from scikit-learn. Kept here, out of the estimators' code; the two
share their common parameters and attributes, written once."""

from __future__ import annotations

import textwrap

_NETWORK = textwrap.dedent("""\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units of the ith hidden layer.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        The hidden layers' activation. nncore also accepts ``"leaky_relu"``, ``"elu"``,
        ``"selu"``, ``"gelu"``, ``"softplus"`` and ``"silu"``.
""")

_SOLVER = textwrap.dedent("""\
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        The weight optimizer: L-BFGS over the whole data, as scikit-learn runs it
        (``"lbfgs"``), stochastic gradient descent (``"sgd"``) or Adam (``"adam"``), with
        scikit-learn's update rules.
        nncore also accepts ``"adamw"``, ``"nadam"``, ``"rmsprop"`` and ``"adagrad"``: its own
        optimizers, with PyTorch's update rules, at ``learning_rate_init`` (see
        ``optimizer_kwargs``).
    alpha : float, default=0.0001
        Strength of the L2 penalty, ``alpha / 2 · ΣW²`` divided by the batch's number of rows,
        as scikit-learn adds it.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch of the stochastic solvers; ``"auto"`` is ``min(200, n_samples)``.
        Not used by ``"lbfgs"``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        The learning-rate schedule of ``solver="sgd"``: constant, ``learning_rate_init / t **
        power_t``, or divided by 5 whenever ``n_iter_no_change`` epochs in a row fail to improve
        by ``tol``.
    learning_rate_init : float, default=0.001
        The initial learning rate of the stochastic solvers.
    power_t : float, default=0.5
        The exponent of ``learning_rate="invscaling"``.
    max_iter : int, default=200
        Epochs of the stochastic solvers; iterations of ``"lbfgs"``.
    shuffle : bool, default=True
        Shuffle the rows before each epoch (stochastic solvers).
    random_state : int, RandomState instance or None, default=None
        Draws the initial weights, the shuffles, the early-stopping split and (with
        ``dropout``) the dropout masks' seed.
    tol : float, default=1e-4
        The improvement of the loss (or validation score) below which an epoch does not count
        as one; also L-BFGS's gradient tolerance (``gtol``).
    verbose : bool, default=False
        Print the loss of each epoch.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution instead of new initial weights.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``, in [0, 1].
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for ``solver="sgd"`` with ``momentum > 0``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when their score has not improved
        by ``tol`` for ``n_iter_no_change`` epochs (stochastic solvers); the weights of the best
        epoch are kept.
    validation_fraction : float, default=0.1
        The fraction held out with ``early_stopping``.
    beta_1 : float, default=0.9
        Adam's decay rate of the first moment, in [0, 1).
    beta_2 : float, default=0.999
        Adam's decay rate of the second moment, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability term.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before training stops (stochastic solvers).
    max_fun : int, default=15000
        The most loss evaluations of ``solver="lbfgs"``.
    batchnorm : bool, default=False
        nncore extra: Dense -> BatchNorm -> activation in every hidden layer.
    dropout : float, default=0.0
        nncore extra: dropout rate after every hidden layer, in [0, 1).
    l1 : float, default=0.0
        nncore extra: the per-layer penalty ``l1·Σ|W|`` on the mean loss, besides ``alpha``.
    l2 : float, default=0.0
        nncore extra: the per-layer penalty ``l2·ΣW²`` on the mean loss, besides ``alpha``.
    max_norm : float or None, default=None
        nncore extra: each hidden unit's incoming weight vector is rescaled to L2 norm at most
        this after each update.
    optimizer_kwargs : dict or None, default=None
        nncore extra: further arguments of the nncore optimizer that ``solver`` names when it
        is one of nncore's own (``"adamw"``, ``"nadam"``, ``"rmsprop"``, ``"adagrad"``), e.g.
        ``{"weight_decay": 0.01}``.
    n_threads : int or None, default=None
        nncore extra: threads of this estimator's fits and predictions (None: nncore's
        setting, see :func:`nncore.set_num_threads`). Results are bitwise identical for any
        value.
""")

_ATTRIBUTES = textwrap.dedent("""\
    loss_ : float
        The loss of the last epoch (or of the L-BFGS solution).
    best_loss_ : float or None
        The smallest ``loss_`` reached (stochastic solvers without early stopping; None with
        it).
    loss_curve_ : list of float
        ``loss_`` after each epoch (stochastic solvers).
    validation_scores_ : list of float or None
        The held-out score after each epoch with ``early_stopping`` (None without it).
    best_validation_score_ : float or None
        The best of ``validation_scores_`` (None without early stopping).
    t_ : int
        The number of training rows the solver has seen (summed over epochs).
    coefs_ : list of ndarray of shape (n_inputs, n_units)
        The ith element is the weight matrix between layer i and layer i + 1, in X's float
        dtype. Assigning changed arrays (or changing them in place) is seen by the next
        ``predict`` or ``fit``, as in scikit-learn.
    intercepts_ : list of ndarray of shape (n_units,)
        The ith element is the bias vector of layer i + 1, in X's float dtype.
    n_features_in_ : int
        The number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        The feature names seen during ``fit`` (only when X has string column names).
    n_iter_ : int
        The number of epochs (or L-BFGS iterations) run.
    n_layers_ : int
        The number of layers, input and output included.
    n_outputs_ : int
        The number of outputs.
    out_activation_ : str
        The output activation: {out_activation}.
    model_ : Sequential
        nncore extra: the fitted network (:class:`nncore.Sequential`); ``coefs_`` and
        ``intercepts_`` are read from it after each fit and written back into it when they
        changed. It applies ``alpha`` (as a setting that is not saved with the model) in any
        further training step.
""")

_DIFFERENCES = textwrap.dedent("""\
    Differences from scikit-learn (1.9's ``sklearn.neural_network``):

    - The arithmetic is float32 (scikit-learn's is in X's dtype, float64 by default), so the
      weights and predictions agree with scikit-learn's closely (to a float32 rounding that
      grows over training), not bit for bit;
      ``coefs_``, ``intercepts_`` and predictions still come back in X's float dtype.
    - A given ``random_state`` draws the same initial weights, shuffles and early-stopping split
      as scikit-learn, so both start from the same point and see the rows in the same order.
    - Results are bitwise identical whatever the number of threads (``n_threads``) or the CPU's
      instruction set.
    - The keyword parameters marked "nncore extra", and the extra ``activation`` and
      ``solver`` names, do not exist in scikit-learn; their defaults leave scikit-learn's
      behaviour unchanged. ``model_`` is an nncore extra too.
    - Sparse X (CSR or CSC) is accepted as in scikit-learn; each mini-batch is made dense on its
      own before it reaches the core.
    - Pickles hold the network (``model_``) in nncore's model format.
    - Metadata routing and the rest of the estimator contract come from scikit-learn's base
      classes, which therefore must be installed (``pip install nncore[sklearn]``,
      scikit-learn >= 1.6).
""")


def _indented(doc: str) -> str:
    """The docstring as written in a class body: lines after the first indented by 4."""
    first, _, rest = doc.partition("\n")
    return first + "\n" + textwrap.indent(rest, "    ")


CLASSIFIER = _indented(f"""Multi-layer perceptron classifier, trained by nncore's C++ core.

A drop-in replacement for scikit-learn's :class:`sklearn.neural_network.MLPClassifier`: the
same constructor parameters, defaults, fitted attributes and behaviour. Binary and multi-label
targets get sigmoid outputs and the summed binary log-loss; multiclass targets a softmax and
the cross-entropy.

Parameters
----------
{_NETWORK}{_SOLVER}class_weight : None, "balanced" or dict, default=None
    nncore extra: class weights multiplied into the sample weights (single-output ``y``
    only). A dict maps labels to weights; ``"balanced"`` weighs each class by
    ``n_samples / (n_classes · count)``.

Attributes
----------
classes_ : ndarray or list of ndarray
    The class labels (for multi-label ``y``, one array per output).
{_ATTRIBUTES.format(out_activation='"logistic" (binary, multi-label) or "softmax"')}
See Also
--------
MLPRegressor : The regressor.
nncore.Sequential : The network itself, with nncore's full API.
sklearn.neural_network.MLPClassifier : scikit-learn's estimator this one replaces.

Notes
-----
{_DIFFERENCES}
Examples
--------
>>> from sklearn.datasets import make_classification
>>> from nncore.sklearn import MLPClassifier
>>> X, y = make_classification(n_samples=200, n_features=8, random_state=0)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, random_state=0)
>>> clf = clf.fit(X, y)
>>> clf.classes_, [w.shape for w in clf.coefs_], clf.coefs_[0].dtype
(array([0, 1]), [(8, 16), (16, 1)], dtype('float64'))
>>> clf.predict(X[:3]).shape, clf.predict_proba(X[:3]).shape
((3,), (3, 2))
>>> clf.n_iter_ == len(clf.loss_curve_)
True
""")

REGRESSOR = _indented(f"""Multi-layer perceptron regressor, trained by nncore's C++ core.

A drop-in replacement for scikit-learn's :class:`sklearn.neural_network.MLPRegressor`: the
same constructor parameters, defaults, fitted attributes and behaviour. The output layer is
linear (``loss="squared_error"``) or exponential (``loss="poisson"``, a log link).

Parameters
----------
loss : {{"squared_error", "poisson"}}, default="squared_error"
    The loss: half the mean squared error, or the Poisson deviance's half with a log link
    (the targets must be >= 0).
{_NETWORK}{_SOLVER}
Attributes
----------
{_ATTRIBUTES.format(out_activation='"identity", or "exp" for the Poisson loss')}
See Also
--------
MLPClassifier : The classifier.
nncore.Sequential : The network itself, with nncore's full API.
sklearn.neural_network.MLPRegressor : scikit-learn's estimator this one replaces.

Notes
-----
{_DIFFERENCES}
Examples
--------
>>> from sklearn.datasets import make_regression
>>> from nncore.sklearn import MLPRegressor
>>> X, y = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=0)
>>> reg = MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=2000, random_state=0)
>>> reg = reg.fit(X, y)
>>> reg.predict(X[:2]).shape, reg.out_activation_
((2,), 'identity')
>>> round(reg.score(X, y), 2)
1.0
""")
