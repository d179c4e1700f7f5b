"""JAX/XLA as a peer for bench_train.py: the same model and epoch with the whole step under jax.jit.

Run by bench_train.py in a child process per thread count (XLA's thread pool is fixed at import):

    python bench/python/jax_peer.py --threads 1 --bs 128 --rows 60000 --reps 3

Model and data as bench_train.py: 784-512(BN, ReLU, Dropout .2)-512(BN, ReLU, Dropout .2)-10 (or
the plain MLP with --plain), Adam 1e-3, softmax cross-entropy, shuffled batches, PyTorch's layer
initialisation. Two ways to drive an epoch, both timed after an untimed warm-up epoch that compiles:
"jit" (the batch loop in Python, one jitted step per batch, the batch gathered inside the step) and
"scan" (the epoch's full batches in one lax.scan; the last partial batch by the jitted step). Prints
one JSON line: the median epoch time of each and the faster one. One thread = the process pinned to
one core and XLA's Eigen pool off; two = pinned to two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def configure(threads: int) -> None:
    """Must run before jax is imported."""
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = flags.strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def build(D: int, H: int, K: int, bn_dropout: bool, seed: int):
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(seed)
    dims = [D, H, H, K]
    params, state = [], []
    for i in range(3):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / dims[i] ** 0.5  # torch.nn.Linear's default initialisation
        w = jax.random.uniform(kw, (dims[i + 1], dims[i]), jnp.float32, -bound, bound)
        b = jax.random.uniform(kb, (dims[i + 1],), jnp.float32, -bound, bound)
        layer = {"w": w, "b": b}
        if bn_dropout and i < 2:
            layer["gamma"] = jnp.ones(H, jnp.float32)
            layer["beta"] = jnp.zeros(H, jnp.float32)
            state.append({"mean": jnp.zeros(H, jnp.float32), "var": jnp.ones(H, jnp.float32)})
        params.append(layer)

    def forward(params, state, x, key):
        new_state = []
        for i in range(2):
            p = params[i]
            z = x @ p["w"].T + p["b"]
            if bn_dropout:
                mean = z.mean(0)
                var = z.var(0)
                n = z.shape[0]
                s = state[i]
                new_state.append(
                    {
                        "mean": 0.9 * s["mean"] + 0.1 * mean,
                        "var": 0.9 * s["var"] + 0.1 * var * n / max(n - 1, 1),
                    }
                )
                z = (z - mean) * jax.lax.rsqrt(var + 1e-5) * p["gamma"] + p["beta"]
            x = jax.nn.relu(z)
            if bn_dropout:
                key, sub = jax.random.split(key)
                keep = jax.random.bernoulli(sub, 0.8, x.shape)
                x = jnp.where(keep, x / 0.8, 0.0)
        p = params[2]
        return x @ p["w"].T + p["b"], new_state

    def loss_fn(params, state, x, y, key):
        logits, new_state = forward(params, state, x, key)
        lse = jax.nn.logsumexp(logits, axis=1)
        picked = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
        return (lse - picked).mean(), new_state

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8

    def step(carry, idx, X, Y):
        params, state, m, v, t, key = carry
        key, sub = jax.random.split(key)
        (loss, state), g = grad_fn(params, state, jnp.take(X, idx, axis=0), Y[idx], sub)
        t = t + 1
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        c1 = 1 - b1**t
        c2 = 1 - b2**t
        params = jax.tree_util.tree_map(
            lambda p, a, b: p - lr * (a / c1) / (jnp.sqrt(b / c2) + eps), params, m, v
        )
        return (params, state, m, v, t, key), loss

    m0 = jax.tree_util.tree_map(jnp.zeros_like, params)
    v0 = jax.tree_util.tree_map(jnp.zeros_like, params)  # its own buffers: the step donates both
    carry = (params, state, m0, v0, jnp.float32(0), key)
    jit_step = jax.jit(step, donate_argnums=0)

    @jax.jit
    def scan_epoch(carry, idx_blocks, X, Y):
        return jax.lax.scan(lambda c, idx: step(c, idx, X, Y), carry, idx_blocks)

    return carry, jit_step, scan_epoch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--plain", action="store_true", help="no BatchNorm/Dropout")
    args = ap.parse_args()
    configure(args.threads)
    try:
        import jax
        import jax.numpy as jnp
        import numpy as np
    except ImportError as e:
        print(json.dumps({"error": f"jax unavailable: {e}"}))
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_train import D, H, K, make_data

    Xn, yn = make_data(args.rows)
    X, Y = jnp.asarray(Xn), jnp.asarray(yn.astype(np.int32))
    carry, jit_step, scan_epoch = build(D, H, K, not args.plain, seed=0)
    rng = np.random.default_rng(0)
    bs, n = args.bs, args.rows
    full = n // bs

    def epoch_jit(carry):
        perm = rng.permutation(n).astype(np.int32)
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            if len(idx) < 2:  # BatchNorm cannot train on one row (as the torch peer)
                continue
            carry, loss = jit_step(carry, idx, X, Y)
        jax.block_until_ready(loss)
        return carry

    def epoch_scan(carry):
        perm = rng.permutation(n).astype(np.int32)
        carry, losses = scan_epoch(carry, perm[: full * bs].reshape(full, bs), X, Y)
        rest = perm[full * bs :]
        if len(rest) >= 2:
            carry, loss = jit_step(carry, rest, X, Y)
        jax.block_until_ready(carry[0])
        return carry

    times = {}
    for name, epoch in (("jit", epoch_jit), ("scan", epoch_scan)):
        carry = epoch(carry)  # compiles
        ts = []
        for _ in range(args.reps):
            t = time.perf_counter()
            carry = epoch(carry)
            ts.append(time.perf_counter() - t)
        times[name] = statistics.median(ts)
    best = min(times, key=times.get)
    print(
        json.dumps(
            {
                "jit": times["jit"],
                "scan": times["scan"],
                "best": best,
                "time": times[best],
                "jax": jax.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
