"""A study's figures (matplotlib, PNG and PDF in ``DIR/figures/``).

* ``<quantity panels>_vs_<key>``: the swept quantities (Δdec, Δinc, the enrichment
  radius, E_z below the tip, P_axis_max, the contact radius, the fitted quantity) against
  each numeric swept key, a line per value of the sweep's other keys; the sigmoid fits
  drawn through their points.
* ``surface_profiles``: every complete member's surface deformation u_z(r) on one plot
  (both tips of a tip-shape study side by side).

Axes in nm, MV/m, C/m² and the swept key's display unit (µN, V: :func:`collect.display_unit`).
"""

from __future__ import annotations

import math
import pathlib

import numpy as np

from flexotip.studies import collect
from flexotip.studies.runner import member_folder
from flexotip.studies.study_file import Study

QUANTITIES = (
    ("nvc_contact", 1.0, "NVC over the contact (c/c0)"),
    ("delta_dec", 1.0, "Δdec (s)"),
    ("delta_inc", 1.0, "Δinc (s)"),
    ("enrichment_radius_m", 1e9, "enrichment radius (nm)"),
    ("Ez_below_tip_V_per_m", 1e-6, "E_z below the tip (MV/m)"),
    ("P_axis_max_C_per_m2", 1.0, "P_axis_max (C/m²)"),
    ("contact_radius_m", 1e9, "contact radius (nm)"),
    ("axis_displacement_m", 1e9, "axis displacement (nm)"),
)
"""(summary key, factor from SI, axis label) of the panels, when the table has them."""
COLUMNS = 4


def _pyplot():
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_all(study: Study, table: list[dict], fit_results: dict, outdir: pathlib.Path) -> list[pathlib.Path]:
    """Every figure of the study; returns the PNG paths (each has a PDF beside it)."""
    folder = pathlib.Path(outdir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    numeric = [key for key in collect.swept_keys(study)
               if all(isinstance(v, int | float) and not isinstance(v, bool)
                      for s in study.sweeps for v in s["keys"].get(key, []))
               and any(key in s["keys"] for s in study.sweeps)]
    for key in numeric:
        path = swept_quantities(study, table, fit_results, key, folder)
        if path:
            written.append(path)
    path = surface_profiles(study, table, outdir, folder)
    if path:
        written.append(path)
    return written


def _save(figure, path: pathlib.Path) -> pathlib.Path:
    figure.savefig(path.with_suffix(".png"), dpi=120)
    figure.savefig(path.with_suffix(".pdf"))
    _pyplot().close(figure)
    return path.with_suffix(".png")


def swept_quantities(study: Study, table: list[dict], fit_results: dict, key: str,
                     folder: pathlib.Path) -> pathlib.Path | None:
    """One panel per quantity against ``key``; None if no quantity has two points."""
    plt = _pyplot()
    factor, unit = collect.display_unit(key)
    panels = [(q, f, label) for q, f, label in QUANTITIES
              if any(len(c["x"]) >= 2 for c in collect.series(study, table, key, q))]
    if not panels:
        return None
    columns = min(COLUMNS, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.8 * rows), squeeze=False)
    fitted = {(f["label"], f["y"]): f for f in fit_results.get("fits", []) if f["x"] == key and "x0" in f}
    for axis, (quantity, scale, label) in zip(axes.flat, panels, strict=False):
        for number, curve in enumerate(collect.series(study, table, key, quantity)):
            x = np.asarray(curve["x"]) * factor
            style = "o" if (curve["label"], quantity) in fitted else "o-"
            axis.plot(x, np.asarray(curve["y"]) * scale, style,
                      color=f"C{number}", label=curve["label"] or None, markersize=4)
            fit = fitted.get((curve["label"], quantity))
            if fit and len(x) > 1:
                grid = np.linspace(x.min(), x.max(), 200)
                axis.plot(grid, scale * _sigmoid(grid, fit), "-", color=f"C{number}", linewidth=1)
        axis.set_xlabel(f"{key} ({unit})" if unit else key, fontsize=8)
        axis.set_ylabel(label, fontsize=8)
        axis.tick_params(labelsize=8)
        if quantity.startswith(("delta_", "Ez_")):
            axis.axhline(0.0, color="0.6", linewidth=0.6)
    for axis in axes.flat[len(panels):]:
        axis.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if labels:
        figure.legend(handles, labels, loc="lower center", ncols=min(len(labels), 4), fontsize=8,
                      frameon=False)
    figure.suptitle(f"{study.name}: against {key}" + ("; lines: Boltzmann-sigmoid fits" if fitted else ""),
                    fontsize=10)
    figure.tight_layout(rect=(0, 0.06 if labels else 0, 1, 0.95))
    return _save(figure, folder / f"quantities_vs_{key.replace('.', '_')}")


def _sigmoid(x: np.ndarray, fit: dict) -> np.ndarray:
    return fit["A2"] + (fit["A1"] - fit["A2"]) / (1.0 + np.exp((x - fit["x0"]) / fit["M"]))


def surface_profiles(study: Study, table: list[dict], outdir: pathlib.Path,
                     folder: pathlib.Path) -> pathlib.Path | None:
    """u_z(r) at the film top of every complete member (``surface_profile.csv``), on one plot."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.0, 3.8))
    drawn = 0
    for member, row in zip(study.members, table, strict=True):
        path = member_folder(outdir, member) / "surface_profile.csv"
        if row["status"] != "complete" or not path.is_file():
            continue
        data = np.genfromtxt(path, delimiter=",", names=True)
        label = ", ".join(f"{k.split('.')[-1]} = {_shown(k, v)}"
                          for k, v in member.values.items()) or member.name
        axis.plot(data["r_m"] * 1e9, data["u_z_m"] * 1e9, label=label, linewidth=1.2)
        drawn += 1
    if not drawn:
        plt.close(figure)
        return None
    axis.set_xlabel("r (nm)")
    axis.set_ylabel("u_z at the film top (nm)")
    axis.set_xlim(left=0.0)
    axis.legend(fontsize=7, ncols=2 if drawn > 6 else 1)
    axis.set_title(f"{study.name}: surface deformation under the tip", fontsize=10)
    figure.tight_layout()
    return _save(figure, folder / "surface_profiles")


def _shown(key: str, value) -> str:
    factor, unit = collect.display_unit(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value * factor:.3g}{(' ' + unit) if unit else ''}"
    return str(value)
