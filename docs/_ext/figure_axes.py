"""What each gallery figure's axes show: a sphinx-gallery image scraper that records, for every
saved figure, how many data points or shapes each visible axis draws, so tools/check_site.py can
fail on an empty panel (e.g. a curve that is all inf/NaN, or zeros on a log axis).

Why count artists rather than look at the PNG: the figure knows which points are drawable (finite,
positive on a log axis), while a picture of an empty axis still has a frame, ticks, a grid and a
legend, so pixel statistics cannot tell it from a sparse plot. Each image gets a sidecar
``<image>.axes.json``; at the end of the build they are merged into
``<html>/_static/figure_axes.json`` ({image file name: [{"title", "drawn"}, ...]}).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MANIFEST = "_static/figure_axes.json"


def _finite_points(xy: np.ndarray, log_x: bool, log_y: bool) -> int:
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    ok = np.isfinite(xy).all(axis=1)
    if log_x:
        ok &= xy[:, 0] > 0
    if log_y:
        ok &= xy[:, 1] > 0
    return int(ok.sum())


def _data(artist, ax) -> bool:
    """Placed in data coordinates: not a reference line or band across the axis (axhline,
    axvspan), which shows no data of its own."""
    return artist.get_visible() and artist.get_transform().contains_branch(ax.transData)


def axis_drawn(ax) -> int:
    """Number of data points, shapes and images an axis draws (0: the panel is empty)."""
    log_x, log_y = ax.get_xscale() == "log", ax.get_yscale() == "log"
    drawn = 0
    for line in ax.get_lines():
        if _data(line, ax):
            drawn += _finite_points(np.column_stack(line.get_data()), log_x, log_y)
    for coll in ax.collections:  # scatter points (offsets), filled areas and meshes (paths)
        if not coll.get_visible():
            continue
        offsets = np.asarray(coll.get_offsets())
        if offsets.size and coll.get_offset_transform().contains_branch(ax.transData):
            drawn += _finite_points(offsets, log_x, log_y)
        elif _data(coll, ax):
            drawn += sum(_finite_points(p.vertices, log_x, log_y) > 0 for p in coll.get_paths())
    for patch in ax.patches:  # bars, spans, filled areas
        if _data(patch, ax):
            bbox = patch.get_extents()
            drawn += bool(np.isfinite(bbox.bounds).all() and bbox.width * bbox.height > 0)
    drawn += sum(bool(im.get_visible()) for im in ax.images)
    return drawn


def figure_axes(fig) -> list[dict]:
    """[{"title", "drawn"}] for each visible axis of a figure (colorbars and axes turned off are
    left out: they show no data by design)."""
    out = []
    for ax in fig.get_axes():
        if not ax.get_visible() or not ax.axison or hasattr(ax, "_colorbar"):
            continue
        title = ax.get_title() or ax.get_ylabel() or f"axis {len(out)}"
        out.append({"title": title, "drawn": axis_drawn(ax)})
    return out


def scraper(block, block_vars, gallery_conf):
    """sphinx-gallery's matplotlib scraper, plus an ``<image>.axes.json`` per saved figure."""
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import matplotlib_scraper

    reports = [figure_axes(plt.figure(num)) for num in plt.get_fignums()]
    paths = block_vars["image_path_iterator"]
    before = len(paths)
    rst = matplotlib_scraper(block, block_vars, gallery_conf)
    for path, report in zip(paths.paths[before:], reports):
        Path(path + ".axes.json").write_text(json.dumps(report))
    return rst


def write_manifest(app, exc):
    """Merge the sidecars of every gallery into the built site's manifest."""
    if exc is not None or app.builder.format != "html":
        return
    gallery_dirs = app.config.sphinx_gallery_conf.get("gallery_dirs", [])
    if isinstance(gallery_dirs, str):
        gallery_dirs = [gallery_dirs]
    manifest = {}
    for gdir in gallery_dirs:
        for side in sorted((Path(app.srcdir) / gdir).rglob("*.png.axes.json")):
            manifest[side.name[: -len(".axes.json")]] = json.loads(side.read_text())
    target = Path(app.outdir) / MANIFEST
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(manifest, indent=1, sort_keys=True))


def setup(app):
    app.connect("build-finished", write_manifest)
    return {"parallel_read_safe": True}
