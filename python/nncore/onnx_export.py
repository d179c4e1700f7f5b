"""ONNX export of a Sequential (``model.export_onnx(path)``; needs the optional extra ``onnx``).

The graph computes what :meth:`Sequential.predict` returns: Dense -> Gemm (W is (out, in), so
``transB=1``), BatchNorm -> BatchNormalization with the running statistics (evaluation mode),
LayerNorm -> LayerNormalization over axis 1 (opset >= 17; below, its ReduceMean/Sub/Mul/Sqrt/Div
decomposition), Dropout -> nothing, activations -> their ONNX operators, Residual -> its layers then
an Add of the block's input (or of a MatMul by the transposed projection), then the output
softmax/sigmoid that the loss implies. Embedding / TabularInput -> Gather of the numeric columns,
and per code column a Gather of its table row (with unknown='reserve', codes outside [0,
cardinality), fractions and NaN are mapped to the reserved row in the graph; with unknown='error'
the runtime rejects an index out of range instead of the ValueError nncore raises), concatenated.
The batch dimension is symbolic ("batch"), so one file serves any batch size."""

from __future__ import annotations

import math
import os

import numpy as np

from . import _format, _losses
from .embedding import Embedding, TabularInput
from .layers import Activation, BatchNorm, Dense, Dropout, LayerNorm, Residual

# Graph, require_onnx, resolve_opset and max_ir_version are shared with nncore.onnx_quantized, not API.
__all__ = ["MIN_OPSET", "export_onnx", "to_onnx"]

MIN_OPSET = 13  # Softmax over one axis (axis=1 of a 2-D input) and Gemm without bias from here
_SELU_ALPHA = 1.6732632423543772  # the core's constants (activations_impl.inc)
_SELU_SCALE = 1.0507009873554805


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "export_onnx needs the onnx package: pip install 'nncore[onnx]' (or pip install onnx)"
        ) from None
    return onnx


