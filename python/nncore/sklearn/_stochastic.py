"""The epoch loop of the stochastic solvers ("sgd", "adam" and nncore's others), with scikit-learn's
batching, shuffling, stopping, early stopping and attribute updates."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches

from ._optimizers import AdamSchedule, CoreSchedule, SGDSchedule


def _batch_sorted(order: np.ndarray, bs: int) -> np.ndarray:
    """The permutation with the rows of each batch in increasing order: the order of rows inside
    a batch does not change its gradient, and sorted rows gather faster and make the sums
    independent of the shuffle's order within a batch."""
    order = order.copy()
    full = order.shape[0] // bs * bs
    order[:full].reshape(-1, bs).sort(axis=1)
    order[full:].sort()
    return order


def _core_epoch(eng, X, T, w, bs, order):
    """One epoch in one C++ call (dense X, no sample weights)."""
    return eng.train_epoch(X, T, w, bs, None if order is None else _batch_sorted(order, bs))


def _python_epoch(eng, X, T, sw, bs, order):
    """One epoch batch by batch: a sparse X (each batch densified on its own) or sample weights
    (scikit-learn normalises each batch by its weight sum)."""
    model = eng.model
    if order is not None:
        order = _batch_sorted(order, bs)
    acc = 0.0
    for sl in gen_batches(X.shape[0], bs):
        loss = eng.loss_grad(X, order[sl] if order is not None else sl, T, sw)
        acc += loss * (sl.stop - sl.start)
        model.engine.optimizer_step()
    return acc


class StochasticSolver:
    """The stochastic solvers' part of the estimators (a mixin of ``BaseMLP``): scikit-learn's
    batching, shuffling, stopping, early stopping and attribute updates around the core's
    epochs."""

    def _make_schedule(self):
        if self.solver == "sgd":
            return SGDSchedule(
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
        if self.solver == "adam":
            return AdamSchedule(self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon)
        return CoreSchedule(self.solver, self.learning_rate_init, self.optimizer_kwargs)

    def _split_validation(self, X, Y, sw):
        """scikit-learn's early-stopping hold-out, drawn from the estimator's random state at the
        same point of the fit; stratified only when there is one output column (binary), as
        scikit-learn does (its multiclass split is not stratified)."""
        stratify = Y if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, Y) if sw is None else (X, Y, sw)
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_tr, X_val, Y_tr, Y_val = parts[:4]
        sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of "
                "your dataset."
            )
        return X_tr, Y_tr, sw_tr, X_val, self._decode(Y_val), sw_val

    def _batch_size_for(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                stacklevel=4,
            )
        return int(np.clip(self.batch_size, 1, n))

    def _fit_stochastic(self, eng, X, Y, sw, incremental):
        model = eng.model
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_schedule()
            self._optimizer.attach(model, **self._optimizer_extras())
        sched, opt = self._optimizer, model.optimizer
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early = bool(self.early_stopping)
        if early:
            X_tr, Y_tr, sw_tr, X_val, y_val, sw_val = self._split_validation(X, Y, sw)
        else:
            X_tr, Y_tr, sw_tr = X, Y, sw
            X_val = y_val = sw_val = None
        n = X_tr.shape[0]
        T = eng.targets(Y_tr)
        bs = self._batch_size_for(n)
        sample_idx = np.arange(n, dtype=np.int64)
        run_epoch = _core_epoch if eng.can_train_epoch(X_tr, sw_tr) else _python_epoch
        w = eng.epoch_weights(n) if run_epoch is _core_epoch else sw_tr
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    # what sklearn.utils.shuffle draws (one RandomState.shuffle of arange(n)),
                    # without its per-call input checks (~1.5 ms an epoch)
                    perm = np.arange(n)
                    self._random_state.shuffle(perm)
                    sample_idx = sample_idx[perm]
                sched.before_epoch(opt)
                acc = run_epoch(eng, X_tr, T, w, bs, sample_idx if self.shuffle else None)
                sched.after_epoch(opt)
                self.n_iter_ += 1
                self.loss_ = acc / n
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement(eng, early, X_val, y_val, sw_val)
                sched.iteration_ends(self.t_)
                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score" if early else "Training loss"
                    msg = (
                        f"{what} did not improve more than tol={self.tol:f} for "
                        f"{self.n_iter_no_change} consecutive epochs."
                    )
                    if sched.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                        "optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=3,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        if early:
            eng.set_params_flat(self._best_params)

    def _update_no_improvement(self, eng, early, X_val, y_val, sw_val):
        if early:
            score = self._score_fast(eng, X_val, y_val, sw_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = eng.params_flat()
        else:
            last = self.loss_curve_[-1]
            if last > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last < self.best_loss_:
                self.best_loss_ = last
