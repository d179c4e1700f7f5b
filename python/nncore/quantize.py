"""int8 post-training quantization: :meth:`nncore.Sequential.quantize` returns a
:class:`QuantizedModel` whose ``predict`` runs each Dense layer as an int8 GEMM (VNNI where the
CPU has it), bitwise the same on every ISA and thread count.

What is quantized: each Dense with the BatchNorm after it folded in, weights symmetric per output
channel on 7 bits (``|q| ≤ 63``, so the AVX2 kernel's 16-bit pair sums never saturate and every
kernel gives the same bits), the activation applied in the requantization epilogue; activations
per tensor as u8 with a zero point, static (ranges from the calibration rows) or dynamic (from
each block of up to 4096 predicted rows). The last layer stays fp32 by default."""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np

from . import _format, layers
from ._engine import quantized as _qengine
from ._validation import check_X
from .training import inputs

# The fp32 model is an nncore.Sequential; not imported (model.py imports this module).
Sequential = Any

ACTIVATION_MODES = ("static", "dynamic")
# the layers an int8 chain is made of (Residual, LayerNorm and Embedding are not)
SUPPORTED_LAYERS = (layers.Dense, layers.BatchNorm, layers.Activation, layers.Dropout)


def quantize(
    model: Sequential,
    X_calibration=None,
    *,
    activations: str = "static",
    keep_last_fp32: bool = True,
) -> QuantizedModel:
    """The int8 model of ``model`` as it is now (``model.quantize(...)`` calls it).

    Parameters
    ----------
    model : Sequential
        A built fp32 model of Dense, BatchNorm, Activation and Dropout layers.
    X_calibration : array-like of shape (n_samples, n_features), optional
        Rows whose activation ranges fix the static scales (required with
        ``activations="static"``).
    activations : {"static", "dynamic"}, default "static"
        Activation ranges from the calibration rows, or from each predicted block of up to
        4096 rows.
    keep_last_fp32 : bool, default True
        Keep the last layer in fp32 (False: int8 too).

    Returns
    -------
    QuantizedModel
        The int8 model; the fp32 model is unchanged.

    Raises
    ------
    ValueError
        On an unknown ``activations``, missing calibration rows, or a layer other than Dense,
        BatchNorm, Activation and Dropout.
    TypeError
        When ``keep_last_fp32`` is not a bool.
    RuntimeError
        When the model is not built.
    """
    if activations not in ACTIVATION_MODES:
        raise ValueError(f"activations must be 'static' or 'dynamic', got {activations!r}")
    if not isinstance(keep_last_fp32, (bool, np.bool_)):
        raise TypeError(f"keep_last_fp32 must be a bool, got {type(keep_last_fp32).__name__}")
    if not model.built:
        raise RuntimeError("the model is not built: fit it (or call model.build()) before quantize")
    bad = [
        f"{i}: {type(layer).__name__}"
        for i, layer in enumerate(model.layers)
        if not isinstance(layer, SUPPORTED_LAYERS)
    ]
    if bad:
        raise ValueError(
            "int8 quantization supports Dense, BatchNorm, Activation and Dropout layers; "
            f"this model has {', '.join(bad)}"
        )
    dynamic = activations == "dynamic"
    _qengine.int8_layers(model.engine, dynamic, bool(keep_last_fp32))  # the chain's own checks
    scales: list[float] = []
    zero_points: list[int] = []
    if not dynamic:  # dynamic ranges come from each predicted block: no calibration
        if X_calibration is None:
            raise ValueError("static activation ranges need calibration rows: X_calibration")
        X = check_X(X_calibration, n_features=model.input_dim, name="X_calibration")
        X = inputs.check_input(model, X, "X_calibration")
        scales, zero_points = _qengine.calibrate(model.engine, X, False, bool(keep_last_fp32))
    # a snapshot: training ``model`` later changes neither this int8 model nor what it saves
    snapshot = copy.deepcopy(model)
    return QuantizedModel(snapshot, activations, bool(keep_last_fp32), scales, zero_points)


