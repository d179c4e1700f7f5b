"""nc.callbacks.OptunaPruning and the Optuna cross_validate: the trial gets one value per epoch
(continuing across the folds of cross_validate), a trial worse than the median is pruned and
stops training at once, and cross_validate prunes between folds."""

from __future__ import annotations

import numpy as np
import pytest

import nncore as nc

optuna = pytest.importorskip("optuna")
from nncore.integrations import optuna_pruning  # noqa: E402
from nncore.model_selection import cross_validate  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _data(n=150):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def _model(lr):
    model = nc.Sequential([nc.Dense(16, "relu"), nc.Dense(2)], input_dim=4, seed=0)
    return model.compile(optimizer=nc.optim.SGD(lr=lr), loss="cross_entropy", metrics=["accuracy"])


def _study(lrs):
    """A study whose trials use these learning rates, in order (good ones first, so the median
    pruner has something to compare with)."""
    study = optuna.create_study(
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    )
    for lr in lrs:
        study.enqueue_trial({"lr": lr})
    return study


def test_pruning_callback_reports_every_epoch_and_prunes():
    X, y = _data()
    epochs_run = []

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-6, 1.0, log=True)
        pruning = nc.callbacks.OptunaPruning(trial, monitor="val_loss")
        model = _model(lr)
        try:
            history = model.fit(X, y, epochs=6, validation_split=0.3, callbacks=[pruning])
        finally:
            epochs_run.append(model.epochs_done)
        return history.history["val_loss"][-1]

    study = _study([0.5, 0.3, 1e-6, 0.4])
    study.optimize(objective, n_trials=4)
    states = [t.state for t in study.trials]
    P, C = optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE
    assert states == [C, C, P, C]
    assert sorted(study.trials[0].intermediate_values) == list(range(6))
    assert epochs_run == [6, 6, 1, 6]  # the bad trial stops after its first epoch


def test_callback_steps_continue_across_cross_validate_folds():
    X, y = _data()
    study = optuna.create_study()
    trial = study.ask()
    pruning = nc.callbacks.OptunaPruning(trial, monitor="loss")
    res = cross_validate(
        lambda: _model(0.3), X, y, cv=3, fit_params={"epochs": 4, "callbacks": [pruning]}
    )
    assert len(res["history"]) == 3 and pruning.steps == 12
    losses = [v for h in res["history"] for v in h.history["loss"]]
    reported = study.trials[0].intermediate_values  # the running trial as the storage holds it
    assert [reported[s] for s in range(12)] == losses


def test_cross_validate_prunes_between_folds():
    X, y = _data()
    folds_run = []

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-6, 1.0, log=True)

        def model_fn():
            folds_run.append(trial.number)
            return _model(lr)

        res = optuna_pruning.cross_validate(trial, model_fn, X, y, cv=3, fit_params={"epochs": 5})
        assert res["epochs"] == 15 and res["test_accuracy"].shape == (3,)
        return float(res["test_accuracy"].mean())

    study = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
    )
    for lr in (0.5, 0.3, 1e-6):
        study.enqueue_trial({"lr": lr})
    study.optimize(objective, n_trials=3)
    assert study.trials[2].state == optuna.trial.TrialState.PRUNED
    # model_fn runs once to pick the splitter, then per fold once as cross_validate's probe and
    # once to train: 1 + 3 * 2 for a whole trial, 1 + 2 for trial 2, pruned after fold 0
    assert folds_run.count(0) == 7 and folds_run.count(2) == 3
    # the same folds as one cross_validate call
    full = cross_validate(lambda: _model(0.5), X, y, cv=3, fit_params={"epochs": 5})
    assert study.trials[0].value == pytest.approx(full["test_accuracy"].mean(), abs=0)


def test_monitor_missing_and_bad_n_jobs():
    X, y = _data()
    trial = optuna.create_study().ask()
    with pytest.raises(ValueError, match="val_loss"):
        _model(0.1).fit(X, y, epochs=1, callbacks=[nc.callbacks.OptunaPruning(trial)])
    with pytest.raises(ValueError, match="n_jobs=1"):
        optuna_pruning.cross_validate(trial, lambda: _model(0.1), X, y, n_jobs=2)


def test_monitor_against_the_study_direction_is_refused():
    maximize = optuna.create_study(direction="maximize").ask()
    with pytest.raises(ValueError, match="would stop the best trials"):
        nc.callbacks.OptunaPruning(maximize, monitor="val_loss")
    nc.callbacks.OptunaPruning(maximize, monitor="val_accuracy")
    nc.callbacks.OptunaPruning(maximize, monitor="val_neg_mse", mode="max")
    minimize = optuna.create_study().ask()
    with pytest.raises(ValueError, match="direction is minimize"):
        nc.callbacks.OptunaPruning(minimize, monitor="val_accuracy")
