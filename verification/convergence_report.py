"""The files of ``flexotip converge``: convergence.json, convergence.md and convergence.png.

Rank 0 writes, every rank waits (the writers are collective). The report is the dict of
:func:`flexotip.verification.convergence.build_report`; values keep the units of their
summary keys (SI, named in the key). Non-finite numbers are written as null.
"""

from __future__ import annotations

import json
import math
import numbers
import pathlib

from mpi4py import MPI

PANEL_COLUMNS = 4
MAX_PANELS = 16
"""The figure's panels: the headline keys present, else the first keys, at most this many."""
DISPLAY_UNITS = (("_V_per_m", 1e-6, "MV/m"), ("_C_per_m2", 1.0, "C/m²"), ("_per_m3", 1.0, "1/m³"),
                 ("_Pa", 1e-9, "GPa"), ("_N", 1e6, "µN"), ("_m", 1e9, "nm"), ("_V", 1.0, "V"),
                 ("_s", 1.0, "s"))
"""Plotted unit of a key by the suffix of its name: (suffix, factor from SI, label)."""


def write_json(comm: MPI.Comm, outdir: pathlib.Path, report: dict) -> None:
    """convergence.json from rank 0 (collective)."""
    if comm.rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "convergence.json").write_text(json.dumps(_json_safe(report), indent=2) + "\n")
    comm.Barrier()


def write(comm: MPI.Comm, outdir: pathlib.Path, report: dict) -> None:
    """convergence.json, .md and, when a key has values, .png, from rank 0 (collective)."""
    if comm.rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "convergence.json").write_text(json.dumps(_json_safe(report), indent=2) + "\n")
        (outdir / "convergence.md").write_text(table(report))
        if report["keys"]:
            plot(outdir / "convergence.png", report)
    comm.Barrier()


def _json_safe(value):
    """The report with tuples as lists, NumPy scalars as Python numbers, NaN/inf as None (strict JSON)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def _number(value: float | None, spec: str = ".6g") -> str:
    return "–" if value is None or not math.isfinite(value) else format(value, spec)


def verdict(report: dict) -> str:
    """One line: every key converged, which did not, or which level failed."""
    keys = report["keys"]
    if report["status"] == "failed":
        failed = next(level for level in report["levels"] if level["status"] == "failed")
        return f"level {failed['level']} failed: {failed.get('error', '')}"
    if report["all_converged"]:
        return f"all {len(keys)} keys converged"
    return (f"not converged ({len(report['not_converged'])} of {len(keys)} keys): "
            + ", ".join(report["not_converged"]))


def _change(item: dict) -> str:
    if item["tolerance_kind"] == "absolute":
        return f"{_number(item['absolute_change'], '.2e')} (abs)"
    return _number(item["relative_change"], ".2e")


def _mark(converged: bool | None) -> str:
    return {True: "✓", False: "✗"}.get(converged, "–")


def _level_line(level: dict) -> str:
    mesh = level["mesh"]
    sizes = ", ".join(f"{key} {value:.4g}" + (" m" if key.endswith(("size", "depth")) else "")
                      for key, value in mesh.items())
    cells = "" if level["n_cells"] is None else f"; {level['n_cells']} cells"
    dofs = "" if level["n_dofs"] is None else f", {level['n_dofs']} dofs"
    seconds = "" if level["time_s"] is None else f", {level['time_s']:.1f} s"
    error = f" ({level['error']})" if "error" in level else ""
    return (f"- level {level['level']} (`{level['folder']}`, mesh lengths / {level['factor']:g}): "
            f"{sizes}{cells}{dofs}{seconds}: {level['status']}{error}")


def table(report: dict) -> str:
    """convergence.md: the keys' table, the levels, the verdict and the command."""
    levels = [level for level in report["levels"] if level["status"] == "complete"]
    header = ["key"] + [f"level {level['level']}" for level in levels] + [
        "change", "order", "Richardson", "converged"]
    lines = [f"# Mesh convergence of `{report['config']}`", "",
             f"{report['n_levels']} levels on {report['n_ranks']} MPI rank(s); level k divides every "
             f"mesh length by {report['ratio']:g}**k (level 0: the config as given). Change: between the "
             f"last two levels, relative (converged at ≤ {report['rtol']:g}), or absolute for the "
             f"surface-map densities `delta_*`, `s_*` (≤ {report['atol_density']:g}). Order: observed "
             "on the last three levels. Richardson: the limit it extrapolates to. Headline keys in bold.",
             "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, item in report["keys"].items():
        name = f"**{key}**" if item["headline"] else key
        cells = [name, *(_number(value) for value in item["values"]), _change(item),
                 _number(item["observed_order"], ".2f"), _number(item["richardson"]),
                 _mark(item["converged"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"**{verdict(report)}** (status: {report['status']}).", "", "## Levels", ""]
    lines += [_level_line(level) for level in report["levels"]]
    lines += ["", "## Command", "", f"    {report['command']}", ""]
    return "\n".join(lines)


def display_unit(key: str) -> tuple[float, str]:
    """The factor from the key's SI unit to its plotted unit, and that unit's label."""
    for suffix, factor, label in DISPLAY_UNITS:
        if key.endswith(suffix):
            return factor, label
    return 1.0, ""


def plot(path: pathlib.Path, report: dict) -> None:
    """convergence.png: one panel per headline key (value against level, Richardson dashed)."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    items = [item for item in report["keys"].values() if item["headline"]] or list(report["keys"].values())
    items = items[:MAX_PANELS]
    columns = min(PANEL_COLUMNS, len(items))
    rows = math.ceil(len(items) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    done = [level for level in report["levels"] if level["status"] == "complete"]
    levels = [level["level"] for level in done]
    ticks = [f"{level['level']}\n{level['mesh']['contact_size'] * 1e9:.3g} nm" for level in done]
    for axis, item in zip(axes.flat, items, strict=False):
        factor, unit = display_unit(item["key"])
        axis.plot(levels, [value * factor for value in item["values"]], "o-", color="C0")
        order = ""
        if item["richardson"] is not None and math.isfinite(item["richardson"]):
            axis.axhline(item["richardson"] * factor, color="C3", linestyle="--", linewidth=1)
            order = f"  (p = {item['observed_order']:.2f})"
        axis.set_title(f"{item['key']} {_mark(item['converged'])}", fontsize=9, pad=8,
                       color="black" if item["converged"] is not False else "C3")
        axis.set_xticks(levels, ticks)
        axis.set_xlabel("level, contact_size" + order, fontsize=8)
        axis.set_ylabel(unit, fontsize=8)
        axis.ticklabel_format(axis="y", useOffset=False)
        axis.tick_params(labelsize=8)
    for axis in axes.flat[len(items):]:
        axis.set_visible(False)
    figure.suptitle(f"mesh convergence of {report['config']}: the value per level (level k: mesh lengths "
                    f"/ {report['ratio']:g}^k); dashed, the Richardson estimate", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.1 / figure.get_figheight()))
    figure.savefig(path, dpi=110)
    plt.close(figure)
