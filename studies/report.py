"""``report.md`` of a study: how it was run, the table, the fits, the figures."""

from __future__ import annotations

import math
import pathlib

from flexotip.studies import collect
from flexotip.studies.study_file import Study

TABLE_KEYS = (
    ("nvc_contact", 1.0, "NVC contact"), ("delta_axis", 1.0, "s axis"),
    ("delta_dec", 1.0, "Δdec"), ("delta_inc", 1.0, "Δinc"),
    ("enrichment_radius_m", 1e9, "enrichment radius (nm)"), ("P_axis_max_C_per_m2", 1.0, "P_axis_max (C/m²)"),
    ("Ez_below_tip_V_per_m", 1e-6, "E_z below tip (MV/m)"), ("contact_radius_m", 1e9, "contact radius (nm)"),
    ("axis_displacement_m", 1e9, "u_z axis (nm)"), ("time_s", 1.0, "time (s)"),
)
"""(table column, factor from SI, header) of the report's table; the rest is in table.csv."""


def _cell(value, factor: float = 1.0) -> str:
    if isinstance(value, bool) or value is None or value == "":
        return "" if value in (None, "") else str(value)
    if isinstance(value, int | float):
        return f"{value * factor:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def _fit_cell(entry: dict, key: str) -> str:
    value, error = entry.get(key), entry.get(f"{key}_stderr")
    if value is None:
        return "–"
    return f"{value:.3g} ± {error:.2g}" if error is not None else f"{value:.3g}"


def _fit_note(entry: dict) -> str:
    if "error" in entry:
        return entry["error"]
    if not entry.get("success") or not entry.get("resolved"):
        return entry.get("message", "")
    return ""


def text(study: Study, table: list[dict], fit_results: dict, figures: list[pathlib.Path],
         run_info: dict, outdir: pathlib.Path) -> str:
    """The report as Markdown."""
    keys = collect.swept_keys(study)
    counts = {s: sum(r["status"] == s for r in table) for s in ("complete", "failed", "missing")}
    lines = [f"# Study: {study.name}", ""]
    if study.description:
        lines += [study.description, ""]
    lines += ["## How it was run", "",
              f"- Study file: `{study.source}`; {len(table)} members "
              f"({counts['complete']} complete, {counts['failed']} failed, {counts['missing']} missing).",
              f"- Command: `{run_info.get('command', '')}`",
              f"- {run_info.get('n_ranks', 1)} rank(s), {run_info.get('ranks_per_member', 1)} per member"
              + (", each member its own `mpiexec` (--isolate)" if run_info.get("isolate") else "")
              + f"; wall time of this invocation {run_info.get('time_s', 0.0):.0f} s.",
              "- Each member's outputs are in `members/<name>/` (those of `flexotip run`); every summary "
              "key of every member is in `table.csv`.",
              "- ParaView: `pvpython paraview_section.py members/<name>` opens a member's polarisation, "
              "depolarisation field and vacancies cut through the tip axis (docs/outputs.md says which "
              "field format opens where).", ""]
    for number, sweep in enumerate(study.sweeps):
        lines.append(f"- Sweep {number} ({sweep['mode']}): "
                     + "; ".join(f"`{k}` = {v}" for k, v in sweep["keys"].items()))
    lines += ["", "## Members", ""]
    shown = [(k, f, h) for k, f, h in TABLE_KEYS if any(row.get(k) not in (None, "") for row in table)]
    header = ["member", *[f"{k} ({collect.display_unit(k)[1]})" if collect.display_unit(k)[1] else k
                          for k in keys], "status", *[h for _, _, h in shown]]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table:
        swept = [_cell(row.get(k), collect.display_unit(k)[0]) for k in keys]
        status = row["status"] + (f": {row['failed_solver']}, {row['failure_reason']}"
                                  if row["status"] == "failed" else "")
        lines.append("| " + " | ".join([row["member"], *swept, status,
                                        *[_cell(row.get(k), f) for k, f, _ in shown]]) + " |")
    lines += ["", "## Fits", ""]
    fitted = fit_results.get("fits", [])
    if not fitted:
        lines.append("No fit: the study sweeps neither `tip.force` nor `tip.bias` over 4 or more values "
                     "(or `[fit] x` names none).")
    else:
        lines += [f"Boltzmann sigmoid f(x) = A2 + (A1 − A2)/(1 + exp((x − x0)/M)) of `{fit_results['y']}` "
                  "(lmfit; ± one standard error); the onset is where f = 0.9·A1.", "",
                  "| x | curve | points | A1 | A2 | x0 | M | onset | note |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for entry in fitted:
            onset = entry.get("x_onset")
            lines.append(f"| {entry['x']} ({entry['x_unit']}) | {entry['label'] or '–'} "
                         f"| {entry['n_points']} | "
                         + " | ".join(_fit_cell(entry, k) for k in ("A1", "A2", "x0", "M"))
                         + f" | {'–' if onset is None else f'{onset:.3g}'} | {_fit_note(entry)} |")
        if not fit_results.get("equivalence") and {"tip.bias", "tip.force"} <= {e["x"] for e in fitted}:
            lines.append("\nNo force–voltage equivalence: a bias or force fit does not resolve its "
                         "transition (see the notes).")
        for pair in fit_results.get("equivalence", []):
            error = pair["V_per_uN_stderr"]
            lines.append(f"\nForce–voltage equivalence x0(bias)/x0(force) = {pair['V_per_uN']:.3g}"
                         + (f" ± {error:.2g}" if error is not None else "") + " V/µN"
                         + f" (bias fit: {pair['bias_fit'] or 'all'}; "
                           f"force fit: {pair['force_fit'] or 'all'}).")
    lines += ["", "## Figures", ""]
    for path in figures:
        relative = pathlib.Path(path).relative_to(outdir)
        lines += [f"![{relative.stem}]({relative.as_posix()})", ""]
    if not figures:
        lines.append("No figure: no complete member, or no numeric swept key.")
    return "\n".join(lines) + "\n"
