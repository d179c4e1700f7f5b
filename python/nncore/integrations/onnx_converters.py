"""skl2onnx converters for ``nncore.sklearn.MLPClassifier`` and ``MLPRegressor``, so a
scikit-learn pipeline holding one converts with ``skl2onnx.to_onnx``.

The network part of the graph is nncore's own ONNX export (``model_.export_onnx``: batch norm,
dropout, every activation), inlined into the pipeline's graph with its names made unique; around
it the converter adds what scikit-learn's API adds: the float32 cast, ``predict_proba``'s two
columns for a binary classifier and the label (the arg-max's class). Multi-label classifiers are
not converted. Importing this module registers the converters (as skl2onnx's own do);
:func:`register_converters` does it explicitly.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

_ALIASES = {"MLPClassifier": "NncoreMLPClassifier", "MLPRegressor": "NncoreMLPRegressor"}


def _require_skl2onnx():
    try:
        import skl2onnx
    except ImportError:
        raise ImportError(
            "the skl2onnx converters need skl2onnx: pip install 'nncore[skl2onnx]' "
            "(or pip install skl2onnx)"
        ) from None
    return skl2onnx


def _network_graph(estimator, opset: int):
    """nncore's ONNX graph of the estimator's fitted network (Sequential.export_onnx)."""
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "network.onnx")
        estimator.model_.export_onnx(path, opset=opset)
        return onnx.load(path).graph


def _inline_network(scope, container, estimator, x: str) -> str:
    """Adds the network's nodes and weights to the pipeline's graph with fresh names; returns
    the name of its output (the probabilities or values ``predict`` computes, float32)."""
    from onnx import helper

    opset = min(int(container.target_opset), 21)
    graph = _network_graph(estimator, opset)
    names = {graph.input[0].name: x}

    def rename(name: str) -> str:
        if name == "":  # an optional input left out
            return name
        if name not in names:
            names[name] = scope.get_unique_variable_name("nncore_" + name)
        return names[name]

    for init in graph.initializer:
        container.add_initializer(rename(init.name), init.data_type, list(init.dims), init)
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(
            node.op_type,
            [rename(i) for i in node.input],
            [rename(o) for o in node.output],
            op_domain=node.domain,
            op_version=opset,
            name=scope.get_unique_operator_name("Nncore" + node.op_type),
            **attrs,
        )
    return rename(graph.output[0].name)


def _float_input(scope, container, operator) -> str:
    from onnx import TensorProto

    x = operator.inputs[0]
    if x.type.__class__.__name__ == "FloatTensorType":
        return x.full_name
    cast = scope.get_unique_variable_name("nncore_input_float")
    container.add_node(
        "Cast",
        [x.full_name],
        [cast],
        name=scope.get_unique_operator_name("NncoreCast"),
        to=TensorProto.FLOAT,
    )
    return cast


def _to_output(scope, container, source: str, target) -> None:
    """Copies (or casts, for a double output) ``source`` into the operator's output variable."""
    from onnx import TensorProto

    if target.type.__class__.__name__ == "DoubleTensorType":
        container.add_node(
            "Cast",
            [source],
            [target.full_name],
            name=scope.get_unique_operator_name("NncoreCast"),
            to=TensorProto.DOUBLE,
        )
    else:
        container.add_node(
            "Identity", [source], [target.full_name], name=scope.get_unique_operator_name("Id")
        )


def convert_classifier(scope, operator, container) -> None:
    """skl2onnx converter for ``nncore.sklearn.MLPClassifier``: outputs the label and
    ``predict_proba``'s probabilities (columns in ``classes_`` order).

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Where new variable and operator names come from (skl2onnx passes it).
    operator : skl2onnx.common._topology.Operator
        The estimator's node; ``operator.raw_operator`` is the fitted estimator.
    container : skl2onnx.common._container.ModelComponentContainer
        The ONNX graph the nodes are added to.

    Raises
    ------
    NotImplementedError
        For a multi-label classifier.
    """
    from onnx import TensorProto

    est = operator.raw_operator
    if est.out_activation_ != "softmax" and est.n_outputs_ > 1:
        raise NotImplementedError(
            "nncore's skl2onnx converter does not convert multi-label classifiers"
        )
    x = _float_input(scope, container, operator)
    out = _inline_network(scope, container, est, x)
    if est.n_outputs_ == 1:  # binary: predict_proba is [1 - p, p]
        one = scope.get_unique_variable_name("nncore_one")
        container.add_initializer(one, TensorProto.FLOAT, [], [1.0])
        q = scope.get_unique_variable_name("nncore_q")
        container.add_node("Sub", [one, out], [q], name=scope.get_unique_operator_name("Sub"))
        both = scope.get_unique_variable_name("nncore_proba")
        container.add_node(
            "Concat", [q, out], [both], name=scope.get_unique_operator_name("Concat"), axis=1
        )
        out = both
    _to_output(scope, container, out, operator.outputs[1])
    index = scope.get_unique_variable_name("nncore_argmax")
    container.add_node(
        "ArgMax", [out], [index], name=scope.get_unique_operator_name("ArgMax"), axis=1, keepdims=0
    )
    classes = np.asarray(est.classes_)
    table = scope.get_unique_variable_name("nncore_classes")
    if classes.dtype.kind in "iub":
        container.add_initializer(
            table, TensorProto.INT64, [len(classes)], classes.astype(np.int64)
        )
    else:
        container.add_initializer(
            table, TensorProto.STRING, [len(classes)], [str(c).encode("utf-8") for c in classes]
        )
    container.add_node(
        "Gather",
        [table, index],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Gather"),
        axis=0,
    )


def convert_regressor(scope, operator, container) -> None:
    """skl2onnx converter for ``nncore.sklearn.MLPRegressor``: outputs ``predict``'s values as
    an (n, outputs) tensor.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Where new variable and operator names come from (skl2onnx passes it).
    operator : skl2onnx.common._topology.Operator
        The estimator's node; ``operator.raw_operator`` is the fitted estimator.
    container : skl2onnx.common._container.ModelComponentContainer
        The ONNX graph the nodes are added to.
    """
    est = operator.raw_operator
    x = _float_input(scope, container, operator)
    out = _inline_network(scope, container, est, x)
    _to_output(scope, container, out, operator.outputs[0])


def _regressor_shapes(operator) -> None:
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes

    calculate_linear_regressor_output_shapes(operator)
    n_out = int(getattr(operator.raw_operator, "n_outputs_", 1))
    out = operator.outputs[0]
    out.type = out.type.__class__([None, n_out])


def register_converters() -> None:
    """Register the converters with skl2onnx (idempotent; importing this module does it).

    Examples
    --------
    >>> import numpy as np
    >>> from skl2onnx import to_onnx
    >>> from nncore.sklearn import MLPRegressor
    >>> from nncore.integrations.onnx_converters import register_converters
    >>> register_converters()
    >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    >>> est = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=500, random_state=0)
    >>> est = est.fit(X, X.sum(axis=1))
    >>> onx = to_onnx(est, X[:1])
    >>> [o.name for o in onx.graph.output]
    ['variable']
    """
    _require_skl2onnx()
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    from nncore.sklearn import MLPClassifier, MLPRegressor

    update_registered_converter(
        MLPClassifier,
        _ALIASES["MLPClassifier"],
        calculate_linear_classifier_output_shapes,
        convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    update_registered_converter(
        MLPRegressor, _ALIASES["MLPRegressor"], _regressor_shapes, convert_regressor
    )


register_converters()

__all__ = ["convert_classifier", "convert_regressor", "register_converters"]
