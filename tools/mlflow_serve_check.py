"""Serve an nncore model with ``mlflow models serve`` (no conda: ``--env-manager local``) on
127.0.0.1 and check that its REST answer equals ``model.predict``.

Kept out of pytest: starting the server takes 10-20 s. Needs mlflow (``pip install
"nncore[mlflow]"``) and nncore importable (installed, or ``PYTHONPATH=python`` after
tools/dev_build.sh). Exit status 0 when the served predictions match.

    PYTHONPATH=python python tools/mlflow_serve_check.py [--port 5077]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

import nncore as nc
import nncore.mlflow as nc_mlflow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, payload: dict) -> dict:
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)
    port = args.port or _free_port()

    X, y = nc.datasets.load_digits(return_X_y=True, scale=True)
    model = nc.Sequential([nc.Dense(64, "relu"), nc.Dense(10)], input_dim=64, seed=0)
    model.compile(optimizer=nc.optim.Adam(lr=1e-3), loss="cross_entropy")
    model.fit(X, y, epochs=5, batch_size=32)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits_model")
        nc_mlflow.save_model(model, path, input_example=X[:2])
        home = os.path.dirname(os.path.dirname(os.path.abspath(nc.__file__)))
        env = dict(os.environ, PYTHONPATH=home + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", path,
               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
        print("$", " ".join(cmd[2:]))
        t0 = time.perf_counter()
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(240):
                try:
                    with urllib.request.urlopen(base + "/ping", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if server.poll() is not None:
                        print(server.stdout.read().decode(errors="replace"))
                        print("the server exited")
                        return 1
                    time.sleep(0.25)
            else:
                print("no answer on /ping after 60 s")
                return 1
            print(f"server up after {time.perf_counter() - t0:.1f} s on {base}")
            rows = X[:5]
            payload = {"dataframe_split": {"columns": [f"x{i}" for i in range(64)],
                                           "data": rows.tolist()}}  # fmt: skip
            answer = _post(base + "/invocations", payload)
            served = np.asarray(answer["predictions"], dtype=np.float32)
            local = model.predict(rows)
            diff = float(np.abs(served - local).max())
            print("POST /invocations (5 digits rows) -> predicted classes",
                  served.argmax(axis=1).tolist(), "; true", y[:5].tolist())  # fmt: skip
            print(f"max |served - model.predict| = {diff:.3g}")
            return 0 if diff <= 1e-6 else 1
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
