"""Runs the hostile corpus (tools/hostile_corpus.py) through one loader, file by file from disk,
in a worker process watched for hangs, and reports crashes, hangs, wrong error types, the slowest
file and the largest resident-memory growth against 4 x file size + 50 MB.

    PYTHONPATH=python python tools/hostile_check.py --loader python
    PYTHONPATH=python python tools/hostile_check.py --loader cpp
    (ulimit -v 1048576; PYTHONPATH=python python tools/hostile_check.py --loader cpp)

Memory: the resident high-water mark (VmHWM) is reset before each file (Linux's
/proc/self/clear_refs), so each file's peak growth is its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HANG_S = 30.0


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def _worker(loader: str, paths: list[str]) -> None:
    """Loads each path, printing 'name status seconds peak_growth_bytes error_type' per file.
    The growth is the resident high-water mark (VmHWM, reset before each file through
    /proc/self/clear_refs) over the resident size before the file."""
    import nncore as nc
    from nncore import _core

    if loader == "python":
        load, expected = nc.load, nc.ModelFileError
    else:
        load, expected = _core.CppModel.load, _core.CppModelError
    for p in paths:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = _status("VmRSS:")
        t0 = time.perf_counter()
        status, err = "ok", "-"
        try:
            load(p)
        except expected:
            status = "refused"
        except BaseException as e:  # noqa: BLE001 - the point is to see every other type
            status, err = "wrong_error", type(e).__name__
        dt = time.perf_counter() - t0
        growth = max(0, _status("VmHWM:") - base)
        print(os.path.basename(p), status, f"{dt:.6f}", growth, err, flush=True)


def run(loader: str, directory: str) -> dict:
    names = sorted(
        os.listdir(directory), key=lambda n: (os.path.getsize(os.path.join(directory, n)), n)
    )
    sizes = {n: os.path.getsize(os.path.join(directory, n)) for n in names}
    todo = list(names)
    res = {
        "files": len(names),
        "ok": 0,
        "refused": 0,
        "wrong_error": [],
        "crash": [],
        "hang": [],
        "slowest": (0.0, ""),
        "rss_over": [],
        "max_rss_ratio": (0.0, ""),
    }
    while todo:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", loader, directory, *todo],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        done = set()
        last = time.monotonic()
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        hung = False
        while True:
            if not sel.select(timeout=HANG_S):
                hung = True
                break
            line = proc.stdout.readline()
            if not line:
                break
            last = time.monotonic()
            name, status, dt, growth, err = line.split()
            done.add(name)
            dt, growth = float(dt), int(growth)
            if status == "wrong_error":
                res["wrong_error"].append((name, err))
            else:
                res[status] += 1
            if dt > res["slowest"][0]:
                res["slowest"] = (dt, name)
            bound = 4 * sizes[name] + 50 * 2**20
            if growth > bound:
                res["rss_over"].append((name, growth, bound))
            ratio = growth / bound
            if ratio > res["max_rss_ratio"][0]:
                res["max_rss_ratio"] = (ratio, name, growth)
        del last
        remaining = [n for n in todo if n not in done]
        if hung:
            proc.kill()
            res["hang"].append(remaining[0])
        proc.wait()
        if not hung and remaining:
            res["crash"].append((remaining[0], proc.returncode))
        todo = remaining[1:] if remaining else []
    return res


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        loader, directory, names = sys.argv[2], sys.argv[3], sys.argv[4:]
        _worker(loader, [os.path.join(directory, n) for n in names])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loader", choices=("python", "cpp"), required=True)
    ap.add_argument("--dir", help="loose corpus files (default: unpack the committed corpus)")
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    import hostile_corpus

    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir
        if directory is None:
            directory = tmp
            for name, data in hostile_corpus.unpack():
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(data)
        t0 = time.perf_counter()
        res = run(args.loader, directory)
        wall = time.perf_counter() - t0
    print(
        f"loader {args.loader}: {res['files']} files, {res['ok']} loaded, {res['refused']} "
        f"refused with the documented error, {len(res['wrong_error'])} other errors, "
        f"{len(res['crash'])} crashes, {len(res['hang'])} hangs (> {HANG_S:.0f} s)"
    )
    print(
        f"slowest file {res['slowest'][0] * 1e3:.1f} ms ({res['slowest'][1]}); largest RSS "
        f"growth / (4 x size + 50 MB) = {res['max_rss_ratio'][0]:.3f} ({res['max_rss_ratio'][1:]}); "
        f"{len(res['rss_over'])} files over; wall {wall:.1f} s"
    )
    for key in ("wrong_error", "crash", "hang", "rss_over"):
        for item in res[key][:10]:
            print(f"  {key}: {item}")
    bad = res["wrong_error"] or res["crash"] or res["hang"] or res["rss_over"]
    sys.exit(1 if bad or res["slowest"][0] >= 1.0 else 0)


if __name__ == "__main__":
    main()
