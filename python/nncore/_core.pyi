"""
nncore's C++ core
"""

from __future__ import annotations

import collections.abc
import typing

import numpy
import numpy.typing

__all__: list[str] = [
    "CppModel",
    "CppModelError",
    "Network",
    "Optimizer",
    "PackedB",
    "QuantizedNetwork",
    "act_backward",
    "act_forward",
    "bench_clock",
    "bench_fma_peak",
    "best_isa",
    "bn_backward",
    "bn_forward_eval",
    "bn_forward_train",
    "build_type",
    "check_model_bytes",
    "clip_grad_norm",
    "clip_grad_value",
    "compiler",
    "dropout_backward",
    "dropout_forward",
    "dropout_mask",
    "find_nonfinite",
    "fork_single_threaded",
    "gemm_kernel",
    "grad_norm",
    "have_openmp",
    "infer_rows",
    "int8_kernel",
    "int8_kernels",
    "isa",
    "lbfgs_fit",
    "lbfgs_minimize",
    "loss",
    "make_optimizer",
    "model_file_limits",
    "num_cores",
    "num_threads",
    "num_threads_setting",
    "optimized",
    "philox4x32_10",
    "philox4x32_10_batch",
    "schema",
    "set_gemm_blocking",
    "set_int8_kernel",
    "set_isa",
    "set_num_threads",
    "sgemm",
    "sgemm_naive",
    "sgemm_packed",
    "supported_isas",
]

class PackedB:
    def __init__(self, B: numpy.ndarray, trans_b: bool = False) -> None: ...
    def pack(self, B: numpy.ndarray, trans_b: bool = False) -> None: ...
    @property
    def K(self) -> int: ...
    @property
    def N(self) -> int: ...

