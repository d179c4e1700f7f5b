"""SGEMM: the blocked kernels against the float64 oracle, every layout, edge shape, ISA path and
thread count; the fused epilogue; the packed-B path; bitwise determinism (threads, M, ISA)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nncore import _core

LAYOUTS = list(itertools.product([False, True], [False, True]))
ACTS = [
    "linear",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "sigmoid",
    "tanh",
    "softplus",
    "silu",
]


def operands(rng, M, N, K, ta, tb):
    A = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
    B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
    return A, B


def check_close(C, A, B, ta, tb, alpha=1.0, beta=0.0, C0=None, tol=1e-5):
    """|C - ref| <= tol · (|alpha|·|op(A)|·|op(B)| + |beta|·|C0|), elementwise, in float64."""
    a = (A.T if ta else A).astype(np.float64)
    b = (B.T if tb else B).astype(np.float64)
    ref = alpha * (a @ b)
    scale = abs(alpha) * (np.abs(a) @ np.abs(b))
    if beta != 0.0:
        ref += beta * C0.astype(np.float64)
        scale += abs(beta) * np.abs(C0.astype(np.float64))
    assert np.isfinite(C).all()
    err = np.abs(C - ref) - tol * (scale + 1e-30)
    assert err.max() <= 0, f"max relative error {np.max(np.abs(C - ref) / (scale + 1e-30)):.3g}"


@pytest.mark.parametrize(
    "shape",
    [
        (1, 1, 1),
        (7, 7, 7),
        (33, 33, 33),
        (100, 100, 100),
        (1000, 7, 33),
        (7, 1000, 130),
        (5, 9, 1000),
        (13, 50, 300),
        (40, 60, 515),
    ],
)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_matches_reference(isa, rng, shape, ta, tb):
    M, N, K = shape
    A, B = operands(rng, M, N, K, ta, tb)
    C = np.full((M, N), np.nan, np.float32)  # beta = 0 must never read C
    _core.sgemm(A, B, ta, tb, 1.0, 0.0, C)
    check_close(C, A, B, ta, tb)
    if M * N * K > 10**6:
        return
    Cn = _core.sgemm_naive(A, B, ta, tb)
    assert np.max(np.abs(C - Cn)) <= 1e-4 * max(1.0, np.abs(Cn).max())


@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_alpha_beta(isa, threads, rng, ta, tb):
    M, N, K = 37, 70, 300
    A, B = operands(rng, M, N, K, ta, tb)
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    for alpha, beta in [(1.0, 1.0), (0.5, -2.0), (-1.5, 0.0), (2.0, 1.0)]:
        C = C0.copy()
        _core.sgemm(A, B, ta, tb, alpha, beta, C)
        check_close(C, A, B, ta, tb, alpha, beta, C0)


def test_edge_shapes(isa, rng):
    """Every M mod MR and N mod NR, K = 1, odd K and K crossing the K block; outputs fully written."""
    kern = _core.gemm_kernel(isa)
    mr, nr = kern["mr"], kern["nr"]
    for M, N in [(m, nr + 3) for m in range(1, 2 * mr + 2)] + [
        (mr + 1, n) for n in range(1, 2 * nr + 2)
    ]:
        for K in (1, 3, 257):
            ta, tb = (M + N) % 2 == 1, (M + K) % 2 == 0
            A, B = operands(rng, M, N, K, ta, tb)
            C = np.full((M, N), np.nan, np.float32)
            _core.sgemm(A, B, ta, tb, 1.0, 0.0, C)
            check_close(C, A, B, ta, tb)


def test_zero_sizes():
    assert _core.sgemm(np.zeros((0, 5), np.float32), np.zeros((5, 3), np.float32)).shape == (0, 3)
    C = np.full((4, 3), 7.0, np.float32)
    _core.sgemm(np.zeros((4, 0), np.float32), np.zeros((0, 3), np.float32), beta=0.5, C=C)
    assert (C == 3.5).all()
    C[:] = np.nan
    _core.sgemm(np.zeros((4, 0), np.float32), np.zeros((0, 3), np.float32), beta=0.0, C=C)
    assert (C == 0).all()


def test_large_product_cheaply(isa, threads, rng):
    """1000+ sized products checked through a random vector: C·t against A·(B·t)."""
    if isa == "scalar":
        pytest.skip("the reference kernel calls fmaf per element: too slow for 10⁹ FMAs")
    shapes = [(1000, 1030, 1000), (64, 2000, 784)] if threads == 1 else [(1030, 515, 1100)]
    layouts = LAYOUTS[1:3] if threads == 1 else LAYOUTS[3:]
    for (M, N, K), (ta, tb) in zip(shapes, layouts):
        A, B = operands(rng, M, N, K, ta, tb)
        C = _core.sgemm(A, B, ta, tb)
        t = rng.standard_normal(N)
        a = (A.T if ta else A).astype(np.float64)
        b = (B.T if tb else B).astype(np.float64)
        ref = a @ (b @ t)
        scale = np.abs(a) @ (np.abs(b) @ np.abs(t))
        assert np.max(np.abs(C.astype(np.float64) @ t - ref) / scale) <= 1e-5


@pytest.mark.parametrize("act", ACTS)
def test_epilogue(isa, rng, act):
    M, N, K = 19, 101, 70
    A, B = operands(rng, M, N, K, False, True)
    bias = rng.standard_normal(N).astype(np.float32)
    C, Z = _core.sgemm(A, B, False, True, bias=bias, activation=act, return_preact=True)
    Cn, Zn = _core.sgemm_naive(A, B, False, True, bias=bias, activation=act, return_preact=True)
    ref = A.astype(np.float64) @ B.T.astype(np.float64) + bias
    assert np.max(np.abs(Z - ref)) <= 1e-5 * np.abs(ref).max()
    np.testing.assert_allclose(Z, Zn, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    # The activation is the library's own act_forward, applied to the stored pre-activation.
    Y = _core.sgemm(Z, np.eye(N, dtype=np.float32), activation=act)
    np.testing.assert_array_equal(C, Y)
    # Epilogue without preact and with beta = 1 accumulation (bias after alpha·AB + beta·C).
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    C1 = C0.copy()
    _core.sgemm(A, B, False, True, 1.0, 1.0, C1, bias=bias, activation=act)
    C2 = _core.sgemm_naive(A, B, False, True, 1.0, 1.0, C0.copy(), bias=bias, activation=act)
    np.testing.assert_allclose(C1, C2, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_epilogue_rejects_softmax(rng):
    with pytest.raises(ValueError):
        _core.sgemm(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), activation="softmax")
    with pytest.raises(ValueError):
        _core.sgemm(np.ones((2, 3), np.float32), np.ones((2, 2), np.float32))


@pytest.mark.parametrize("M", [1, 5, 40])
def test_packed_matches_unpacked(isa, threads, rng, M):
    """The Dense forward path: W (out, in) packed as Wᵀ; same bits as sgemm(N, T)."""
    W = rng.standard_normal((300, 900)).astype(np.float32)  # M·N·K > the threading threshold
    X = rng.standard_normal((M, 900)).astype(np.float32)
    b = rng.standard_normal(300).astype(np.float32)
    P = _core.PackedB(W, trans_b=True)
    assert (P.K, P.N) == (900, 300)
    C = np.full((M, 300), np.nan, np.float32)
    _core.sgemm_packed(X, P, C=C, bias=b, activation="relu")
    np.testing.assert_array_equal(C, _core.sgemm(X, W, False, True, bias=b, activation="relu"))
    check_close(_core.sgemm_packed(X, P), X, W, False, True)
    P.pack(W[:, :500].T.copy(), trans_b=False)  # re-pack with other data and layout
    check_close(_core.sgemm_packed(X[:, :500], P), X[:, :500], W[:, :500], False, True)
    with pytest.raises(ValueError):
        _core.sgemm_packed(X, P)


def test_threads_bitwise(isa, rng):
    shapes = [(100, 200, 300), (64, 100, 520), (9, 700, 400), (1000, 20, 30)]
    for (M, N, K), (ta, tb) in zip(shapes, LAYOUTS):
        A, B = operands(rng, M, N, K, ta, tb)
        out = []
        for nt in (1, 2, 3, 5, 7, 16):
            _core.set_num_threads(nt)
            out.append(_core.sgemm(A, B, ta, tb))
        _core.set_num_threads(0)
        for o in out[1:]:
            np.testing.assert_array_equal(out[0], o)


@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_row_independent_of_M(isa, threads, rng, ta, tb):
    """Row i of an 1100-row product equals the same row computed in 1..9-row products (the
    big product packs a plain B, the small ones read it in place; N = 300 takes 1-row products
    through the several-slivers row kernel)."""
    M, N, K = 1100, 300, 300
    A, B = operands(rng, M, N, K, ta, tb)
    bias = rng.standard_normal(N).astype(np.float32)
    full = _core.sgemm(A, B, ta, tb, bias=bias, activation="tanh")
    Pb = _core.PackedB(B, trans_b=tb)
    for i, m in [(0, 1), (17, 1), (1099, 1), (5, 2), (40, 3), (600, 4), (200, 5), (1091, 9)]:
        rows = A[:, i : i + m].copy() if ta else A[i : i + m].copy()
        part = _core.sgemm(rows, B, ta, tb, bias=bias, activation="tanh")
        np.testing.assert_array_equal(part, full[i : i + m])
        np.testing.assert_array_equal(
            _core.sgemm_packed(rows, Pb, ta, bias=bias, activation="tanh"), full[i : i + m]
        )


@pytest.mark.parametrize("threads_", [1, 2])
def test_packed_and_in_place_b_same_bits(rng, threads_):
    """A plain B is packed for many rows with a 4 KB row stride and read in place otherwise:
    rows of the 600-row product equal the same rows computed alone."""
    _core.set_num_threads(threads_)
    try:
        A, B = operands(rng, 600, 1024, 40, False, False)
        full = _core.sgemm(A, B)
        for i in (0, 7, 333, 599):
            np.testing.assert_array_equal(_core.sgemm(A[i : i + 1].copy(), B), full[i : i + 1])
        check_close(full, A, B, False, False)
    finally:
        _core.set_num_threads(0)


def test_isas_bitwise_equal(rng):
    """Every kernel runs the same per-element FMA chain and K blocking: identical bits."""
    A, B = operands(rng, 37, 101, 600, False, True)
    C0 = rng.standard_normal((37, 101)).astype(np.float32)
    before = _core.isa()
    out = []
    try:
        for isa in _core.supported_isas():
            _core.set_isa(isa)
            out.append(
                _core.sgemm(A, B, False, True, 0.7, 1.3, C0.copy(), bias=C0[0], activation="gelu")
            )
    finally:
        _core.set_isa(before)
    for o in out[1:]:
        np.testing.assert_array_equal(o, out[0])


def test_blocking_derived_from_caches():
    """MC, NC and the column groups come from the reported cache sizes (or are forced); KC is
    the same everywhere."""
    info = _core.gemm_kernel(_core.isa())
    assert info["blocking"] == "derived"
    assert info["caches"]["l2"] > 0 and info["kc"] == 256
    assert info["mc"] % info["mr"] == 0 and info["nc"] % info["nr"] == 0
    # a group of packed B columns fills about half of L2
    assert info["group_cols"] % info["nr"] == 0
    assert info["group_cols"] * 256 * 4 <= max(info["caches"]["l2"] // 2, 256 * 4 * info["nr"])
    assert (info["group_cols"] + info["nr"]) * 256 * 4 > info["caches"]["l2"] // 2
    # the L3 share is what the OS reports per sharing CPU, capped by what one core of this CPU
    # model can own (a VM may report the socket's whole L3 as its own)
    c = info["caches"]
    if c["l3"] > 0:
        assert c["l3_per_cpu"] == min(c["l3"] // c["l3_sharing"], c["l3_cap"])
        assert ("+capped" in c["source"]) == (c["l3"] // c["l3_sharing"] > c["l3_cap"])
        # the B panel takes an eighth of that share, but no less than L2
        panel = max(c["l3_per_cpu"] // 8, c["l2"])
        assert info["nc"] * 256 * 4 <= max(panel, 8 * 256 * 4 * info["nr"]) * 1.1
        assert info["nc"] * 256 * 4 >= min(panel, 4096 * 256 * 4) * 0.9
    _core.set_gemm_blocking(13, 50, 20)
    try:
        forced = _core.gemm_kernel(_core.isa())
        assert forced["blocking"] == "forced"
        assert forced["mc"] == -(-13 // info["mr"]) * info["mr"]
        assert forced["nc"] == -(-50 // info["nr"]) * info["nr"]
        assert forced["group_cols"] == -(-20 // info["nr"]) * info["nr"]
    finally:
        _core.set_gemm_blocking(0, 0)
    assert _core.gemm_kernel(_core.isa())["mc"] == info["mc"]
    assert _core.gemm_kernel(_core.isa())["group_cols"] == info["group_cols"]
    with pytest.raises(ValueError, match="mc, nc and group_cols"):
        _core.set_gemm_blocking(-1, 0)
    with pytest.raises(ValueError, match="mc, nc and group_cols"):
        _core.set_gemm_blocking(0, 0, -1)


@pytest.mark.parametrize("ta,tb", LAYOUTS)
@pytest.mark.parametrize("N", [301, 292])
def test_blocking_does_not_change_bits(isa, threads, rng, ta, tb, N):
    """Forced cache blockings (tiny: many MC/NC blocks, both loop orders of run_block; huge: one
    block; column groups of one or two slivers under the row block) give the derived blocking's
    bits, with the fused epilogue and beta. N = 292 ends in a narrow sliver on both x86 sets,
    whose activation comes with the last column group."""
    M, K = 203, 700  # several K blocks, MR/NR remainders on every ISA
    A, B = operands(rng, M, N, K, ta, tb)
    C0 = rng.standard_normal((M, N)).astype(np.float32)
    bias = rng.standard_normal(N).astype(np.float32)
    P = _core.PackedB(B, trans_b=tb)

    def run():
        return (
            _core.sgemm(A, B, ta, tb, 0.7, 1.3, C0.copy(), bias=bias, activation="gelu"),
            _core.sgemm_packed(A, P, ta, bias=bias, activation="relu"),
        )

    derived = run()
    try:
        for blocking in ((8, 48), (4096, 4096), (64, 4096, 1), (4096, 4096, 60)):
            _core.set_gemm_blocking(*blocking)
            for got, want in zip(run(), derived):
                np.testing.assert_array_equal(got, want, err_msg=str(blocking))
    finally:
        _core.set_gemm_blocking(0, 0)


@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_narrow_n_same_bits_on_every_isa(threads, rng, ta, tb):
    """Products of 1-13 columns, and the last 4 columns of 52- and 100-wide ones (the x86 sets
    vectorise those over rows: regression outputs, a few logits, their dW, a narrow last sliver)
    give the bits of the scalar reference on every ISA, with every part of the epilogue, several K
    blocks, row counts around the sliver groups and the packed-B path."""
    before = _core.isa()
    isas = _core.supported_isas()
    try:
        for N in [*range(1, 14), 52, 100]:
            for M, K in ((1, 70), (7, 1), (50, 600), (203, 300)):
                A, B = operands(rng, M, N, K, ta, tb)
                C0 = rng.standard_normal((M, N)).astype(np.float32)
                bias = rng.standard_normal(N).astype(np.float32)
                out = []
                for isa in isas:
                    _core.set_isa(isa)
                    P = _core.PackedB(B, trans_b=tb)
                    out.append(
                        (
                            _core.sgemm(A, B, ta, tb, 0.7, 1.3, C0.copy(), bias=bias),
                            *_core.sgemm(
                                A, B, ta, tb, bias=bias, activation="tanh", return_preact=True
                            ),
                            _core.sgemm_packed(A, P, ta, bias=bias, activation="relu"),
                            _core.sgemm(A, B, ta, tb),
                        )
                    )
                check_close(out[0][4], A, B, ta, tb)
                for o in out[1:]:
                    for got, want in zip(o, out[0]):
                        np.testing.assert_array_equal(got, want, err_msg=f"N={N} M={M} K={K}")
    finally:
        _core.set_isa(before)


@pytest.mark.parametrize("tb", [False, True])
def test_few_rows_split_in_vectors_same_bits(rng, tb):
    """Products of at most one A sliver of rows (batch-1 predict) split their columns between
    threads in vectors, so a thread's range can start inside a packed sliver, and a single row
    is read in place rather than packed: every thread count and ISA gives the bits of the scalar
    reference, packed and unpacked B, with the epilogue, at widths that put the thread
    boundaries at every offset inside a 48- or 16-wide sliver."""
    before, threads_before = _core.isa(), _core.num_threads()
    try:
        for M, N, K in ((1, 512, 784), (1, 300, 900), (1, 1000, 300), (2, 520, 700), (8, 336, 800)):
            A, B = operands(rng, M, N, K, False, tb)
            bias = rng.standard_normal(N).astype(np.float32)
            C0 = rng.standard_normal((M, N)).astype(np.float32)
            _core.set_isa("scalar")
            _core.set_num_threads(1)
            want = (
                _core.sgemm(A, B, False, tb, bias=bias, activation="relu"),
                _core.sgemm(A, B, False, tb, 0.7, 1.3, C0.copy()),
            )
            check_close(_core.sgemm(A, B, False, tb), A, B, False, tb)
            for isa in _core.supported_isas():
                _core.set_isa(isa)
                P = _core.PackedB(B, trans_b=tb)
                for nt in (1, 2, 3, 5, 7, 16):
                    _core.set_num_threads(nt)
                    msg = f"isa={isa} threads={nt} M={M} N={N}"
                    got = _core.sgemm_packed(A, P, bias=bias, activation="relu")
                    np.testing.assert_array_equal(got, want[0], err_msg=msg)
                    got = _core.sgemm(A, B, False, tb, bias=bias, activation="relu")
                    np.testing.assert_array_equal(got, want[0], err_msg=msg)
                    got = _core.sgemm(A, B, False, tb, 0.7, 1.3, C0.copy())
                    np.testing.assert_array_equal(got, want[1], err_msg=msg)
    finally:
        _core.set_isa(before)
        _core.set_num_threads(threads_before)


def test_bench_fma_peak():
    """The benchmarks' FMA peak (bench_gemm.py's "% peak"): one positive sample per run for each
    vector ISA this CPU has, none for scalar. (Speeds are not compared: the VMs drift.)"""
    assert _core.bench_fma_peak("scalar", 5) == []
    for isa in _core.supported_isas():
        runs = _core.bench_fma_peak(isa, 7)
        if isa == "scalar":
            continue
        assert len(runs) == 7 and all(0 < r < 1e5 for r in runs), (isa, runs)
    active = _core.bench_fma_peak(None, 2)
    assert len(active) == (0 if _core.isa() == "scalar" else 2)
    with pytest.raises(ValueError):
        _core.bench_fma_peak("sse9", 1)
