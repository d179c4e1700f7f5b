"""Batch inference against every peer in one run: nncore fp32 (and int8 when `model.quantize`
exists), onnxruntime fp32 and int8 (`quantize_dynamic`), OpenVINO fp32, PyTorch fp32 and int8
(`torch.ao.quantization.quantize_dynamic`), at batch 1, 32, 1024, 4096 on 1 and 2 threads.

    PYTHONPATH=python python bench/python/bench_predict.py [--rounds 9] [--threads 1,2]
        [--batches 1,32,1024,4096] [--isa native|avx2|avx512] [--peers nncore,ort,ov,torch]

The model is bench_train.py's: 784-512(BN, ReLU, Dropout .2)-512(BN, ReLU, Dropout .2)-10 with a
softmax output, fitted one epoch so BatchNorm's running statistics are not the identity. Every peer
runs the same weights: onnxruntime and OpenVINO the graph of `model.export_onnx`, PyTorch
`model.to_torch()`; each call returns the softmax probabilities as a numpy array, and the header
prints each peer's largest difference from nncore fp32 (and int8 accuracy on the argmax).

Every peer gets the same thread count: `nc.set_num_threads`, onnxruntime's `intra_op_num_threads`
(inter-op 1), OpenVINO's `INFERENCE_NUM_THREADS` (one stream, LATENCY hint, compiled per batch size
with a static shape, its fastest form), `torch.set_num_threads`. OpenVINO's fp32 row sets
`INFERENCE_PRECISION_HINT="f32"` (it otherwise runs bf16 on CPUs with AMX or AVX512-BF16).
`--isa avx2` forces AVX2 where a peer can be told (nncore: NNCORE_ISA; PyTorch: ATen and MKL;
oneDNN inside PyTorch and OpenVINO: ONEDNN_MAX_CPU_ISA, OV_CPU_MAX_ISA; see isa_env.py);
onnxruntime has no run-time switch (MLAS picks its kernels from CPUID), so its rows keep AVX-512.

In one round every peer runs each (threads, batch) cell in turn; each sample repeats the call for
at least --sample-ms, after a --settle-ms pause on 2+ threads (settle.py: the previous peer's idle
workers spin on and would take a core); the table shows the median per call over the rounds.
"fp32 ×" is the best of onnxruntime and OpenVINO fp32 divided by nncore fp32 (> 1: nncore
faster); "int8 ×" the best int8 peer divided by nncore's int8 (static). Peers that are not
installed are listed as absent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isa_env import apply_isa_environment, describe_environment  # noqa: E402
from settle import DEFAULT_MS, settle  # noqa: E402

apply_isa_environment()

import numpy as np  # noqa: E402
from sampling import sample  # noqa: E402

import nncore as nc  # noqa: E402

from bench_train import make_data, nncore_model  # noqa: E402

# Columns, in order: (key, header). A key whose peer is absent prints "-".
COLUMNS = [
    ("nncore", "nncore fp32"),
    ("ort", "onnxruntime fp32"),
    ("ov", "OpenVINO fp32"),
    ("torch", "PyTorch fp32"),
    ("nncore_int8", "nncore int8 static"),
    ("nncore_int8_dyn", "nncore int8 dynamic"),
    ("ort_int8", "onnxruntime int8"),
    ("torch_int8", "PyTorch int8"),
]
FP32_PEERS = ("ort", "ov")
INT8_PEERS = ("ort_int8", "torch_int8")


class Peers:
    """Builds each peer's call for (threads, batch) and remembers which peers are absent (why)."""

    def __init__(self, model, X_cal, onnx_dir: str, wanted: set[str]):
        self.model = model
        self.absent: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.onnx_path = os.path.join(onnx_dir, "model.onnx")
        self.onnx_int8 = os.path.join(onnx_dir, "model_int8.onnx")
        self.wanted = wanted
        self.q_static = self.q_dynamic = None
        self.ort = self.ov = self.torch = None
        self.ov_cache: dict = {}
        self.ort_cache: dict = {}
        if "nncore" in wanted and hasattr(model, "quantize"):
            self.q_static = model.quantize(X_cal, activations="static")
            self.q_dynamic = model.quantize(X_cal, activations="dynamic")
        elif "nncore" in wanted:
            self.absent["nncore_int8"] = self.absent["nncore_int8_dyn"] = "no model.quantize"
        self._load_onnx_peers(wanted)
        self._load_torch(wanted)

    def _load_onnx_peers(self, wanted) -> None:
        if not ({"ort", "ov"} & wanted):
            return
        try:
            self.model.export_onnx(self.onnx_path)
        except ImportError as e:
            for k in ("ort", "ort_int8", "ov"):
                self.absent[k] = f"onnx: {e}"
            return
        if "ort" in wanted:
            try:
                import onnxruntime as ort
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantize_dynamic(self.onnx_path, self.onnx_int8, weight_type=QuantType.QInt8)
                self.ort = ort
                self.versions["onnxruntime"] = ort.__version__
            except ImportError as e:
                self.absent["ort"] = self.absent["ort_int8"] = str(e)
        if "ov" in wanted:
            try:
                import openvino as ov

                self.ov = ov.Core()
                self.versions["openvino"] = ov.__version__
            except ImportError as e:
                self.absent["ov"] = str(e)

    def _load_torch(self, wanted) -> None:
        if "torch" not in wanted:
            return
        try:
            import torch
        except ImportError as e:
            self.absent["torch"] = self.absent["torch_int8"] = str(e)
            return
        self.torch = torch
        self.versions["torch"] = torch.__version__
        self.tm = self.model.to_torch().eval()
        try:
            from torch.ao.quantization import quantize_dynamic

            with warnings.catch_warnings():  # deprecated in favour of torchao; still the peer
                warnings.simplefilter("ignore")
                self.tm_int8 = quantize_dynamic(self.tm, {torch.nn.Linear}, dtype=torch.qint8)
        except Exception as e:  # removed or unsupported quantization engine
            self.absent["torch_int8"] = f"{type(e).__name__}: {e}"

    def set_threads(self, threads: int) -> None:
        nc.set_num_threads(threads)
        if self.torch is not None:
            self.torch.set_num_threads(threads)

    def _ort_session(self, path: str, threads: int):
        key = (path, threads)
        if key not in self.ort_cache:
            so = self.ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.execution_mode = self.ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = self.ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self.ort_cache[key] = self.ort.InferenceSession(
                path, so, providers=["CPUExecutionProvider"]
            )
        return self.ort_cache[key]

    def _ov_request(self, threads: int, rows: int):
        key = (threads, rows)
        if key not in self.ov_cache:
            m = self.ov.read_model(self.onnx_path)
            m.reshape([rows, self.model.input_dim])
            compiled = self.ov.compile_model(
                m,
                "CPU",
                {
                    "INFERENCE_PRECISION_HINT": "f32",
                    "INFERENCE_NUM_THREADS": threads,
                    "NUM_STREAMS": 1,
                    "PERFORMANCE_HINT": "LATENCY",
                },
            )
            self.ov_cache[key] = compiled.create_infer_request()
        return self.ov_cache[key]

    def calls(self, threads: int, xb: np.ndarray) -> dict:
        """key -> a function returning the probabilities for xb, for the present peers."""
        c: dict = {}
        w = self.wanted
        if "nncore" in w:
            c["nncore"] = lambda: self.model.predict(xb)
            if self.q_static is not None:
                c["nncore_int8"] = lambda: self.q_static.predict(xb)
                c["nncore_int8_dyn"] = lambda: self.q_dynamic.predict(xb)
        if self.ort is not None:
            for key, path in (("ort", self.onnx_path), ("ort_int8", self.onnx_int8)):
                sess = self._ort_session(path, threads)
                name = sess.get_inputs()[0].name
                c[key] = lambda sess=sess, name=name: sess.run(None, {name: xb})[0]
        if self.ov is not None:
            req = self._ov_request(threads, xb.shape[0])
            c["ov"] = lambda req=req: req.infer({0: xb})[0]
        if self.torch is not None:
            torch, xt = self.torch, self.torch.from_numpy(xb)

            def run(net):
                with torch.inference_mode():
                    return torch.softmax(net(xt), dim=1).numpy()

            c["torch"] = lambda: run(self.tm)
            if "torch_int8" not in self.absent:
                c["torch_int8"] = lambda: run(self.tm_int8)
        return c


