"""Hostile .nnc files for both model loaders: structured JSON-header mutations and byte flips of a
few saved models, each resealed with a recomputed SHA-256 so the integrity check passes and the
validation behind it is what gets tested; plus the files of issue #34 (tiny files declaring huge
models, deep or wide headers). Deterministic for a seed.

    PYTHONPATH=python python tools/hostile_corpus.py            # writes tests/data/hostile_corpus.tar.xz
    PYTHONPATH=python python tools/hostile_corpus.py --out DIR  # one file per variant, for timing runs

tests/test_hostile_corpus.py loads every file through nncore.io.loads and the C++ loader;
tests/test_fuzz.py draws more of the same mutations (``mutate``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import random
import struct
import tarfile
from typing import Any

MAGIC = b"NNCORE\x00\x01"
N_VARIANTS = 3200  # random mutations; the targeted files come on top
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "tests", "data", "hostile_corpus.tar.xz")

# Values a hostile header puts where a size, name or list was.
HOSTILE = [
    0,
    -1,
    1,
    2,
    3,
    7,
    255,
    2**16,
    2**24,
    2**31 - 1,
    2**31,
    2**32,
    2**53,
    2**63,
    2**64,
    10**30,
    -(2**63),
    0.5,
    -0.0,
    1e308,
    -1e308,
    1e-320,
    3.4e38,
    "",
    "x",
    "dense",
    "residual",
    "embedding",
    "softmax",
    "sigmoid",
    "<f4",
    "<i8",
    "|O",
    None,
    True,
    False,
    [],
    {},
    [0],
    [-1],
    [2**31],
    [2**32, 2**32, 0],
    [2**31 - 1, 2**31 - 1],
    ["<f4"],
    {"a": 1},
    {"type": "dense"},
    [1.5],
    [None],
    [[[[]]]],
    [10**6],
    ["x"] * 3,
]
NAMES = [
    "mse",
    "mae",
    "huber",
    "cross_entropy",
    "binary_cross_entropy",
    "poisson",
    "focal",
    "binary_focal",
    "quantile",
    "pinball",
    "softmax",
    "sigmoid",
    "relu",
    "linear",
    "he_normal",
    "always",
    "never",
    "auto",
    "dense",
    "activation",
    "batchnorm",
    "dropout",
    "residual",
    "embedding",
    "layernorm",
    "params",
    "buffers",
    "optimizer.exp_avg",
    "adam",
    "sgd",
]


def split(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(header dict, data section) of a valid file."""
    hlen = struct.unpack_from("<Q", data, 12)[0]
    return json.loads(data[20 : 20 + hlen]), data[20 + hlen : -32]


