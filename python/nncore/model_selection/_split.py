"""Splitters: KFold, StratifiedKFold, RepeatedStratifiedKFold and train_test_split."""

from __future__ import annotations

import numpy as np

from .._validation import check_bool


def seeded_rng(seed):
    return np.random.default_rng(seed)


def seed_of(seed, random_state, who: str):
    """``seed``, or scikit-learn's spelling of it, ``random_state`` (an int or None here)."""
    if random_state is None:
        return seed
    if seed is not None:
        raise ValueError(f"{who}: give seed or random_state (its scikit-learn name), not both")
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        raise TypeError(
            f"{who}: random_state must be an int or None here (a seed, as nncore's seed=), "
            f"got a {type(random_state).__name__}"
        )
    return random_state


def _num_rows(X) -> int:
    if hasattr(X, "shape"):
        return int(X.shape[0])
    return len(X)


class KFold:
    """K folds of consecutive rows (after an optional seeded shuffle); fold sizes differ by at
    most one row.

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds, >= 2.
    shuffle : bool, default False
        Shuffle the rows (with ``seed``) before cutting the folds.
    seed : int, numpy SeedSequence or None, default None
        Seeds the shuffle (None: a fresh one each call to :meth:`split`).
    random_state : int or None, default None
        scikit-learn's name for ``seed`` (give one of the two).

    Raises
    ------
    ValueError
        When ``n_splits`` is not an integer >= 2; from :meth:`split`, when it exceeds the number
        of rows.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.model_selection import KFold
    >>> for train, test in KFold(3).split(np.zeros((6, 2))):
    ...     print(train, test)
    [2 3 4 5] [0 1]
    [0 1 4 5] [2 3]
    [0 1 2 3] [4 5]
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed=None, *, random_state=None):
        _check_n_splits(n_splits)
        seed = seed_of(seed, random_state, "KFold")
        shuffle = check_bool(shuffle, "KFold: shuffle")
        self.n_splits, self.shuffle, self.seed = int(n_splits), shuffle, seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of (train, test) splits :meth:`split` yields.

        Parameters
        ----------
        X, y, groups : object
            Ignored; there for scikit-learn's splitter interface.

        Returns
        -------
        int
            The number of splits.
        """
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield the (train, test) row indices of each fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The data; only its number of rows is read.
        y : array-like of shape (n_samples,), optional
            Ignored.
        groups : object
            Ignored; there for scikit-learn's splitter interface.

        Yields
        ------
        train : ndarray of int64
            The rows of the training part, sorted.
        test : ndarray of int64
            The rows of the held-out fold, sorted.
        """
        n = _num_rows(X)
        if self.n_splits > n:
            raise ValueError(f"n_splits={self.n_splits} is greater than the number of rows ({n})")
        idx = seeded_rng(self.seed).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for s in sizes:
            test = np.sort(idx[start : start + s])
            mask = np.ones(n, bool)
            mask[test] = False
            yield np.flatnonzero(mask), test
            start += s

    def __repr__(self):
        return f"KFold(n_splits={self.n_splits}, shuffle={self.shuffle}, seed={self.seed})"


def _check_n_splits(n_splits):
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2, got {n_splits!r}")


def _class_labels(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2:  # one-hot / probabilities
        y = np.argmax(y, axis=1)
    if y.ndim != 1:
        raise ValueError(f"y: expected class labels of shape (n,), got {y.shape}")
    return y


def _strata(y, minimum: int, why: str):
    """(classes, inverse, counts) of class labels y; a class with fewer than ``minimum`` rows
    raises ValueError naming it."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    small = counts < minimum
    if small.any():
        j = int(np.argmax(small))
        raise ValueError(f"class {classes[j].item()!r} has only {counts[j]} member(s), {why}")
    return classes, inverse, counts


def _members(inverse, j, rng):
    """The rows of class j, in a seeded random order when ``rng`` is given."""
    members = np.flatnonzero(inverse == j)
    return members if rng is None else members[rng.permutation(len(members))]


