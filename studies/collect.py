"""A study's results from its member folders: ``table.csv``, ``study.json``, the fits.

Runs on one rank after the members (or alone, ``flexotip study ... --collect``), reading
only ``DIR/members/<name>/`` (``summary.json``, ``member.json``), so that a study run as
independent jobs (``--member I``) is collected the same way. The figures and the report
are :mod:`flexotip.studies.figures` and :mod:`flexotip.studies.report`.

The table has one row per member: its name, index and sweep, the value of every swept key
(SI), its status (``complete``, ``failed``, or ``missing`` when the folder holds no
finished run), the solver and reason of a failure, the derived ``nvc_contact``, for a member
that kept its surface maps in time (``[output] map_times``) the diffusivity its S(t) gives
(:mod:`flexotip.studies.decay`, keys ``decay_*``), and every key of its ``summary.json``
(docs/outputs.md).

``nvc_contact`` = 1 + ``delta_contact_mean``: the normalised vacancy concentration c/c0,
averaged over the sensing depth and over the contact (r ≤ a). It stands for the paper's
NVC (the KPFM contrast along the scan line, normalised to the pristine film): KPFM senses
the top nanometre, which the sensing depth models, and the scan line crosses the pressed
area, which the contact mean covers.
"""

from __future__ import annotations

import csv
import json
import math
import pathlib

from flexotip.studies import fits as fits_module
from flexotip.studies.runner import MEMBER_RECORD, is_complete, member_folder, read_json
from flexotip.studies.study_file import DISPLAY_UNITS, Study

FITTED_DEFAULT = "nvc_contact"
"""The quantity a study fits unless its ``[fit] y`` says otherwise."""
FIT_KEYS_DEFAULT = ("tip.bias", "tip.force")
"""Swept keys fitted by default (when swept over at least 4 values)."""
MIN_FIT_POINTS = 4
ROW_KEYS = ("member", "index", "sweep", "status", "time_s", "failed_solver", "failure_reason")


def display_unit(key: str) -> tuple[float, str]:
    """(factor from SI, unit) in which a swept key is plotted and fitted."""
    return DISPLAY_UNITS.get(key, (1.0, ""))


def shown(key: str, value, digits: int = 4) -> str:
    """A swept value as text, a number in its display unit (``51.53 nm``), anything else as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    factor, unit = display_unit(key)
    return f"{value * factor:.{digits}g}" + (f" {unit}" if unit else "")


def swept_keys(study: Study) -> list[str]:
    """Every dotted key a member sets, in order of first appearance."""
    keys: list[str] = []
    for member in study.members:
        keys += [k for k in member.values if k not in keys]
    return keys


def rows(study: Study, outdir: pathlib.Path) -> list[dict]:
    """One row per member (see the module docstring)."""
    table = []
    for member in study.members:
        folder = member_folder(outdir, member)
        record = read_json(folder / MEMBER_RECORD) or {}
        summary = read_json(folder / "summary.json") or {}
        if is_complete(folder, member):
            status = "complete"
        elif record.get("status") == "failed" and record.get("config_hash") == member.config_hash:
            status = "failed"
        else:
            status, summary = "missing", {}
        row = {"member": member.name, "index": member.index,
               "sweep": "" if member.sweep is None else member.sweep,
               **{key: member.values.get(key, "") for key in swept_keys(study)},
               "status": status, "time_s": record.get("time_s", ""),
               "failed_solver": record.get("failed_solver", "") if status == "failed" else "",
               "failure_reason": record.get("failure_reason", "") if status == "failed" else ""}
        if "delta_contact_mean" in summary and summary["delta_contact_mean"] is not None:
            row["nvc_contact"] = 1.0 + summary["delta_contact_mean"]
        if status == "complete" and (folder / "surface_maps.npz").is_file():
            row |= _decay(folder)
        row |= {k: v for k, v in summary.items() if k not in row and k != "status"}
        table.append(row)
    return table


def _decay(folder: pathlib.Path) -> dict:
    """The S(t) → D fit of a member that kept its maps in time (``decay/`` in its folder), or its failure."""
    from flexotip.studies import decay

    try:
        result = decay.analyse(folder, folder / "decay")
    except ValueError as error:
        return {"decay_error": str(error)}
    return {k: v for k, v in result.items() if k.startswith("decay_")}


def write_table(path: pathlib.Path, table: list[dict]) -> None:
    """``table.csv``: the union of the rows' columns, in order of first appearance."""
    columns: list[str] = []
    for row in table:
        columns += [k for k in row if k not in columns]
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, restval="")
        writer.writeheader()
        for row in table:
            writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def series(study: Study, table: list[dict], x_key: str, y_key: str) -> list[dict]:
    """The curves y(x) of a study: per sweep over ``x_key``, one per value of its other keys.

    Returns [{"sweep", "label", "others", "x", "y", "members"}] with x in SI, the points of
    complete members with a finite y, sorted by x.
    """
    curves = []
    for number, sweep in enumerate(study.sweeps):
        if len({json.dumps(v) for v in sweep["keys"].get(x_key, [])}) < 2:
            continue  # not swept over x in this sweep (or at one value only)
        others = [k for k in sweep["keys"] if k != x_key]
        groups: dict[tuple, list[dict]] = {}
        for row in table:
            if row["sweep"] == number and row["status"] == "complete":
                groups.setdefault(tuple(json.dumps(row[k]) for k in others), []).append(row)
        for label_values, members in groups.items():
            points = sorted((x, y, row["member"]) for row in members
                            if (x := _number(row[x_key])) is not None
                            and (y := _number(row.get(y_key))) is not None)
            label = ", ".join(f"{k.split('.')[-1]} = {shown(k, json.loads(v))}"
                              for k, v in zip(others, label_values, strict=True))
            curves.append({"sweep": number, "label": label,
                           "others": dict(zip(others, map(json.loads, label_values), strict=True)),
                           "x": [p[0] for p in points], "y": [p[1] for p in points],
                           "members": [p[2] for p in points]})
    return curves