def reseal(header: dict[str, Any] | bytes, section: bytes, version: int = 1) -> bytes:
    """A file of this header (dict, or raw JSON bytes) and data section, with a correct length
    field and SHA-256: what the loaders then see is the content, not a checksum error. Format
    version 2 is an int8 model's (nncore.quantize)."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode("utf-8")
    body = MAGIC + struct.pack("<IQ", version, len(text)) + text + section
    return body + hashlib.sha256(body).digest()


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) into a JSON value."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(node: Any, path: tuple) -> Any:
    for p in path:
        node = node[p]
    return node


def _set(root: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def mutate_header(rng: random.Random, header: dict[str, Any]) -> dict[str, Any] | bytes:
    """One to three structured mutations of a header: a value replaced by a hostile one, a key
    removed or added, a list entry duplicated or dropped, a name swapped for another name."""
    h = copy.deepcopy(header)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        paths = _paths(h)
        path = rng.choice(paths[1:] or paths)
        parent = _get(h, path[:-1]) if path else None
        c = rng.random()
        if c < 0.45:
            h = _set(h, path, copy.deepcopy(rng.choice(HOSTILE)))
        elif c < 0.6:
            value = _get(h, path)
            h = _set(
                h,
                path,
                rng.choice(NAMES)
                if isinstance(value, str)
                else value * 2
                if isinstance(value, (int, float)) and not isinstance(value, bool)
                else rng.choice(HOSTILE),
            )
        elif c < 0.72 and isinstance(parent, dict):
            del parent[path[-1]]
        elif c < 0.84 and isinstance(parent, list):
            if rng.random() < 0.5:
                parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
            else:
                del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(NAMES + ["units", "input_dim", "layers", "shape", "x"])] = (
                copy.deepcopy(rng.choice(HOSTILE))
            )
        else:
            h = _set(h, path, copy.deepcopy(rng.choice(HOSTILE)))
    return h


def mutate(rng: random.Random, base: bytes) -> bytes:
    """A hostile variant of a valid file, resealed: mostly header mutations, some byte flips of
    the header text or the data section, truncations and extensions of the data section."""
    header, section = split(base)
    c = rng.random()
    if c < 0.7:
        return reseal(mutate_header(rng, header), section)
    text = bytearray(json.dumps(header).encode("utf-8"))
    sec = bytearray(section)
    if c < 0.85:
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(text))
            text[i] = rng.choice(b'[]{},:"0123456789-.eE ' + bytes([rng.randrange(256)]))
    elif c < 0.93 and sec:
        for _ in range(rng.randint(1, 8)):
            sec[rng.randrange(len(sec))] = rng.randrange(256)
    elif c < 0.97:
        sec = sec[: rng.randrange(len(sec) + 1)]
    else:
        sec += bytes(rng.randrange(1, 256))
    return reseal(bytes(text), bytes(sec))


def base_models() -> list[tuple[str, bytes]]:
    """Five saved models that together use every section a loader reads: Dense/BatchNorm/Dropout
    with optimizer state, nested Residual blocks with a projection, TabularInput and Embedding,
    and the losses whose output transform differs."""
    import numpy as np

    import nncore as nc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 4)).astype(np.float32)
    codes = np.column_stack([X[:, :2], rng.integers(0, 3, 16), rng.integers(0, 5, 16)])
    codes = codes.astype(np.float32)
    out = []

    def add(name, layers, loss, x, y, input_dim=4, opt="adam", **options):
        m = nc.Sequential(layers, input_dim=input_dim, seed=1)
        m.compile(optimizer=opt, loss=loss, loss_options=options or None)
        m.fit(x, y, epochs=1, batch_size=8)
        out.append((name, nc.io.dumps(m)))

    add(
        "mlp",
        [
            nc.Dense(6),
            nc.BatchNorm(),
            nc.Activation("relu"),
            nc.Dropout(0.2),
            nc.Dense(3, "softmax"),
        ],
        "cross_entropy",
        X,
        rng.integers(0, 3, 16),
    )
    add(
        "residual",
        [nc.Residual([nc.Dense(5, "relu"), nc.Residual([nc.Dense(5)])]), nc.Dense(1)],
        "mse",
        X,
        X[:, :1],
        opt="sgd",
    )
    add(
        "tabular",
        [
            nc.TabularInput(numeric=[0, 1], categorical={2: 3, 3: 5}, embed_dim=2),
            nc.Dense(2, "sigmoid"),
        ],
        "binary_cross_entropy",
        codes,
        (codes[:, :2] > 0).astype(np.float32),
    )
    add(
        "embedding",
        [nc.Embedding(5, 3), nc.Dense(2)],
        "quantile",
        codes[:, 3:],
        codes[:, :1],
        input_dim=1,
        quantiles=[0.1, 0.9],
    )
    add(
        "focal",
        [nc.Dense(4, "tanh"), nc.Dense(3)],
        "focal",
        X,
        rng.integers(0, 3, 16),
        opt="rmsprop",
    )
    return out


def targeted(bases: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The files behind each finding of issue #34, small and checksummed."""
    mlp_h, mlp_s = split(bases["mlp"])
    tab_h, tab_s = split(bases["tabular"])
    out = []

    def with_config(name, h, s, **changes):
        h = copy.deepcopy(h)
        for path, value in changes.items():
            _set(h, tuple(int(p) if p.isdigit() else p for p in path.split("__")), value)
        out.append((name, reseal(h, s)))

    # 1. an embedding over 2**31-1 columns (its constructor lists every numeric column)
    for dim in (2**31 - 1, 2**30, 2**24 + 1):
        with_config(f"embedding_input_dim_{dim}", tab_h, tab_s, config__input_dim=dim)
    h = copy.deepcopy(tab_h)
    h["config"]["layers"][0].pop("numeric", None)
    h["config"]["input_dim"] = 2**31 - 1
    out.append(("embedding_no_numeric_2e31", reseal(h, tab_s)))
    with_config("embedding_card_2e24", tab_h, tab_s, config__layers__0__cardinality=[2**24, 5])
    # 2. a huge Dense or input declared, a few real bytes
    with_config(
        "dense_10000x10000", mlp_h, mlp_s, config__input_dim=10000, config__layers__0__units=10000
    )
    with_config("input_dim_2e24", mlp_h, mlp_s, config__input_dim=2**24)
    with_config("units_2e30", mlp_h, mlp_s, config__layers__0__units=2**30 - 1)
    # 3. types numpy or dict lookups choke on
    for i, dt in enumerate((["<f4"], {"a": 1}, None, 4)):
        h = copy.deepcopy(mlp_h)
        h["arrays"][0]["dtype"] = dt
        out.append((f"dtype_{i}", reseal(h, mlp_s)))
    h = copy.deepcopy(mlp_h)
    h["arrays"].append(
        {"name": "x", "dtype": "<f4", "shape": [2**32, 2**32, 0], "offset": 0, "nbytes": 0}
    )
    out.append(("shape_2e32_2e32_0", reseal(h, mlp_s)))
    # 4. headers that are mostly empty containers (small here; one big one, compressed)
    # the last two: a 16 MB header (the limit) and a 63 MB one (over it)
    for n in (2**17, 2**17 + 1, 5 * 2**20, 21 * 2**20):
        text = json.dumps(mlp_h).encode()
        text = text[:-1] + b', "pad": [' + b"[]," * n + b"[]]}"
        out.append((f"empty_lists_{n}", reseal(text, mlp_s)))
    # 6. nesting: deep garbage, and deep valid Residual chains on both sides of the limit
    for depth in (600, 5000):
        text = json.dumps(mlp_h).encode()
        text = text[:-1] + b', "pad": ' + b"[" * depth + b"]" * depth + b"}"
        out.append((f"deep_{depth}", reseal(text, mlp_s)))
    return out