class StratifiedKFold:
    """K folds that keep every class's share: each class's rows (shuffled with ``seed`` when
    ``shuffle``) are dealt round-robin over the folds, one class after the other, so a fold holds
    floor or ceil of (class count / k) rows of each class and fold sizes differ by at most one.
    A class with fewer rows than ``n_splits`` raises ValueError.

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds, >= 2.
    shuffle : bool, default False
        Shuffle each class's rows (with ``seed``) before dealing them.
    seed : int, numpy SeedSequence or None, default None
        Seeds the shuffle.
    random_state : int or None, default None
        scikit-learn's name for ``seed`` (give one of the two).

    Raises
    ------
    ValueError
        When ``n_splits`` is not an integer >= 2; from :meth:`split`, when y is missing, its
        length differs from X's, it is not class labels (or one-hot rows), or a class has fewer
        rows than ``n_splits``.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.model_selection import StratifiedKFold
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> for train, test in StratifiedKFold(3).split(np.zeros((6, 2)), y):
    ...     print(test, y[test])
    [0 3] [0 1]
    [1 4] [0 1]
    [2 5] [0 1]
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed=None, *, random_state=None):
        _check_n_splits(n_splits)
        seed = seed_of(seed, random_state, "StratifiedKFold")
        shuffle = check_bool(shuffle, "StratifiedKFold: shuffle")
        self.n_splits, self.shuffle, self.seed = int(n_splits), shuffle, seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of (train, test) splits :meth:`split` yields.

        Parameters
        ----------
        X, y, groups : object
            Ignored; there for scikit-learn's splitter interface.

        Returns
        -------
        int
            The number of splits.
        """
        return self.n_splits

    def _fold_of(self, y, rng) -> np.ndarray:
        y = _class_labels(y)
        classes, inverse, _ = _strata(y, self.n_splits, f"fewer than n_splits={self.n_splits}")
        order = np.concatenate(
            [_members(inverse, j, rng if self.shuffle else None) for j in range(len(classes))]
        )
        fold = np.empty(len(y), np.int64)
        fold[order] = np.arange(len(y)) % self.n_splits
        return fold

    def split(self, X, y, groups=None):
        """Yield the (train, test) row indices of each fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The data; only its number of rows is read.
        y : array-like of shape (n_samples,)
            The class labels the folds are stratified by.
        groups : object
            Ignored; there for scikit-learn's splitter interface.

        Yields
        ------
        train : ndarray of int64
            The rows of the training part, sorted.
        test : ndarray of int64
            The rows of the held-out fold, sorted.
        """
        if y is None:
            raise ValueError("StratifiedKFold.split needs the class labels y")
        if _num_rows(X) != len(y):
            raise ValueError(f"X has {_num_rows(X)} rows but y has {len(y)}")
        fold = self._fold_of(y, seeded_rng(self.seed))
        for f in range(self.n_splits):
            yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)

    def __repr__(self):
        return (
            f"StratifiedKFold(n_splits={self.n_splits}, shuffle={self.shuffle}, seed={self.seed})"
        )


