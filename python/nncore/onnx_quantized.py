"""ONNX export of an int8 model (:class:`nncore.quantize.QuantizedModel`): each int8 Dense as
``QuantizeLinear`` (or ``DynamicQuantizeLinear``) -> ``MatMulInteger`` (u8 × s8 with the
activation's zero point) -> ``Cast`` -> ``Mul`` by input scale · weight scale -> ``Add`` bias ->
activation, the same sequence of float operations nncore's epilogue runs, so onnxruntime without
graph rewrites reproduces nncore's outputs bit for bit for relu / linear layers; an fp32 last
layer is a ``Gemm``. Leaves out everything the fp32 exporter (:mod:`nncore.onnx_export`) does
for non-quantized models."""

from __future__ import annotations

import os

import numpy as np

from . import _format, _losses
from .onnx_export import Graph, max_ir_version, require_onnx, resolve_opset


def _const(g: Graph, hint: str, value, dtype) -> str:
    name = g.name(hint)
    arr = np.ascontiguousarray(np.asarray(value, dtype=dtype))
    g.inits.append(g.onnx.numpy_helper.from_array(arr, name))
    return name


def _dense_int8(g: Graph, x: str, xq: str | None, d: dict, dynamic: bool, i: int) -> str:
    """One int8 Dense from float x (or its u8 form xq): its float output, activation applied."""
    w_t = _const(g, f"w{i}_q", d["weight_q"].T, np.int8)  # (in, out) for MatMul
    if dynamic:
        q, s, zp = (g.name(f"x{i}_q"), g.name(f"x{i}_scale"), g.name(f"x{i}_zp"))
        g.nodes.append(g.h.make_node("DynamicQuantizeLinear", [x], [q, s, zp], name=q))
        scale = g.op("Mul", [s, g.const(f"w{i}_scale", d["weight_scale"])], f"scale{i}")
    else:
        zp = _const(g, f"x{i}_zp", d["input_zero_point"], np.uint8)
        q = xq or g.op(
            "QuantizeLinear",
            [x, _const(g, f"x{i}_scale", d["input_scale"], np.float32), zp],
            f"x{i}_q",
        )
        scale = g.const(f"scale{i}", np.float32(d["input_scale"]) * d["weight_scale"])
    acc = g.op("MatMulInteger", [q, w_t, zp], f"acc{i}")
    y = g.op("Cast", [acc], f"accf{i}", to=g.onnx.TensorProto.FLOAT)
    y = g.op("Add", [g.op("Mul", [y, scale], f"scaled{i}"), g.const(f"b{i}", d["bias"])], f"z{i}")
    return g.activation(y, d["activation"], d["alpha"], f"dense{i}")


def to_onnx(qmodel, *, opset: int | None = None, name: str = "nncore_int8"):
    """The int8 model as an ONNX graph computing its ``predict``, in memory.

    Parameters
    ----------
    qmodel : QuantizedModel
        The model made by :meth:`nncore.Sequential.quantize`.
    opset : int or None, default None
        The ONNX operator set (None: the newest this onnx supports, at most 21).
    name : str, default "nncore_int8"
        The graph's name.

    Returns
    -------
    onnx.ModelProto
        The graph (``QuantizeLinear`` or ``DynamicQuantizeLinear``, ``MatMulInteger``, the
        requantization in float), checked by ``onnx.checker``.

    Raises
    ------
    ImportError
        Without the onnx package.
    ValueError
        When ``opset`` is out of range.
    """
    onnx = require_onnx()
    opset = resolve_opset(onnx, opset)
    g = Graph(onnx, opset)
    layers = qmodel.engine.layers()
    dynamic = qmodel.activations == "dynamic"
    x, xq = "input", None
    for i, d in enumerate(layers):
        if d["int8"]:
            x = _dense_int8(g, x, xq, d, dynamic, i)
        else:
            w, b = g.const(f"w{i}", d["weight"]), g.const(f"b{i}", d["bias"])
            x = g.op("Gemm", [x, w, b], f"gemm{i}", transB=1)
            x = g.activation(x, d["activation"], d["alpha"], f"dense{i}")
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        xq = None
        if nxt is not None and nxt["int8"] and not dynamic:  # requantized in the epilogue
            s = _const(g, f"x{i + 1}_scale", nxt["input_scale"], np.float32)
            zp = _const(g, f"x{i + 1}_zp", nxt["input_zero_point"], np.uint8)
            xq = g.op("QuantizeLinear", [x, s, zp], f"x{i + 1}_q")
    loss = qmodel.loss if isinstance(qmodel.loss, str) else ""
    x = g.activation(x, _losses.OUTPUT_TRANSFORM.get(loss, "linear"), None, "output")
    h = onnx.helper
    graph = h.make_graph(
        g.nodes,
        name,
        [h.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["batch", layers[0]["in"]])],
        [h.make_tensor_value_info(x, onnx.TensorProto.FLOAT, ["batch", layers[-1]["out"]])],
        initializer=g.inits,
    )
    proto = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)], producer_name="nncore")
    proto.ir_version = min(proto.ir_version, max_ir_version(onnx, opset))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(qmodel, path, *, opset: int | None = None) -> None:
    """Write :func:`to_onnx`'s graph to a file, atomically.

    Parameters
    ----------
    qmodel : QuantizedModel
        The model made by :meth:`nncore.Sequential.quantize`.
    path : str or path-like
        The file.
    opset : int or None, default None
        The ONNX operator set (None: the newest this onnx supports, at most 21).
    """
    proto = to_onnx(qmodel, opset=opset)
    _format.write_atomic(os.fspath(path), [proto.SerializeToString()])
