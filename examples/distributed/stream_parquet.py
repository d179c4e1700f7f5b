"""Training from a Parquet file that need not fit in memory, with a shuffle buffer; reading the
next chunk overlaps training on the current one.

    pip install "nncore[parquet]"; python examples/distributed/stream_parquet.py
"""

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import nncore as nc
from nncore.streaming import ParquetReader

path = Path(tempfile.mkdtemp()) / "data.parquet"
rng = np.random.default_rng(0)
X = rng.standard_normal((100_000, 16)).astype(np.float32)
table = pa.table({**{f"f{i}": X[:, i] for i in range(16)}, "target": X[:, 0] - 2 * X[:, 1]})
pq.write_table(table, path, row_group_size=10_000)

model = nc.Sequential([nc.Dense(32, "relu"), nc.Dense(1)], input_dim=16, seed=0)
model.compile(optimizer="adam", loss="mse")
reader = ParquetReader(path, "target", chunk_rows=8192, shuffle_buffer=32768, seed=0)
history = model.fit(reader, epochs=3, batch_size=256)
print("loss per epoch", np.round(history.history["loss"], 4))