class RepeatedStratifiedKFold:
    """``n_repeats`` shuffled :class:`StratifiedKFold` rounds, each with its own seed derived
    from ``seed``.

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds, >= 2.
    n_repeats : int, default 10
        Number of rounds, >= 1.
    seed : int or None, default None
        Seeds the rounds (each gets a child of ``numpy.random.SeedSequence(seed)``).
    random_state : int or None, default None
        scikit-learn's name for ``seed`` (give one of the two).

    Raises
    ------
    ValueError
        When ``n_splits`` is not an integer >= 2 or ``n_repeats`` not an integer >= 1; from
        :meth:`split`, as :class:`StratifiedKFold` does.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.model_selection import RepeatedStratifiedKFold
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, seed=0)
    >>> cv.get_n_splits()
    6
    >>> [y[test].tolist() for train, test in cv.split(np.zeros((6, 2)), y)]
    [[0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]
    """

    def __init__(self, n_splits: int = 5, n_repeats: int = 10, seed=None, *, random_state=None):
        _check_n_splits(n_splits)
        seed = seed_of(seed, random_state, "RepeatedStratifiedKFold")
        if (
            isinstance(n_repeats, bool)
            or not isinstance(n_repeats, (int, np.integer))
            or n_repeats < 1
        ):
            raise ValueError(f"n_repeats must be an integer >= 1, got {n_repeats!r}")
        self.n_splits, self.n_repeats, self.seed = int(n_splits), int(n_repeats), seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of (train, test) splits :meth:`split` yields.

        Parameters
        ----------
        X, y, groups : object
            Ignored; there for scikit-learn's splitter interface.

        Returns
        -------
        int
            The number of splits.
        """
        return self.n_splits * self.n_repeats

    def split(self, X, y, groups=None):
        """Yield the (train, test) row indices of each fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The data; only its number of rows is read.
        y : array-like of shape (n_samples,)
            The class labels the folds are stratified by.
        groups : object
            Ignored; there for scikit-learn's splitter interface.

        Yields
        ------
        train : ndarray of int64
            The rows of the training part, sorted.
        test : ndarray of int64
            The rows of the held-out fold, sorted.
        """
        seeds = np.random.SeedSequence(self.seed).spawn(self.n_repeats)
        for s in seeds:
            yield from StratifiedKFold(self.n_splits, shuffle=True, seed=s).split(X, y)

    def __repr__(self):
        return (
            f"RepeatedStratifiedKFold(n_splits={self.n_splits}, n_repeats={self.n_repeats}, "
            f"seed={self.seed})"
        )


def _take(a, idx):
    if hasattr(a, "iloc"):
        return a.iloc[idx]
    if isinstance(a, (list, tuple)):
        return [a[i] for i in idx]
    return np.asarray(a)[idx]


def _split_size(value, n, name):
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name}={value} must be in (0, 1) as a fraction")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 < value < n:
        raise ValueError(f"{name}={value!r} must be a fraction in (0, 1) or a count in [1, {n})")
    return int(value)


def train_test_split(
    *arrays,
    test_size=None,
    train_size=None,
    stratify=None,
    shuffle=True,
    seed=None,
    random_state=None,
):
    """Split arrays (same number of rows) into train and test parts: returns
    ``[a_train, a_test, b_train, b_test, ...]``. Sizes follow scikit-learn: a float is a fraction
    (test rounds up, train down), an int a row count; the default test size is 0.25. With
    ``stratify`` (labels), each class's rows are split in proportion (largest remainders), every
    class with two or more rows keeping at least one row on each side when the sizes allow.

    Parameters
    ----------
    *arrays : array-likes
        Numpy arrays, lists or pandas objects with the same number of rows.
    test_size : float, int or None, default None
        Fraction in (0, 1) or row count of the test part; None: the rest of ``train_size``, or
        0.25 when both are None.
    train_size : float, int or None, default None
        Fraction or row count of the train part; None: the rest of ``test_size``.
    stratify : array-like or None, default None
        Class labels (or one-hot rows) to split in proportion.
    shuffle : bool, default True
        Shuffle before splitting (required with ``stratify``).
    seed : int or None, default None
        Seeds the shuffle.
    random_state : int or None, default None
        scikit-learn's name for ``seed`` (give one of the two).

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]``, each of the input's type (arrays stay
        arrays, lists lists, pandas objects are indexed with ``iloc``).

    Raises
    ------
    ValueError
        When no array is given, their row counts differ, a size is out of range or the sizes
        exceed the rows, either part would be empty, ``stratify`` is given without shuffling,
        has the wrong length or a class with one row, or a part is smaller than the number of
        classes.

    Examples
    --------
    >>> import numpy as np
    >>> from nncore.model_selection import train_test_split
    >>> X = np.arange(40, dtype=np.float32).reshape(20, 2)
    >>> y = np.array([0] * 12 + [1] * 8)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    >>> X_train.shape, X_test.shape
    ((15, 2), (5, 2))
    >>> parts = train_test_split(X, y, test_size=0.5, stratify=y, seed=0)
    >>> np.bincount(parts[3])  # the test labels keep the 12:8 ratio
    array([6, 4])
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    n = _num_rows(arrays[0])
    for a in arrays[1:]:
        if _num_rows(a) != n:
            raise ValueError(f"arrays have different numbers of rows: {n} and {_num_rows(a)}")
    ts = _split_size(test_size, n, "test_size")
    tr = _split_size(train_size, n, "train_size")
    if ts is None and tr is None:
        ts = 0.25
    n_test = None if ts is None else (int(np.ceil(ts * n)) if isinstance(ts, float) else ts)
    n_train = None if tr is None else (int(np.floor(tr * n)) if isinstance(tr, float) else tr)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"train ({n_train}) + test ({n_test}) rows exceed the {n} rows given")
    if n_train < 1 or n_test < 1:
        raise ValueError(f"the split leaves {n_train} train and {n_test} test rows")
    shuffle = check_bool(shuffle, "train_test_split: shuffle")
    rng = seeded_rng(seed_of(seed, random_state, "train_test_split"))
    if stratify is None:
        perm = rng.permutation(n) if shuffle else np.arange(n)
        train, test = perm[:n_train], perm[n_train : n_train + n_test]
    else:
        if not shuffle:
            raise ValueError("stratify needs shuffle=True")
        y = _class_labels(stratify)
        if len(y) != n:
            raise ValueError(f"stratify has {len(y)} rows but the arrays have {n}")
        classes, inverse, counts = _strata(y, 2, "stratified splitting needs at least 2")
        if n_test < len(classes) or n_train < len(classes):
            raise ValueError(
                f"test ({n_test}) and train ({n_train}) sizes must be at least the number of "
                f"classes ({len(classes)}) to stratify"
            )
        t_alloc = _allocate(counts, n_test, rng)
        r_alloc = _allocate(counts - t_alloc, n_train, rng)
        train, test = [], []
        for j in range(len(classes)):
            members = _members(inverse, j, rng)
            test.append(members[: t_alloc[j]])
            train.append(members[t_alloc[j] : t_alloc[j] + r_alloc[j]])
        train = rng.permutation(np.concatenate(train))
        test = rng.permutation(np.concatenate(test))
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def _allocate(counts, total, rng):
    """Integer shares of ``total`` proportional to ``counts`` (largest remainders, ties broken by
    ``rng``), each at least 1 and at most count - 1 where possible."""
    counts = np.asarray(counts)
    exact = counts * total / counts.sum()
    alloc = np.floor(exact).astype(np.int64)
    alloc = np.clip(alloc, 1, np.maximum(counts - 1, 1))
    alloc = np.minimum(alloc, counts)
    rem = exact - alloc
    while alloc.sum() < total:
        room = alloc < counts
        keys = np.where(room, rem + 1e-9 * rng.random(len(rem)), -np.inf)
        j = int(np.argmax(keys))
        alloc[j] += 1
        rem[j] -= 1
    while alloc.sum() > total:
        room = alloc > 1
        keys = np.where(room, -rem + 1e-9 * rng.random(len(rem)), -np.inf)
        j = int(np.argmax(keys))
        alloc[j] -= 1
        rem[j] += 1
    return alloc
