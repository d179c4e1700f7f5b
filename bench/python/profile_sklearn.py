"""Where nncore.sklearn's fit time goes, per bench_sklearn.py configuration: the Python side by
cProfile (the C++ entry points, scipy's L-BFGS-B and the Python around them) and the C++ side by
the network's own per-phase timer (Network.set_profiling: forward/backward per layer, loss,
optimizer, gather, alpha). One thread, scikit-learn's BLAS limited to it too.

    python bench/python/profile_sklearn.py                          # digits, every config
    python bench/python/profile_sklearn.py --sets mnist --scale 0.1 --max-iter 3

The profiled fit is a warm-start continuation of a one-iteration fit (the network exists then, so
its timer can be switched on first); the C++ phase timer adds a few microseconds per phase, so
its shares are indicative for small batches.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_sklearn import CONFIGS, make_sets  # noqa: E402

# Python-side entries reported by name; the rest of the fit's own time is "other Python".
# (lbfgs_fit: a whole dense L-BFGS fit in one call; setulb: scipy's L-BFGS-B, on main before it)
_CORE = (
    "train_epoch",
    "loss_grad",
    "optimizer_step",
    "add_batch_l2",
    "forward",
    "infer_rows",
    "lbfgs_fit",
    "lbfgs_minimize",
    "setulb",
)


def profile_fit(cls, kw, X, y, max_iter):
    from threadpoolctl import threadpool_limits

    import nncore

    with threadpool_limits(1), nncore.num_threads(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cls(random_state=0, **{**kw, "max_iter": 1}).fit(X, y)
        net = est.model_.engine.core
        net.set_profiling(True)
        net.reset_profile()
        est.set_params(warm_start=True, max_iter=max_iter)
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        est.fit(X, y)
        prof.disable()
        wall = time.perf_counter() - t0
        phases = net.profile()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    core = dict.fromkeys(_CORE, 0.0)
    for (_, _, name), (_, _, tottime, _, _) in stats.items():
        for key in _CORE:  # builtins are named "<built-in method module.name>"
            if name.startswith("<built-in") and name.rstrip(">").endswith("." + key):
                core[key] += tottime
    return wall, core, phases


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sets", default="digits")
    p.add_argument("--configs", default="defaults,adam,lbfgs")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--max-iter", type=int, default=50)
    args = p.parse_args()
    import nncore.sklearn as ncs

    for set_name, (kind, Xtr, _, ytr, _) in make_sets(args.scale, args.sets.split(",")).items():
        cls = ncs.MLPClassifier if kind == "clf" else ncs.MLPRegressor
        for cfg in args.configs.split(","):
            wall, core, phases = profile_fit(cls, CONFIGS[cfg], Xtr, ytr, args.max_iter)
            in_core = sum(core.values())
            parts = ", ".join(f"{k} {v / wall:.0%}" for k, v in core.items() if v > 0)
            print(
                f"{set_name} / {cfg}: fit {wall:.3f} s; {parts}; other Python "
                f"{(wall - in_core) / wall:.0%}"
            )
            total = sum(phases.values()) or 1.0
            top = sorted(phases.items(), key=lambda kv: -kv[1])[:8]
            print(
                "    C++ phases: "
                + ", ".join(f"{k} {v / total:.0%} ({v * 1e3:.1f} ms)" for k, v in top)
            )


if __name__ == "__main__":
    main()
