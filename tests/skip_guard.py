"""pytest plugin (loaded by conftest.py): a skip must not hide a test that should have run.

Tests that need an optional package call ``pytest.importorskip`` (in the test or at the top of
its module); this plugin records which tests asked for which package, prints per package how many
of them ran and how many skipped, and which ISA paths the cross-ISA tests covered.

When NNCORE_EXPECT_MISSING is set (CI sets it, to the comma-separated packages whose install
failed; empty when all installed), a test skipped for a package not in that list fails the run,
and so does a skipped cross-ISA comparison unless "isa" is listed. Without the variable (a
developer's run) the counts are printed only."""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict

import pytest

# import name -> distribution name (what .ci/run installs and NNCORE_EXPECT_MISSING lists)
DISTS = {
    "torch": "torch",
    "sklearn": "scikit-learn",
    "threadpoolctl": "threadpoolctl",
    "joblib": "joblib",
    "matplotlib": "matplotlib",
    "tqdm": "tqdm",
    "hypothesis": "hypothesis",
    "distributed": "dask",
}
ISA_GROUP = "isa"
_current: list = [None]  # nodeid of the running test, None during collection
_members: dict = defaultdict(set)  # group -> test node ids, or "module:<path>" for whole modules
_outcomes: dict = {}  # nodeid -> (outcome, skip reason)
_module_skips: dict = {}  # module path -> skip reason (skipped at collection)
_real_importorskip = pytest.importorskip


def _dist(modname: str) -> str:
    root = modname.split(".")[0]
    return DISTS.get(root, root)


def _recording_importorskip(modname, *args, **kwargs):
    group = _dist(modname)
    caller = None
    if _current[0] is not None:
        _members[group].add(_current[0])
    else:  # at a module's top: the whole module needs it
        caller = os.path.abspath(sys._getframe(1).f_globals.get("__file__", "?"))
        _members[group].add("module:" + caller)
    try:
        return _real_importorskip(modname, *args, **kwargs)
    except pytest.skip.Exception as e:
        # pytest reports a skip where it was raised (here): name the test or module instead
        if caller is None:
            e._use_item_location = True
            raise
        msg = f"{e.msg} (needed by {os.path.relpath(caller)})"
        raise pytest.skip.Exception(msg, allow_module_level=True) from None


def isa_group(nodeid: str) -> None:
    """Called by tests whose point is a comparison across ISA paths."""
    _members[ISA_GROUP].add(nodeid)


def pytest_configure(config):
    pytest.importorskip = _recording_importorskip


def pytest_unconfigure(config):
    pytest.importorskip = _real_importorskip


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _current[0] = item.nodeid


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    _current[0] = None


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        reason = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2])
        _outcomes[report.nodeid] = (report.outcome, reason)


def pytest_collectreport(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        _module_skips[os.path.abspath(str(report.fspath))] = str(report.longrepr[2])


def _file_of(nodeid: str, rootdir: str) -> str:
    return os.path.abspath(os.path.join(rootdir, nodeid.split("::")[0]))


def _tally(rootdir):
    """group -> (ran, skipped, skipped modules, reasons)."""
    table = {}
    for group, members in _members.items():
        modules = {m[len("module:") :] for m in members if m.startswith("module:")}
        ran = skipped = 0
        reasons = set()
        for nodeid, (outcome, reason) in _outcomes.items():
            if nodeid in members or _file_of(nodeid, rootdir) in modules:
                if outcome == "skipped":
                    skipped += 1
                    reasons.add(reason)
                else:
                    ran += 1
        skipped_modules = sorted(m for m in modules if m in _module_skips)
        reasons.update(_module_skips[m] for m in skipped_modules)
        table[group] = (ran, skipped, skipped_modules, reasons)
    return table


def _skip_is_about(group: str, reason: str) -> bool:
    if group == ISA_GROUP:
        return True
    m = re.search(r"could not import '([\w.]+)'", reason)
    return bool(m) and _dist(m.group(1)) == group


def _violations(table):
    expected_missing = os.environ.get("NNCORE_EXPECT_MISSING")
    if expected_missing is None:
        return []
    allowed = {s.strip() for s in expected_missing.split(",") if s.strip()}
    out = []
    for group, (_, skipped, modules, reasons) in sorted(table.items()):
        if group in allowed or not (skipped or modules):
            continue
        if any(_skip_is_about(group, r) for r in reasons):
            out.append(
                f"{group}: {skipped} tests and {len(modules)} modules skipped although {group} "
                f"was expected to be available (NNCORE_EXPECT_MISSING={expected_missing!r}): "
                + "; ".join(sorted(reasons))[:500]
            )
    return out


def pytest_sessionfinish(session, exitstatus):
    table = _tally(str(session.config.rootpath))
    session.config._nncore_skip_table = table
    bad = _violations(table)
    session.config._nncore_skip_violations = bad
    if bad and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    table = getattr(config, "_nncore_skip_table", None)
    if not table:
        return
    tr = terminalreporter
    tr.section("tests per optional package / ISA group")
    for group, (ran, skipped, modules, _) in sorted(table.items()):
        extra = f" (+{len(modules)} whole modules skipped)" if modules else ""
        tr.write_line(f"{group:14s} ran {ran:4d}, skipped {skipped:4d}{extra}")
    for line in getattr(config, "_nncore_skip_violations", []):
        tr.write_line("UNEXPECTED SKIP: " + line, red=True)