class Graph:
    """An ONNX graph under construction: nodes, initializers, fresh names, activations (the
    fp32 exporter here and the int8 one, nncore.onnx_quantized, both build with it)."""

    def __init__(self, onnx, opset: int):
        self.onnx, self.h, self.opset = onnx, onnx.helper, opset
        self.nodes: list = []
        self.inits: list = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint: str, value) -> str:
        name = self.name(hint)
        arr = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def const_int(self, hint: str, value) -> str:
        name = self.name(hint)
        arr = np.ascontiguousarray(np.asarray(value, dtype=np.int64))
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def embedding(self, x: str, layer, params, n_in: int, where: str) -> str:
        """Numeric columns, then each code column's table row, concatenated (see the module)."""
        numeric, cols, cards = layer.layout(n_in)
        tables: dict = {}
        parts = []
        if numeric:
            parts.append(
                self.op("Gather", [x, self.const_int(where + "_numeric", numeric)], where, axis=1)
            )
        for c, card, tname in zip(cols, cards, layer.table_names(n_in)):
            if tname not in tables:
                tables[tname] = self.const(f"{where}_{tname}", params[f"0.{tname}"])
            at = f"{where}_col{c}"
            v = self.op("Gather", [x, self.const_int(at + "_index", [c])], at, axis=1)
            if layer.unknown == "reserve":
                ok = self.op(
                    "And",
                    [
                        self.op("GreaterOrEqual", [v, self.const("zero", 0.0)], at + "_ge0"),
                        self.op("Less", [v, self.const("card", float(card))], at + "_lt"),
                    ],
                    at + "_range",
                )
                whole = self.op("Equal", [v, self.op("Floor", [v], at + "_floor")], at + "_int")
                ok = self.op("And", [ok, whole], at + "_ok")
                v = self.op("Where", [ok, v, self.const("reserved", float(card))], at + "_code")
            idx = self.op("Cast", [v], at + "_int64", to=self.onnx.TensorProto.INT64)
            row = self.op("Gather", [tables[tname], idx], at + "_row", axis=0)
            parts.append(self.op("Flatten", [row], at + "_flat", axis=1))
        if len(parts) == 1:
            return parts[0]
        return self.op("Concat", parts, where + "_concat", axis=1)

    def layernorm(self, x: str, layer, params, name: str, where: str) -> str:
        """y = (x - mean)/sqrt(var + eps)·weight + bias over axis 1 (biased variance)."""
        weight = params.get(f"{name}.weight")
        bias = params.get(f"{name}.bias")
        if self.opset >= 17:
            if weight is None:  # the operator needs a scale: ones of the input's width
                scale = self.op("Shape", [x], where + "_shape", start=1, end=2)
                scale = self.op(
                    "ConstantOfShape",
                    [scale],
                    where + "_ones",
                    value=self.onnx.numpy_helper.from_array(np.ones(1, np.float32)),
                )
            else:
                scale = self.const(f"{where}_weight", weight)
            inputs = [x, scale]
            if bias is not None:
                inputs.append(self.const(f"{where}_bias", bias))
            return self.op(
                "LayerNormalization", inputs, where + "_layernorm", axis=1, epsilon=layer.eps
            )
        mean = self.op("ReduceMean", [x], where + "_mean", axes=[1], keepdims=1)
        d = self.op("Sub", [x, mean], where + "_centred")
        var = self.op(
            "ReduceMean", [self.op("Mul", [d, d], where + "_sq")], where + "_var", axes=[1]
        )
        eps = self.const(f"{where}_eps", layer.eps)
        std = self.op("Sqrt", [self.op("Add", [var, eps], where + "_var_eps")], where + "_std")
        y = self.op("Div", [d, std], where + "_normalized")
        if weight is not None:
            y = self.op("Mul", [y, self.const(f"{where}_weight", weight)], where + "_scaled")
        if bias is not None:
            y = self.op("Add", [y, self.const(f"{where}_bias", bias)], where + "_shifted")
        return y

    def op(self, op_type: str, inputs, hint: str, **attrs) -> str:
        out = self.name(hint)
        self.nodes.append(self.h.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def activation(self, x: str, act: str, alpha, where: str) -> str:
        if act == "linear":
            return x
        if act == "relu":
            return self.op("Relu", [x], where + "_relu")
        if act == "leaky_relu":
            return self.op("LeakyRelu", [x], where + "_leaky_relu", alpha=_alpha(alpha, 0.01))
        if act == "elu":
            return self.op("Elu", [x], where + "_elu", alpha=_alpha(alpha, 1.0))
        if act == "selu":
            return self.op("Selu", [x], where + "_selu", alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
        if act == "sigmoid":
            return self.op("Sigmoid", [x], where + "_sigmoid")
        if act == "tanh":
            return self.op("Tanh", [x], where + "_tanh")
        if act == "softplus":
            return self.op("Softplus", [x], where + "_softplus")
        if act == "silu":
            return self.op("Mul", [x, self.op("Sigmoid", [x], where + "_sig")], where + "_silu")
        if act == "softmax":
            return self.op("Softmax", [x], where + "_softmax", axis=1)
        if act == "gelu":  # the exact (erf) GELU, as the core computes it
            if self.opset >= 20:
                return self.op("Gelu", [x], where + "_gelu")
            scaled = self.op("Div", [x, self.const("sqrt2", math.sqrt(2.0))], where + "_div")
            erf1 = self.op(
                "Add",
                [self.op("Erf", [scaled], where + "_erf"), self.const("one", 1.0)],
                where + "_add",
            )
            half_x = self.op("Mul", [x, self.const("half", 0.5)], where + "_half")
            return self.op("Mul", [half_x, erf1], where + "_gelu")
        raise ValueError(f"{where}: activation {act!r} has no ONNX export")


def _alpha(alpha, default: float) -> float:
    return float(default if alpha is None else alpha)


def to_onnx(model, *, opset: int | None = None, name: str = "nncore"):
    """The model as an ONNX graph computing ``model.predict``, in memory.

    Parameters
    ----------
    model : Sequential
        A built model of Dense, Activation, BatchNorm, LayerNorm, Dropout, Residual or
        embedding layers.
    opset : int or None, default None
        The ONNX operator set (None: the newest this onnx supports, at most 21).
    name : str, default "nncore"
        The graph's name.

    Returns
    -------
    onnx.ModelProto
        The model, checked by ``onnx.checker``, with a symbolic batch dimension.

    Raises
    ------
    ImportError
        Without the onnx package (``pip install onnx``).
    RuntimeError
        When the model is not built.
    ValueError
        When ``opset`` is out of range, or a layer cannot be exported.

    See Also
    --------
    export_onnx : The same, written to a file.

    Examples
    --------
    >>> import nncore as nc
    >>> from nncore.onnx_export import to_onnx
    >>> model = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(2)], input_dim=3, seed=0)
    >>> proto = to_onnx(model.compile(loss="mse"))
    >>> proto.graph.input[0].name, len(proto.graph.output)
    ('input', 1)
    """
    onnx = require_onnx()
    if not model.built:
        raise RuntimeError(
            "the model is not built yet: give input_dim or call build()/fit() before export_onnx"
        )
    opset = resolve_opset(onnx, opset)
    _check_exportable(model.layers, "")
    params, buffers = model.parameters(), model.buffers()
    g = Graph(onnx, opset)
    x = _emit(g, model.layers, "input", params, buffers, "", model.engine.stripped, model.input_dim)
    transform = _losses.OUTPUT_TRANSFORM.get(model.loss or "", "linear")
    x = g.activation(x, transform, None, "output")
    if x == "input":  # a model of Dropout/linear layers only
        x = g.op("Identity", [x], "output_identity")
    h = onnx.helper
    graph = h.make_graph(
        g.nodes,
        name,
        [h.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", model.input_dim])],
        [h.make_tensor_value_info(x, onnx.TensorProto.FLOAT, ["batch", model.engine.output_dim])],
        initializer=g.inits,
    )
    proto = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], producer_name="nncore")
    proto.ir_version = min(proto.ir_version, max_ir_version(onnx, opset))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _check_exportable(layers, prefix: str) -> None:
    """Every layer (blocks' layers included) is checked before any is converted."""
    for i, layer in enumerate(layers):
        if isinstance(layer, Residual):
            _check_exportable(layer.layers, f"{prefix}{i}.body.")
        elif type(layer) not in (
            Dense,
            Activation,
            BatchNorm,
            LayerNorm,
            Dropout,
            Embedding,
            TabularInput,
        ):
            raise ValueError(
                f"layer {prefix}{i} ({layer!r}) cannot be exported to ONNX: export_onnx supports "
                "Dense, Activation, BatchNorm, LayerNorm, Dropout, Residual, Embedding and "
                "TabularInput"
            )


def _emit(g, layers, x: str, params, buffers, prefix: str, stripped, n_in: int = 0) -> str:
    """Appends the nodes of ``layers`` (named ``prefix + index`` in the arenas) reading ``x``;
    returns the output's name. ``stripped``: the index whose softmax/sigmoid the loss applies;
    ``n_in``: the model's input width (an Embedding/TabularInput, always the first layer)."""
    for i, layer in enumerate(layers):
        name = f"{prefix}{i}"
        where = "layer" + name.replace(".", "_")
        folded = i == stripped  # its softmax/sigmoid is applied as the output transform
        if isinstance(layer, Dense):
            inputs = [x, g.const(f"{where}_weight", params[f"{name}.weight"])]
            if layer.use_bias:
                inputs.append(g.const(f"{where}_bias", params[f"{name}.bias"]))
            x = g.op("Gemm", inputs, where + "_gemm", transB=1)
            if not folded:
                x = g.activation(x, layer.activation, layer.alpha, where)
        elif isinstance(layer, Activation):
            if not folded:
                x = g.activation(x, layer.activation, layer.alpha, where)
        elif isinstance(layer, BatchNorm):
            c = buffers[f"{name}.running_mean"].shape[0]
            gamma = params[f"{name}.weight"] if layer.affine else np.ones(c, np.float32)
            beta = params[f"{name}.bias"] if layer.affine else np.zeros(c, np.float32)
            x = g.op(
                "BatchNormalization",
                [
                    x,
                    g.const(f"{where}_scale", gamma),
                    g.const(f"{where}_shift", beta),
                    g.const(f"{where}_running_mean", buffers[f"{name}.running_mean"]),
                    g.const(f"{where}_running_var", buffers[f"{name}.running_var"]),
                ],
                where + "_batchnorm",
                epsilon=float(layer.eps),
            )
        elif isinstance(layer, LayerNorm):
            x = g.layernorm(x, layer, params, name, where)
        elif isinstance(layer, Residual):
            body = _emit(g, layer.layers, x, params, buffers, f"{name}.body.", None)
            skip = x
            proj = params.get(f"{name}.proj.weight")
            if proj is not None:  # x · Pᵀ, P (out, in): a Gemm without bias
                skip = g.op("Gemm", [x, g.const(f"{where}_proj", proj)], where + "_proj", transB=1)
            x = g.op("Add", [body, skip], where + "_add")
        elif isinstance(layer, (Embedding, TabularInput)):  # the model's layer 0
            x = g.embedding(x, layer, params, n_in, where)
        # Dropout is the identity in evaluation mode: nothing to emit.
    return x


def resolve_opset(onnx, opset: int | None) -> int:
    """The operator set to write: None gives the newest this onnx has, at most 21; anything
    outside [MIN_OPSET, newest] is refused (shared with nncore.onnx_quantized)."""
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return min(newest, 21)
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"opset must be an integer in [{MIN_OPSET}, {newest}] (this onnx), got {opset!r}"
        )
    return opset