def fit_keys(study: Study) -> list[str]:
    """The swept keys fitted: ``[fit] x``, or force and bias when swept over ≥ 4 numbers."""
    if "x" in study.fit:
        keys = study.fit["x"]
        return [keys] if isinstance(keys, str) else list(keys)
    return [key for key in FIT_KEYS_DEFAULT
            if any(len(set(map(str, s["keys"].get(key, [])))) >= MIN_FIT_POINTS for s in study.sweeps)]


def fits(study: Study, table: list[dict]) -> dict:
    """The Boltzmann-sigmoid fits of ``[fit] y`` against each fitted key, and the V/µN factor.

    x is fitted in the display units (µN for the force, V for the bias: the paper's Table 1).
    Returns {"y": key, "fits": [...], "equivalence": [...]} (JSON-ready); a curve with fewer
    than 4 points, or a fit that fails, is listed with its reason.
    """
    y_key = study.fit.get("y", FITTED_DEFAULT)
    results = []
    for x_key in fit_keys(study):
        factor, unit = display_unit(x_key)
        for curve in series(study, table, x_key, y_key):
            entry = {"x": x_key, "x_unit": unit, "y": y_key, "label": curve["label"],
                     "others": curve["others"],
                     "sweep": curve["sweep"], "n_points": len(curve["x"])}
            if len(curve["x"]) < MIN_FIT_POINTS:
                entry["error"] = f"{len(curve['x'])} complete points; a sigmoid needs {MIN_FIT_POINTS}"
            else:
                try:
                    fitted = fits_module.fit_boltzmann([x * factor for x in curve["x"]], curve["y"])
                    entry |= fitted.as_dict()
                except (ValueError, RuntimeError) as error:
                    entry["error"] = str(error)
            results.append(entry)
    return {"y": y_key, "fits": results, "equivalence": equivalence(results)}


def equivalence(results: list[dict]) -> list[dict]:
    """x0(bias)/x0(force) in V/µN for each bias fit and force fit with the same other keys.

    Only fits that succeeded and resolve their transition (``resolved``) are paired.
    """
    pairs = []
    usable = [r for r in results if "x0" in r and r.get("resolved") and r.get("success")]
    for bias in (r for r in usable if r["x"] == "tip.bias"):
        for force in (r for r in usable if r["x"] == "tip.force"):
            shared = set(bias["others"]) & set(force["others"])
            if any(bias["others"][k] != force["others"][k] for k in shared):
                continue
            value, stderr = fits_module.equivalence_factor(_AsFit(bias), _AsFit(force))
            pairs.append({"bias_fit": bias["label"], "force_fit": force["label"],
                          "V_per_uN": value, "V_per_uN_stderr": stderr})
    return pairs


class _AsFit:
    """A fit's dict seen as the attributes :func:`fits.equivalence_factor` reads."""

    def __init__(self, entry: dict):
        self.x0, self.x0_stderr = entry["x0"], entry.get("x0_stderr")


def study_record(study: Study, table: list[dict], fit_results: dict, run_info: dict) -> dict:
    """The content of ``study.json``."""
    counts = {status: sum(row["status"] == status for row in table)
              for status in ("complete", "failed", "missing")}
    return {"name": study.name, "description": study.description, "source": str(study.source),
            "sweeps": list(study.sweeps), "n_members": len(table), **{f"n_{k}": v for k, v in counts.items()},
            "status": "complete" if counts["complete"] == len(table) else
            ("failed" if counts["failed"] else "incomplete"),
            "members": [{"name": m.name, "index": m.index, "values": m.values, "config_hash": m.config_hash,
                         "status": row["status"]} for m, row in zip(study.members, table, strict=True)],
            "fits": fit_results, "run": run_info}
