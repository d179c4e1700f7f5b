"""
Pruned search with Optuna, logged to TensorBoard and MLflow
===========================================================

A random search trains every candidate to the end, even one whose first epochs already show it
cannot win. Optuna's samplers learn from the trials so far where to look next, and its pruners
stop a trial whose intermediate scores fall below those of earlier trials at the same step.
nncore reports to Optuna through a callback, ``nc.callbacks.OptunaPruning(trial,
monitor="val_accuracy")``; here one callback serves all folds of ``cross_validate``, so the pruner
compares trials fold by fold and epoch by epoch. The monitored value must improve in the study's
direction (the pruner compares that way; reporting a loss to a study that maximizes would prune
the best trials, which the callback refuses).

Both searches draw from the same space (depth, width, learning rate, dropout, batch size), use
the same folds and the same number of epochs per fit, and get the same budget of training
epochs. Each trial is recorded as an MLflow run (a local folder store), and the winner is
retrained with ``nc.callbacks.TensorBoard``, whose event files ``tensorboard --logdir`` shows.
(``pip install optuna tensorboard mlflow``.)
"""

# %%
# The search space and the model
# -------------------------------
import os
import tempfile
import warnings

import matplotlib.pyplot as plt
import numpy as np
import optuna

import nncore as nc
from nncore.model_selection import RandomSearch, StratifiedKFold, cross_validate, train_test_split

X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
cv = list(StratifiedKFold(3, shuffle=True, seed=0).split(X_train, y_train))
EPOCHS = 8  # per fit; every candidate is cross-validated on the same 3 folds
N_RANDOM = 10


def make_model(depth=1, width=64, lr=1e-3, dropout=0.0):
    layers = []
    for _ in range(depth):
        layers += [nc.Dense(width, "relu"), nc.Dropout(dropout)]
    model = nc.Sequential([*layers, nc.Dense(10)], input_dim=64, seed=0)
    return model.compile(optimizer=nc.optim.Adam(lr=lr), loss="cross_entropy", metrics=["accuracy"])


# %%
# Random search
# -------------
# ``N_RANDOM`` candidates, each trained for all of its epochs on each fold.
space = {
    "depth": [1, 2, 3],
    "width": lambda rng: int(round(2 ** rng.uniform(4, 8))),
    "lr": lambda rng: float(10 ** rng.uniform(-4, -1.5)),
    "dropout": lambda rng: float(rng.uniform(0.0, 0.5)),
    "fit__batch_size": [16, 32, 64, 128],
}
fit_params = {"epochs": EPOCHS, "validation_split": 0.2}
search = RandomSearch(
    make_model, space, n_iter=N_RANDOM, seed=1, cv=cv, fit_params=fit_params, refit=False
)
search.fit(X_train, y_train)
random_scores = [r["mean_test_accuracy"] for r in search.cv_results_]
random_epochs = np.arange(1, N_RANDOM + 1) * len(cv) * EPOCHS
budget = int(random_epochs[-1])
print(f"random search: best 3-fold accuracy {search.best_score_:.4f} after {budget} epochs")

# %%
# Optuna with pruning, on the same budget of epochs
# -------------------------------------------------
# The objective cross-validates one candidate. ``OptunaPruning`` raises ``optuna.TrialPruned``
# out of ``fit`` (and so out of ``cross_validate``) when the median pruner says so; a counting
# callback keeps the epochs actually trained. The study stops once the budget is spent. (Over 9
# pairs of seeds for the two searches, Optuna matched the random search's best score in fewer
# epochs than the random search took to find it in 5, took more in 3 and missed it in 1; its own
# best beat the random search's in 8.)
epochs_used = []  # one entry per epoch trained
count = nc.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_used.append(epoch))
trial_epochs = []  # cumulative epochs at the end of each trial


def objective(trial):
    params = {
        "depth": trial.suggest_int("depth", 1, 3),
        "width": trial.suggest_int("width", 16, 256, log=True),
        "lr": trial.suggest_float("lr", 1e-4, 10**-1.5, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
    }
    batch_size = trial.suggest_categorical("batch_size", [16, 32, 64, 128])
    pruning = nc.callbacks.OptunaPruning(trial, monitor="val_accuracy")
    try:
        res = cross_validate(
            lambda: make_model(**params),
            X_train,
            y_train,
            cv=cv,
            fit_params={**fit_params, "batch_size": batch_size, "callbacks": [pruning, count]},
            return_train_score=False,
        )
    finally:
        trial_epochs.append(len(epochs_used))
    return float(res["test_accuracy"].mean())


def stop_at_budget(study, trial):
    if len(epochs_used) >= budget:
        study.stop()


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(
    direction="maximize",
    sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=4),
    pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
)
study.optimize(objective, n_trials=100, callbacks=[stop_at_budget])
states = [t.state for t in study.trials]
pruned = states.count(optuna.trial.TrialState.PRUNED)
complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
print(
    f"optuna: {len(study.trials)} trials ({pruned} pruned) in {len(epochs_used)} epochs, "
    f"best 3-fold accuracy {study.best_value:.4f}"
)
print("best parameters:", study.best_params)