def max_ir_version(onnx, opset: int) -> int:
    # Runtimes accept older IR versions; pin the one that introduced this opset.
    for entry in onnx.helper.VERSION_TABLE:
        if entry[2] == opset:
            return entry[1]
    return onnx.IR_VERSION


def export_onnx(model, path, *, opset: int | None = None) -> None:
    """Write the model as an ONNX file computing ``model.predict`` (``Sequential.export_onnx``).

    Parameters
    ----------
    model : Sequential
        A built model of Dense, Activation, BatchNorm, LayerNorm, Dropout, Residual or
        embedding layers.
    path : str or path-like
        The file to write (atomically: a reader never sees half a file).
    opset : int or None, default None
        The ONNX operator set (None: the newest this onnx supports, at most 21).

    Raises
    ------
    ImportError
        Without the onnx package (``pip install onnx``).
    RuntimeError
        When the model is not built.
    ValueError
        When ``opset`` is out of range, or a layer cannot be exported.

    See Also
    --------
    to_onnx : The graph in memory.

    Examples
    --------
    >>> import os, tempfile
    >>> import nncore as nc
    >>> from nncore.onnx_export import export_onnx
    >>> model = nc.Sequential([nc.Dense(8, "relu"), nc.Dense(2)], input_dim=3, seed=0)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> export_onnx(model.compile(loss="mse"), os.path.join(tmp.name, "model.onnx"))
    >>> os.listdir(tmp.name)
    ['model.onnx']
    >>> tmp.cleanup()
    """
    proto = to_onnx(model, opset=opset)
    _format.write_atomic(os.fspath(path), [proto.SerializeToString()])
