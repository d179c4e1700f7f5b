"""Cross-validation and a grid search on a Dask cluster (here a local one with 2 worker
processes), through joblib. Scores equal n_jobs=1's exactly.

    pip install "nncore[dask]"; python examples/distributed/cv_dask.py

On a real cluster: Client("scheduler-address:8786") instead of LocalCluster, and n_jobs = the
number of tasks to run at once. Each task trains with cores // n_jobs OpenMP threads of the
machine that submits; where workers have other core counts set OMP_NUM_THREADS in the workers'
environment.
"""

import joblib
import numpy as np
from distributed import Client, LocalCluster

import nncore as nc
from nncore.model_selection import GridSearch, cross_validate


def make_model(hidden=32):
    m = nc.Sequential([nc.Dense(hidden, "relu"), nc.Dense(3)], input_dim=8, seed=0)
    m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    return m


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 8)).astype(np.float32)
    y = X[:, :3].argmax(1)
    fit = {"epochs": 20, "batch_size": 32}
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        cv = cross_validate(make_model, X, y, cv=4, fit_params=fit, n_jobs=2)
        search = GridSearch(make_model, {"hidden": [8, 32]}, cv=3, fit_params=fit, n_jobs=2)
        search.fit(X, y)
    print("fold accuracies", np.round(cv["test_accuracy"], 4))
    print("best", search.best_params_, round(search.best_score_, 4))