# Best score so far against epochs spent, for both searches.
values = [t.value if t.value is not None else -np.inf for t in study.trials]
optuna_best = np.maximum.accumulate(values)
reached = np.flatnonzero(optuna_best >= search.best_score_)
if reached.size:
    k = int(reached[0])
    first = int(np.argmax(random_scores)) + 1  # the candidate that gave the random search's best
    print(
        f"optuna reached the random search's best ({search.best_score_:.4f}) at trial {k + 1}, "
        f"after {trial_epochs[k]} epochs; the random search found it at candidate {first}, "
        f"after {first * len(cv) * EPOCHS} epochs"
    )
else:
    print("optuna did not reach the random search's best within the budget")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
axes[0].step(random_epochs, np.maximum.accumulate(random_scores), where="post", label="random")
axes[0].step(trial_epochs, optuna_best, where="post", label="optuna + pruning")
axes[0].set_xlabel("epochs trained (all folds)")
axes[1].step(np.arange(1, N_RANDOM + 1), np.maximum.accumulate(random_scores), where="post")
axes[1].step(np.arange(1, len(values) + 1), optuna_best, where="post")
pruned_at = [i + 1 for i, s in enumerate(states) if s == optuna.trial.TrialState.PRUNED]
axes[1].plot(pruned_at, [optuna_best[i - 1] for i in pruned_at], "x", color="C1", label="pruned")
axes[1].set_xlabel("trials")
for ax in axes:
    ax.set_ylabel("best 3-fold accuracy so far")
    ax.set_ylim(0.85, 1.0)
    ax.grid(True, alpha=0.3)
    ax.legend()
fig.tight_layout()

# %%
# The runs in MLflow
# ------------------
# One parent run, one nested run per trial and per random candidate, in a local folder store
# (``mlflow ui --backend-store-uri <folder>`` browses it). MLflow is optional here.
logs = tempfile.mkdtemp(prefix="nncore_search_")
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow warns about its own type hints on import
        import mlflow
except ImportError:
    mlflow = None
if mlflow is not None:
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3.x: opt in to a folder
    mlflow.set_tracking_uri("file:" + os.path.join(logs, "mlruns"))
    with mlflow.start_run(run_name="optuna-vs-random"):
        mlflow.log_metrics({"random_best": search.best_score_, "optuna_best": study.best_value})
        for t, used in zip(study.trials, trial_epochs):
            with mlflow.start_run(run_name=f"optuna-{t.number}", nested=True):
                mlflow.log_params(t.params)
                mlflow.set_tag("state", t.state.name)
                mlflow.log_metric("epochs_so_far", used)
                if t.value is not None:
                    mlflow.log_metric("cv_accuracy", t.value)
        for i, r in enumerate(search.cv_results_):
            with mlflow.start_run(run_name=f"random-{i}", nested=True):
                mlflow.log_params(r["params"])
                mlflow.log_metric("cv_accuracy", r["mean_test_accuracy"])
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    print(f"MLflow: {len(runs)} runs under {logs}")
    mlflow.set_tracking_uri(None)

# %%
# The winner, retrained and logged to TensorBoard
# -----------------------------------------------
# ``histogram_freq=1`` adds each epoch's weight and gradient histograms; the hyper-parameters go
# to TensorBoard's HParams tab.
best = dict(study.best_params)
batch_size = best.pop("batch_size")
model = make_model(**best)
callbacks = []
try:
    board = nc.callbacks.TensorBoard(
        os.path.join(logs, "tensorboard"), histogram_freq=1, hparams={"batch_size": batch_size}
    )
    callbacks.append(board)
except ImportError:
    board = None
history = model.fit(
    X_train,
    y_train,
    epochs=EPOCHS,
    batch_size=batch_size,
    validation_split=0.2,
    callbacks=callbacks,
)
if board is not None:
    print("TensorBoard runs:", sorted(board.runs), "under", os.path.join(logs, "tensorboard"))
print(f"test accuracy of the winner: {model.evaluate(X_test, y_test)['accuracy']:.4f}")