def deep_residuals(depths=(40, 250)) -> list[tuple[str, bytes]]:
    """Valid models of nested Residual blocks: both loaders must read what save writes."""
    import nncore as nc

    out = []
    for depth in depths:
        layer = nc.Dense(2)
        for _ in range(depth):
            layer = nc.Residual([layer])
        m = nc.Sequential([layer], input_dim=2, seed=0).compile(loss="mse")
        out.append((f"valid_residual_depth_{depth}.nnc", nc.io.dumps(m)))
    return out


def generate(seed: int = 0, n: int = N_VARIANTS) -> list[tuple[str, bytes]]:
    """The whole corpus: (file name, bytes), deterministic for a seed."""
    bases = base_models()
    rng = random.Random(seed)
    files = [(f"base_{name}.nnc", data) for name, data in bases] + deep_residuals()
    files += [(f"target_{name}.nnc", data) for name, data in targeted(dict(bases))]
    for i in range(n):
        name, data = bases[i % len(bases)]
        files.append((f"mut_{i:05d}_{name}.nnc", mutate(rng, data)))
    return files


def pack(files: list[tuple[str, bytes]]) -> bytes:
    """One .tar.xz of the files (compressed together: the variants share most of their bytes),
    byte-identical for the same files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def unpack(path: str = DEFAULT_OUT) -> list[tuple[str, bytes]]:
    """The (name, bytes) a corpus file holds, in order."""
    with tarfile.open(path, mode="r:xz") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-n", type=int, default=N_VARIANTS)
    ap.add_argument("--out", default=DEFAULT_OUT, help="a .tar.xz, or a directory for loose files")
    args = ap.parse_args()
    files = generate(args.seed, args.n)
    if args.out.endswith(".tar.xz"):
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "wb") as f:
            f.write(pack(files))
    else:
        os.makedirs(args.out, exist_ok=True)
        for name, data in files:
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(data)
    print(f"{len(files)} files, {sum(len(d) for _, d in files)} bytes -> {args.out}")


if __name__ == "__main__":
    main()
