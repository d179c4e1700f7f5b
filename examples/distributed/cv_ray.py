"""Cross-validation on Ray through joblib (a local Ray instance here; ray.init(address="auto")
joins a cluster). Scores equal n_jobs=1's exactly.

    pip install "nncore[ray]"; python examples/distributed/cv_ray.py
"""

import joblib
import numpy as np
import ray
from ray.util.joblib import register_ray

import nncore as nc
from nncore.model_selection import cross_validate


def make_model():
    m = nc.Sequential([nc.Dense(32, "relu"), nc.Dense(3)], input_dim=8, seed=0)
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    return m


if __name__ == "__main__":
    register_ray()
    # each task's OpenMP threads: one per task here (2 CPUs, 2 tasks at once)
    ray.init(num_cpus=2, runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 8)).astype(np.float32)
    y = X[:, :3].argmax(1)
    with joblib.parallel_backend("ray"):
        cv = cross_validate(make_model, X, y, cv=4, fit_params={"epochs": 20}, n_jobs=2)
    ray.shutdown()
    print("fold accuracies", np.round(cv["test_accuracy"], 4))