class Optimizer:
    def get_state(self, arg0: str) -> numpy.typing.NDArray[numpy.float32]: ...
    def hparams(self) -> dict[str, float]: ...
    def set_hparam(self, name: str, value: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    def set_state(self, arg0: str, arg1: numpy.ndarray) -> None: ...
    def state_names(self) -> list[str]: ...
    def step(self, params: numpy.ndarray, grads: numpy.ndarray) -> dict:
        """
        One update of `params` (float32, updated in place) from `grads`; returns {grad_norm, finite, skipped}.
        """
    @property
    def lr(self) -> float: ...
    @lr.setter
    def lr(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def steps(self) -> int: ...
    @steps.setter
    def steps(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None: ...

class Network:
    fusion: bool
    def __init__(
        self,
        input_dim: typing.SupportsInt | typing.SupportsIndex,
        layers: list,
        seed: typing.SupportsInt | typing.SupportsIndex = 0,
        init: bool = True,
    ) -> None: ...
    def add_batch_l2(self, batch_weight: typing.SupportsFloat | typing.SupportsIndex) -> float: ...
    def add_penalty_grads(self) -> None: ...
    def backward(self, arg0: numpy.ndarray) -> numpy.typing.NDArray[numpy.float32]: ...
    def backward_blocks(
        self,
        dout: numpy.ndarray,
        rows: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        keys: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        first: typing.SupportsInt | typing.SupportsIndex,
        global_rows: typing.SupportsInt | typing.SupportsIndex,
        reducer: typing.Any,
    ) -> None: ...
    def buffer_views(self) -> list: ...
    def buffers_array(self) -> numpy.typing.NDArray[numpy.float32]: ...
    def forward(
        self,
        x: numpy.ndarray,
        training: bool = False,
        step: typing.SupportsInt | typing.SupportsIndex | None = None,
    ) -> numpy.typing.NDArray[numpy.float32]: ...
    def forward_all(self, x: numpy.ndarray, training: bool = False) -> list: ...
    def forward_blocks(
        self,
        x: numpy.ndarray,
        rows: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        keys: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        first: typing.SupportsInt | typing.SupportsIndex,
        global_rows: typing.SupportsInt | typing.SupportsIndex,
        reducer: typing.Any,
    ) -> numpy.typing.NDArray[numpy.float32]: ...
    def forward_mc(
        self,
        x: numpy.ndarray,
        seed: typing.SupportsInt | typing.SupportsIndex,
        step: typing.SupportsInt | typing.SupportsIndex,
        draw: typing.SupportsInt | typing.SupportsIndex,
    ) -> numpy.typing.NDArray[numpy.float32]: ...
    def grads_array(self) -> numpy.typing.NDArray[numpy.float32]: ...
    def layer_info(self) -> list: ...
    def loss(
        self, output: numpy.ndarray, y: numpy.ndarray, sample_weight: typing.Any = None
    ) -> tuple[float, numpy.typing.NDArray[numpy.float32]]: ...
    def loss_grad(
        self,
        x: numpy.ndarray,
        y: numpy.ndarray,
        sample_weight: typing.Any = None,
        accumulate: bool = False,
    ) -> float: ...
    def optimizer_step(self) -> dict: ...
    def param_views(self) -> list: ...
    def params_array(self) -> numpy.typing.NDArray[numpy.float32]: ...
    def params_changed(self) -> None: ...
    def penalty(self) -> float: ...
    def predict(
        self, x: numpy.ndarray, fold_batchnorm: bool = False
    ) -> numpy.typing.NDArray[numpy.float32]: ...
    def profile(self) -> dict: ...
    def reset_profile(self) -> None: ...
    def set_loss(
        self,
        name: str,
        delta: typing.SupportsFloat | typing.SupportsIndex = 1.0,
        options: typing.Any = None,
    ) -> None: ...
    def set_optimizer(self, arg0: Optimizer) -> None: ...
    def set_output_transform(self, arg0: str) -> None: ...
    def set_profiling(self, arg0: bool) -> None: ...
    def step_from_grad(self, grad: numpy.ndarray) -> dict: ...
    def sync_param_writes(self, exposed: bool) -> None: ...
    def train_epoch(
        self,
        X: numpy.ndarray,
        y: numpy.ndarray,
        sample_weight: typing.Any,
        batch_size: typing.SupportsInt | typing.SupportsIndex,
        order: typing.Any,
        batch_begin: typing.SupportsInt | typing.SupportsIndex,
        batch_end: typing.SupportsInt | typing.SupportsIndex,
    ) -> dict: ...
    def train_step(
        self, x: numpy.ndarray, y: numpy.ndarray, sample_weight: typing.Any = None
    ) -> dict: ...
    def zero_grad(self) -> None: ...
    @property
    def batch_l2(self) -> float: ...
    @batch_l2.setter
    def batch_l2(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def can_fold(self) -> bool: ...
    @property
    def eval_allocations(self) -> int: ...
    @property
    def eval_prepares(self) -> int: ...
    @property
    def input_dim(self) -> int: ...
    @property
    def num_params(self) -> int: ...
    @property
    def optimizer(self) -> Optimizer: ...
    @property
    def output_dim(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def step(self) -> int: ...
    @step.setter
    def step(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None: ...
    @property
    def workspace_bytes(self) -> int: ...

class CppModelError(ValueError):
    pass

class CppModel:
    @staticmethod
    def from_bytes(data: bytes, name: str = "<memory>") -> CppModel: ...
    @staticmethod
    def load(
        path: str, max_bytes: typing.SupportsInt | typing.SupportsIndex = 2147483648
    ) -> CppModel: ...
    def predict(self, arg0: numpy.ndarray) -> numpy.typing.NDArray[numpy.float32]: ...
    @property
    def input_dim(self) -> int: ...
    @property
    def loss(self) -> str: ...
    @property
    def output_dim(self) -> int: ...
    @property
    def quantized(self) -> bool: ...

class QuantizedNetwork:
    @staticmethod
    def calibrate(
        net: Network, x: numpy.ndarray, dynamic: bool, keep_last_fp32: bool
    ) -> tuple[list[float], list[int]]: ...
    @staticmethod
    def int8_layers(net: Network, dynamic: bool, keep_last_fp32: bool) -> int: ...
    def __init__(
        self,
        net: Network,
        dynamic: bool,
        keep_last_fp32: bool,
        scales: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex],
        zero_points: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
    ) -> None: ...
    def layers(self) -> list: ...
    def predict(self, arg0: numpy.ndarray) -> numpy.typing.NDArray[numpy.float32]: ...
    @property
    def input_dim(self) -> int: ...
    @property
    def output_dim(self) -> int: ...

def act_backward(
    name: str,
    z: numpy.ndarray,
    dy: numpy.ndarray,
    alpha: typing.SupportsFloat | typing.SupportsIndex = ...,
) -> numpy.typing.NDArray[numpy.float32]: ...
def act_forward(
    name: str, z: numpy.ndarray, alpha: typing.SupportsFloat | typing.SupportsIndex = ...
) -> numpy.typing.NDArray[numpy.float32]: ...
def bench_clock() -> float:
    """
    Seconds from a fine-grained clock (TSC on x86), for benchmarks.
    """

def bench_fma_peak(
    isa: typing.Any = None, runs: typing.SupportsInt | typing.SupportsIndex = 20
) -> list[float]:
    """
    GFLOP/s of each of `runs` ~1 ms runs of independent FMA chains on this thread, for the ISA's widest vectors (avx512, avx2, neon; empty for others): the peak benchmarks report a share of.
    """

def best_isa() -> str: ...
def bn_backward(
    arg0: numpy.ndarray,
    arg1: numpy.ndarray,
    arg2: numpy.ndarray,
    arg3: numpy.ndarray,
    arg4: typing.Any,
    arg5: bool,
) -> tuple[
    numpy.typing.NDArray[numpy.float32],
    numpy.typing.NDArray[numpy.float32],
    numpy.typing.NDArray[numpy.float32],
]: ...
def bn_forward_eval(
    arg0: numpy.ndarray,
    arg1: typing.Any,
    arg2: typing.Any,
    arg3: numpy.ndarray,
    arg4: numpy.ndarray,
    arg5: typing.SupportsFloat | typing.SupportsIndex,
) -> tuple[numpy.typing.NDArray[numpy.float32], numpy.typing.NDArray[numpy.float32]]: ...
def bn_forward_train(
    arg0: numpy.ndarray,
    arg1: typing.Any,
    arg2: typing.Any,
    arg3: typing.SupportsFloat | typing.SupportsIndex,
    arg4: typing.SupportsFloat | typing.SupportsIndex,
    arg5: numpy.ndarray,
    arg6: numpy.ndarray,
) -> tuple[
    numpy.typing.NDArray[numpy.float32],
    numpy.typing.NDArray[numpy.float32],
    numpy.typing.NDArray[numpy.float32],
    numpy.typing.NDArray[numpy.float32],
    numpy.typing.NDArray[numpy.float32],
]: ...
def check_model_bytes(data: bytes, name: str) -> tuple[int, int]: ...
def clip_grad_norm(
    grads: numpy.ndarray, max_norm: typing.SupportsFloat | typing.SupportsIndex
) -> float:
    """
    Scales grads in place like torch.nn.utils.clip_grad_norm_; returns the pre-clip norm.
    """

def clip_grad_value(
    grads: numpy.ndarray, clip_value: typing.SupportsFloat | typing.SupportsIndex
) -> None: ...
def dropout_backward(
    dy: numpy.ndarray,
    rate: typing.SupportsFloat | typing.SupportsIndex,
    seed: typing.SupportsInt | typing.SupportsIndex,
    step: typing.SupportsInt | typing.SupportsIndex,
    layer: typing.SupportsInt | typing.SupportsIndex,
) -> numpy.typing.NDArray[numpy.float32]: ...
def dropout_forward(
    x: numpy.ndarray,
    rate: typing.SupportsFloat | typing.SupportsIndex,
    seed: typing.SupportsInt | typing.SupportsIndex,
    step: typing.SupportsInt | typing.SupportsIndex,
    layer: typing.SupportsInt | typing.SupportsIndex,
) -> numpy.typing.NDArray[numpy.float32]: ...
def dropout_mask(
    n: typing.SupportsInt | typing.SupportsIndex,
    rate: typing.SupportsFloat | typing.SupportsIndex,
    seed: typing.SupportsInt | typing.SupportsIndex,
    step: typing.SupportsInt | typing.SupportsIndex,
    layer: typing.SupportsInt | typing.SupportsIndex,
) -> numpy.typing.NDArray[numpy.uint8]: ...
def find_nonfinite(a: numpy.ndarray) -> int: ...
def fork_single_threaded() -> bool:
    """
    True on the thread of a fork() child that cannot start OpenMP threads (see fork.cpp).
    """

@typing.overload
def gemm_kernel() -> str:
    """
    The GEMM micro-kernel of the ISA in use, e.g. 'avx512 8x48'.
    """

@typing.overload
def gemm_kernel(isa: typing.Any = None) -> dict:
    """
    The SGEMM micro-kernel and blocking used for an ISA: MC and NC derived from the cache sizes (or forced), KC fixed for every CPU (it decides the bits).
    """

def grad_norm(grads: numpy.ndarray) -> float:
    """
    Global L2 norm (deterministic, accumulated in float64).
    """

def have_openmp() -> bool: ...
def infer_rows(net: Network, X: numpy.ndarray) -> typing.Any:
    """
    Evaluation outputs (n, output_dim) float32 of a float64/float32 X of any layout, converted and checked chunk by chunk; None when X holds a NaN or infinity.
    """

def int8_kernel() -> str:
    """
    The int8 kernel set in use (the active ISA's, or the one set_int8_kernel forced).
    """

def int8_kernels() -> list[str]:
    """
    Names of the int8 GEMM kernel sets this CPU runs, best first.
    """

def isa() -> str:
    """
    The SIMD kernel family in use.
    """

def lbfgs_fit(
    net: Network,
    X: numpy.ndarray,
    y: numpy.ndarray,
    sample_weight: typing.Any,
    chunk: typing.SupportsInt | typing.SupportsIndex,
    segments: collections.abc.Sequence[
        tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]
    ],
    loss_factor: typing.SupportsFloat | typing.SupportsIndex,
    batch_weight: typing.SupportsFloat | typing.SupportsIndex,
    add_penalty: bool,
    memory: typing.SupportsInt | typing.SupportsIndex = 10,
    max_iter: typing.SupportsInt | typing.SupportsIndex = 15000,
    max_fun: typing.SupportsInt | typing.SupportsIndex = 15000,
    gtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05,
    ftol: typing.SupportsFloat | typing.SupportsIndex = 2.220446049250313e-09,
    max_ls: typing.SupportsInt | typing.SupportsIndex = 20,
) -> dict: ...
def lbfgs_minimize(
    fun: collections.abc.Callable,
    x0: numpy.ndarray,
    memory: typing.SupportsInt | typing.SupportsIndex = 10,
    max_iter: typing.SupportsInt | typing.SupportsIndex = 15000,
    max_fun: typing.SupportsInt | typing.SupportsIndex = 15000,
    gtol: typing.SupportsFloat | typing.SupportsIndex = 1e-05,
    ftol: typing.SupportsFloat | typing.SupportsIndex = 2.220446049250313e-09,
    max_ls: typing.SupportsInt | typing.SupportsIndex = 20,
) -> dict: ...
def loss(
    name: str,
    pred: numpy.ndarray,
    target: numpy.ndarray,
    sample_weight: typing.Any = None,
    delta: typing.SupportsFloat | typing.SupportsIndex = 1.0,
    options: typing.Any = None,
) -> tuple[float, numpy.typing.NDArray[numpy.float32]]: ...
def make_optimizer(
    name: str, hparams: collections.abc.Mapping[str, typing.SupportsFloat | typing.SupportsIndex]
) -> Optimizer: ...
def model_file_limits() -> dict: ...
def num_cores() -> int: ...
def num_threads() -> int: ...
def num_threads_setting() -> int: ...
def philox4x32_10(
    arg0: typing.Annotated[
        collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(4)"
    ],
    arg1: typing.Annotated[
        collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"
    ],
) -> typing.Annotated[list[int], "FixedSize(4)"]: ...
def philox4x32_10_batch(
    arg0: typing.SupportsInt | typing.SupportsIndex,
    arg1: typing.SupportsInt | typing.SupportsIndex,
    arg2: typing.SupportsInt | typing.SupportsIndex,
    arg3: typing.SupportsInt | typing.SupportsIndex,
    arg4: typing.Annotated[
        collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"
    ],
) -> numpy.typing.NDArray[numpy.uint32]: ...
def schema() -> dict:
    """
    The core's layer kinds, activations, losses, initializers and optimizers: names, hyper-parameters (limit, default, optional), tensors, workspace and folding.
    """

def set_gemm_blocking(
    mc: typing.SupportsInt | typing.SupportsIndex = 0,
    nc: typing.SupportsInt | typing.SupportsIndex = 0,
    group_cols: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None:
    """
    Force the GEMM's MC/NC cache blocks and the columns of packed B a row block's slivers pass over at a time (0: derived from the cache sizes again). For tests and tuning; call it while no GEMM runs.
    """

def set_int8_kernel(name: str) -> None:
    """
    Force an int8 kernel set by name ('' returns to the active ISA's choice).
    """

def set_isa(arg0: str) -> None:
    """
    Force a kernel family (tests, benchmarks).
    """

def set_num_threads(arg0: typing.SupportsInt | typing.SupportsIndex) -> None: ...
def sgemm(
    A: numpy.ndarray,
    B: numpy.ndarray,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0,
    beta: typing.SupportsFloat | typing.SupportsIndex = 0.0,
    C: typing.Any = None,
    bias: typing.Any = None,
    activation: str = "linear",
    act_alpha: typing.SupportsFloat | typing.SupportsIndex | None = None,
    return_preact: bool = False,
) -> typing.Any: ...
def sgemm_naive(
    A: numpy.ndarray,
    B: numpy.ndarray,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0,
    beta: typing.SupportsFloat | typing.SupportsIndex = 0.0,
    C: typing.Any = None,
    bias: typing.Any = None,
    activation: str = "linear",
    act_alpha: typing.SupportsFloat | typing.SupportsIndex | None = None,
    return_preact: bool = False,
) -> typing.Any: ...
def sgemm_packed(
    A: numpy.ndarray,
    B: PackedB,
    trans_a: bool = False,
    alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0,
    beta: typing.SupportsFloat | typing.SupportsIndex = 0.0,
    C: typing.Any = None,
    bias: typing.Any = None,
    activation: str = "linear",
    act_alpha: typing.SupportsFloat | typing.SupportsIndex | None = None,
    return_preact: bool = False,
) -> typing.Any: ...
def supported_isas() -> list[str]: ...

build_type: str = "Release"
compiler: str = "GNU 12.2.0"
optimized: bool = True