class QuantizedModel:
    """An int8 model made by :meth:`nncore.Sequential.quantize`: ``predict`` like the fp32
    model's (probabilities for a classifier), ``save`` / :func:`nncore.load`, ``export_onnx``.

    The fp32 model it was made from is ``model`` (a snapshot: training that model later does
    not change this one; quantize again). It pickles and deep-copies as Sequential does
    (through the model file format, checked on load) and predicts the same bits after.

    Parameters
    ----------
    model : Sequential
        The fp32 model.
    activations : {"static", "dynamic"}
        How activation ranges are found.
    keep_last_fp32 : bool
        Whether the last layer stays fp32.
    scales : list of float
        The static input scale of each int8 layer (empty for dynamic activations).
    zps : list of int
        Their zero points.
    """

    def __init__(self, model: Sequential, activations: str, keep_last_fp32: bool, scales, zps):
        self.model = model
        self.activations = activations
        self.keep_last_fp32 = keep_last_fp32
        self.input_scales = [float(s) for s in scales]
        self.input_zero_points = [int(z) for z in zps]
        self.engine = _qengine.QuantizedEngine(
            model.engine, activations == "dynamic", keep_last_fp32, scales, zps
        )

    @property
    def input_dim(self) -> int:
        """The number of input features."""
        return self.engine.input_dim

    @property
    def loss(self):
        """The fp32 model's loss, which decides what ``predict`` returns."""
        return self.model.loss

    def predict(self, X) -> np.ndarray:
        """Outputs for X, as :meth:`nncore.Sequential.predict` returns them, computed in int8.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            Softmax probabilities for cross_entropy, sigmoid for binary_cross_entropy, the raw
            outputs otherwise.
        """
        X = check_X(X, n_features=self.input_dim)
        return self.engine.predict(X)

    def quantization(self) -> dict[str, Any]:
        """The quantization as plain data (what a model file stores).

        Returns
        -------
        dict
            ``scheme``, ``weights``, ``activations`` and ``keep_last_fp32``.
        """
        return {
            "scheme": "int8",
            "weights": "symmetric per output channel, 7 bits",
            "activations": self.activations,
            "keep_last_fp32": self.keep_last_fp32,
        }

    def state(self) -> dict:
        """The fp32 model's state with the quantization added.

        The weights are re-quantized from the fp32 ones on load, deterministically, so the file
        holds one set of weights.

        Returns
        -------
        dict
            :meth:`nncore.Sequential.state` plus ``quantization`` and its arrays.
        """
        state = self.model.state()
        state["quantization"] = self.quantization()
        state["arrays"]["quantization.input_scale"] = np.asarray(self.input_scales, np.float32)
        state["arrays"]["quantization.input_zero_point"] = np.asarray(
            self.input_zero_points, np.int64
        )
        return state

    @classmethod
    def from_state(cls, state: dict, model: Sequential) -> QuantizedModel:
        """The quantized model :meth:`state` described, on its rebuilt fp32 model.

        Parameters
        ----------
        state : dict
            What :meth:`state` returned.
        model : Sequential
            The fp32 model rebuilt from the same state.

        Returns
        -------
        QuantizedModel
            The model.

        Raises
        ------
        ValueError
            On an unknown scheme or activation mode, or malformed quantization arrays.
        """
        q = state["quantization"]
        if not isinstance(q, dict) or q.get("scheme") != "int8":
            raise ValueError("unknown quantization scheme")
        if q.get("activations") not in ACTIVATION_MODES:
            raise ValueError(f"unknown activation mode {q.get('activations')!r}")
        keep = q.get("keep_last_fp32")
        if not isinstance(keep, bool):
            raise ValueError("keep_last_fp32 must be a bool")
        arrays = state["arrays"]
        scales = arrays.get("quantization.input_scale", np.zeros(0, np.float32))
        zps = arrays.get("quantization.input_zero_point", np.zeros(0, np.int64))
        if scales.ndim != 1 or zps.ndim != 1 or scales.dtype != np.float32:
            raise ValueError("malformed quantization arrays")
        return cls(model, q["activations"], keep, scales.tolist(), zps.tolist())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the quantized model atomically in nncore's format.

        Parameters
        ----------
        path : str, path-like or binary file object
            The file (or an object opened with ``"wb"``); :func:`nncore.load` reads it back as
            a QuantizedModel (the C++ ``nncore::Model`` loads the file too).
        """
        _format.write_model(path, _format.encode(self.state()))

    def export_onnx(self, path, *, opset: int | None = None) -> None:
        """Write an ONNX graph computing :meth:`predict` with integer matrix products.

        The graph uses ``QuantizeLinear`` (or ``DynamicQuantizeLinear``) and ``MatMulInteger``
        (:mod:`nncore.onnx_quantized`); onnxruntime reproduces the logits.

        Parameters
        ----------
        path : str or path-like
            The file, written atomically.
        opset : int or None, default None
            The ONNX operator set (None: the newest this onnx supports).

        Raises
        ------
        ImportError
            Without the onnx package (``pip install onnx``).
        """
        from . import onnx_quantized

        onnx_quantized.export_onnx(self, path, opset=opset)

    def summary(self, print_fn=print) -> str:
        """One line per Dense layer: its sizes, int8 or fp32, activation and input scale.

        Parameters
        ----------
        print_fn : callable or None, default print
            Called with the text; None prints nothing.

        Returns
        -------
        str
            The text.
        """
        lines = [f"QuantizedModel (int8, activations {self.activations})"]
        for i, d in enumerate(self.engine.layers()):
            kind = "int8" if d["int8"] else "fp32"
            extra = ""
            if d["int8"] and self.activations == "static":
                extra = f", input scale {d['input_scale']:.4g} zero point {d['input_zero_point']}"
            lines.append(f"  {i}: Dense {d['in']} -> {d['out']} {kind}, {d['activation']}{extra}")
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text

    def __getstate__(self) -> dict:
        """Pickle (and copy.deepcopy, joblib, cloudpickle): the fp32 model, which pickles
        through the ``.nnc`` format, and the quantization fields a model file holds; the int8
        weights are quantized again on load, with the same bits."""
        state = self.state()
        return {
            "model": self.model,
            "quantization": state["quantization"],
            "input_scale": state["arrays"]["quantization.input_scale"],
            "input_zero_point": state["arrays"]["quantization.input_zero_point"],
        }

    def __setstate__(self, state: dict) -> None:
        # the payload is checked as a model file's quantization fields are (from_state, then
        # the engine's own checks); anything malformed is a ModelFileError, never a crash
        try:
            arrays = {
                "quantization.input_scale": state["input_scale"],
                "quantization.input_zero_point": state["input_zero_point"],
            }
            if not all(isinstance(a, np.ndarray) for a in arrays.values()):
                raise TypeError("the quantization arrays are not arrays")
            q = QuantizedModel.from_state(
                {"quantization": state["quantization"], "arrays": arrays}, state["model"]
            )
        except _format.ModelFileError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError) as e:
            raise _format.ModelFileError(
                f"<pickle>: invalid int8 model ({type(e).__name__}: {' '.join(str(e).split())[:300]})"
            ) from None
        self.__dict__.update(q.__dict__)

    def __repr__(self) -> str:
        n = sum(1 for d in self.engine.layers() if d["int8"])
        return (
            f"QuantizedModel(int8, {n} int8 Dense layers, activations={self.activations!r}, "
            f"keep_last_fp32={self.keep_last_fp32}, model={self.model!r})"
        )