def agreement(peers: Peers, X: np.ndarray, y: np.ndarray) -> list[str]:
    """One line per peer: its largest difference from nncore fp32 and its argmax agreement."""
    xb = np.ascontiguousarray(X[:1024])
    calls = peers.calls(1, xb)
    ref = np.asarray(calls.pop("nncore")())
    lines = []
    for k, fn in calls.items():
        out = np.asarray(fn())
        same = float(np.mean(out.argmax(1) == ref.argmax(1)))
        lines.append(f"{k}: max |Δp| {np.abs(out - ref).max():.2e}, argmax agrees {same:.4f}")
    return lines


def ratio(best_peer: float | None, ours: float | None) -> str:
    return f"{best_peer / ours:.2f}×" if best_peer and ours else "-"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="1,32,1024,4096")
    ap.add_argument("--sample-ms", type=float, default=40.0)
    ap.add_argument(
        "--settle-ms",
        type=float,
        default=DEFAULT_MS,
        help="pause before each multi-threaded sample, so the previous peer's pool stops spinning",
    )
    ap.add_argument("--peers", default="nncore,ort,ov,torch")
    ap.add_argument("--isa", default="native", help="native, avx2 or avx512 (peers too)")
    args = ap.parse_args()
    wanted = set(args.peers.split(",")) | {"nncore"}

    X, y = make_data(4096, seed=1)
    m = nncore_model()
    # One epoch so that BatchNorm's running statistics are not the identity.
    m.fit(X[:1024], y[:1024], epochs=1, batch_size=256, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        peers = Peers(m, X[:512], tmp, wanted)
        cfg = nc.config()
        print(f"# bench_predict.py: nncore {cfg['isa']} ({cfg['gemm_kernel']})")
        for k, v in peers.versions.items():
            print(f"# {k} {v}")
        for k, why in peers.absent.items():
            print(f"# absent: {k} ({why})")
        print(f"# {describe_environment()}")
        for line in agreement(peers, X, y):
            print(f"# {line}")
        print(f"# rounds={args.rounds}, sample >= {args.sample_ms} ms, medians of per-call µs\n")
        keys = [k for k, _ in COLUMNS]
        print(
            "| batch | threads | "
            + " | ".join(h for _, h in COLUMNS)
            + " | fp32 × (best of ort, OV) | int8 × (best int8 peer) |"
        )
        print("|---|---|" + "---|" * (len(COLUMNS) + 2))
        for threads in [int(t) for t in args.threads.split(",")]:
            peers.set_threads(threads)
            for rows in [int(b) for b in args.batches.split(",")]:
                xb = np.ascontiguousarray(X[:rows])
                calls = peers.calls(threads, xb)
                times: dict = {k: [] for k in calls}
                for _ in range(args.rounds):
                    for k, fn in calls.items():
                        settle(threads, args.settle_ms)
                        times[k].append(sample(fn, args.sample_ms / 1000))
                med = {k: statistics.median(v) * 1e6 for k, v in times.items()}
                cells = [f"{med[k]:.1f}" if k in med else "-" for k in keys]
                best32 = min((med[k] for k in FP32_PEERS if k in med), default=None)
                best8 = min((med[k] for k in INT8_PEERS if k in med), default=None)
                cells += [ratio(best32, med["nncore"]), ratio(best8, med.get("nncore_int8"))]
                print(f"| {rows} | {threads} | " + " | ".join(cells) + " |")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
