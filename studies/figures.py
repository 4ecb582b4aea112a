"""A study's figures (matplotlib, PNG and PDF in ``DIR/figures/``).

* ``<quantity panels>_vs_<key>``: the swept quantities (Δdec, Δinc, the enrichment
  radius, E_z below the tip, P_axis_max, the contact radius, the fitted quantity) against
  each numeric swept key, a line per value of the sweep's other keys; the sigmoid fits
  drawn through their points.
* ``surface_profiles``: every complete member's surface deformation u_z(r) on one plot
  (both tips of a tip-shape study side by side).
* ``surface_maps``: the surface vacancy maps of every complete member side by side, on one
  colour scale (the main figure of a tip-shape study).
* ``scan_transport``: for scans, the lateral fraction and the depletion against v·a/D, with
  the paper's lateral fractions (1/3 sharp, 80 % blunt) and its scan speeds marked.
* ``members/<name>``: the paper's Fig. 3 set for each complete member (:func:`member_maps`):
  P_z with the (P_x, P_z) vectors, and the depolarisation field's E_z and E_x, on the x–z
  section through the tip (``section_xz.csv``), and the surface vacancy map
  (``surface_map.npz``). Diverging colour maps centred on zero, the sections' clipped at
  the 99th percentile of |value| (the surface layer's extremes would hide the rest).

Axes in nm, MV/m, C/m² and the swept key's display unit (µN, V: :func:`collect.display_unit`).
"""

from __future__ import annotations

import itertools
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
SHORT_NAMES = {"tip.shape": "", "tip.load": "", "tip.radius": "R ", "tip.edge_radius": "fillet ",
               "tip.force": "F ", "tip.bias": "V "}
"""Panel titles: swept keys shown by a letter or by their value alone."""
SECTION_PERCENTILE = 99.0
"""The x–z maps' colour scales end at this percentile of |value|: the depolarised surface
layer (0.07 nm) holds fields a hundred times those below, which would hide the pattern."""


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
    for path in (surface_profiles(study, table, outdir, folder), surface_maps(study, table, outdir, folder),
                 scan_transport(study, table, folder)):
        if path:
            written.append(path)
    for member, row in zip(study.members, table, strict=True):
        if row["status"] == "complete":
            path = member_maps(member_folder(outdir, member), folder / "members" / member.name,
                               f"{study.name}, {member.name}")
            if path:
                written.append(path)
    return written


def _save(figure, path: pathlib.Path) -> pathlib.Path:
    """``path``.png and .pdf (a member's name may hold dots: the suffix is appended, not replaced)."""
    png, pdf = path.parent / f"{path.name}.png", path.parent / f"{path.name}.pdf"
    figure.savefig(png, dpi=120)
    figure.savefig(pdf)
    _pyplot().close(figure)
    return png


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
    symlog = _symlog_axis(study, key, factor)
    for axis, (quantity, scale, label) in zip(axes.flat, panels, strict=False):
        for number, curve in enumerate(collect.series(study, table, key, quantity)):
            x = np.asarray(curve["x"]) * factor
            style = "o" if (curve["label"], quantity) in fitted else "o-"
            axis.plot(x, np.asarray(curve["y"]) * scale, style,
                      color=f"C{number}", label=curve["label"] or None, markersize=4)
            fit = fitted.get((curve["label"], quantity))
            if fit and len(x) > 1:
                grid = np.linspace(x.min(), x.max(), 2000)
                axis.plot(grid, scale * _sigmoid(grid, fit), "-", color=f"C{number}", linewidth=1)
        if symlog is not None:
            linear_range, ticks = symlog
            axis.set_xscale("symlog", linthresh=linear_range)
            axis.set_xticks(ticks)
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


def _symlog_axis(study: Study, key: str, factor: float) -> tuple[float, list[float]] | None:
    """(where a symmetric-log axis of ``key`` turns linear, its ticks); None for a linear axis.

    When the swept values span over two decades (the bias sweep's 5 mV … 5 V), the axis is
    logarithmic beyond the smallest non-zero |value| (display units) and linear inside it,
    so that 0 stays on it; ticks at 0 and at the decades beyond (none inside the linear part).
    """
    values = np.abs([v * factor for s in study.sweeps for v in s["keys"].get(key, [])])
    nonzero = values[values > 0.0]
    if nonzero.size < 2 or nonzero.max() < 100.0 * nonzero.min():
        return None
    decades = range(math.ceil(math.log10(nonzero.min())), math.floor(math.log10(nonzero.max())) + 1)
    return float(nonzero.min()), [0.0, *(10.0**k for k in decades)]


def _sigmoid(x: np.ndarray, fit: dict) -> np.ndarray:
    return fit["A2"] + (fit["A1"] - fit["A2"]) / (1.0 + np.exp((x - fit["x0"]) / fit["M"]))


def surface_profiles(study: Study, table: list[dict], outdir: pathlib.Path,
                     folder: pathlib.Path) -> pathlib.Path | None:
    """u_z(r) at the film top of every complete member (``surface_profile.csv``), on one plot."""
    plt = _pyplot()
    curves: dict[tuple, list] = {}  # one line style per sweep and set of non-numeric values
    for member, row in zip(study.members, table, strict=True):
        path = member_folder(outdir, member) / "surface_profile.csv"
        if row["status"] == "complete" and path.is_file():
            kind = (row["sweep"], *sorted((k, str(v)) for k, v in member.values.items()
                                          if isinstance(v, str | bool)))
            curves.setdefault(kind, []).append((member, np.genfromtxt(path, delimiter=",", names=True)))
    if not curves:
        return None
    n_lines = sum(map(len, curves.values()))
    figure, axis = plt.subplots(figsize=(7.5 if n_lines <= 12 else 10.0, 3.8))
    for style, members in zip(itertools.cycle(("-", "--", ":", "-.")), curves.values()):
        colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(members)))
        for colour, (member, data) in zip(colours, members, strict=True):
            axis.plot(data["r_m"] * 1e9, data["u_z_m"] * 1e9, style, color=colour, label=_label(member),
                      linewidth=1.2)
    axis.set_xlabel("r (nm)")
    axis.set_ylabel("u_z at the film top (nm)")
    axis.set_xlim(left=0.0)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=1 if n_lines <= 12 else 2)
    axis.set_title(f"{study.name}: surface deformation under the tip", fontsize=10)
    figure.tight_layout()
    return _save(figure, folder / "surface_profiles")


def surface_maps(study: Study, table: list[dict], outdir: pathlib.Path,
                 folder: pathlib.Path) -> pathlib.Path | None:
    """s(x, y) of every complete member (``surface_map.npz``) in a row of panels, one colour scale."""
    plt = _pyplot()
    maps = []
    for member, row in zip(study.members, table, strict=True):
        path = member_folder(outdir, member) / "surface_map.npz"
        if row["status"] == "complete" and path.is_file():
            maps.append((_label(member), np.load(path)))
    if not maps:
        return None
    columns = min(4, len(maps))
    rows = math.ceil(len(maps) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.9 * columns, 3.3 * rows + 0.5), squeeze=False)
    for axis, (label, grid) in zip(axes.flat, maps, strict=False):
        x, y = grid["x_m"] * 1e9, grid["y_m"] * 1e9
        limit = float(np.nanmax(np.abs(grid["s"]))) or 1.0  # each map its own scale: the patterns differ ×50
        image = axis.pcolormesh(x, y, grid["s"].T, cmap="RdBu_r", vmin=-limit, vmax=limit, shading="auto",
                                rasterized=True)  # PDF: a raster map inside vector axes (fast, small)
        plt.colorbar(image, ax=axis, shrink=0.85).ax.tick_params(labelsize=7)
        centre = (0.5 * (x[0] + x[-1]), 0.5 * (y[0] + y[-1]))
        axis.add_patch(plt.Circle(centre, float(grid["contact_radius_m"]) * 1e9, fill=False, color="k",
                                  linestyle="--", linewidth=0.8))
        axis.set_aspect("equal")
        axis.set_title(label, fontsize=8)
        axis.set_xlabel("x (nm)", fontsize=8)
        axis.set_ylabel("y (nm)", fontsize=8)
        axis.tick_params(labelsize=7)
    for axis in axes.flat[len(maps):]:
        axis.set_visible(False)
    figure.suptitle(f"{study.name}: surface vacancy maps s = c/c0 − 1 over the top nm, each on its own "
                    "scale (dashed: the contact)", fontsize=10)
    figure.tight_layout()
    return _save(figure, folder / "surface_maps")


PAPER_LATERAL = (("sharp tip (5.7 µN): ~1/3", 1.0 / 3.0), ("blunt tip: ~80 %", 0.8))
"""The paper's lateral fractions of the depleted vacancies (Das et al. 2017), for the scan figure."""
FRACTION_RANGE = (-0.5, 1.5)
"""The lateral fractions drawn; beyond it (a tip that removed almost nothing, or enriched the
region) a triangle at the edge marks the member."""
EXPERIMENT_PECLET = (2e4, 2e5)
"""v·a/D of the paper's scans: µm/s over contact radii of 8–15 nm at D = 1.23e-19 m²/s."""


def scan_transport(study: Study, table: list[dict], folder: pathlib.Path) -> pathlib.Path | None:
    """Scans: the lateral fraction and the depletion against v·a/D, a line per tip and pass, with the paper's.

    The tip's own effect (against the lifted-tip reference, keys ``*_tip``) where the members
    ran one, else against the start. None if no member is a scan.
    """
    plt = _pyplot()
    rows = [(member, row) for member, row in zip(study.members, table, strict=True)
            if row["status"] == "complete" and isinstance(row.get("scan_peclet"), int | float)]
    if not rows:
        return None
    tip = all(isinstance(row.get("scan_removed_vacancies_tip"), int | float) for _, row in rows)
    suffix = "_tip" if tip else ""
    curves: dict[str, list] = {}
    for member, row in rows:
        label = ", ".join(f"{v}" for k, v in member.values.items() if k != "scan.speed") or "scan"
        curves.setdefault(label, []).append(row)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for number, (label, members) in enumerate(curves.items()):
        members.sort(key=lambda r: r["scan_peclet"])
        x = [r["scan_peclet"] for r in members]
        for axis, key in zip(axes, (f"lateral_fraction{suffix}", f"scan_depletion{suffix}"), strict=True):
            y = np.array([r.get(key) if isinstance(r.get(key), int | float) else np.nan for r in members])
            if key.startswith("lateral"):  # a fraction of almost nothing removed: shown at the edge
                low, high = FRACTION_RANGE
                for bound, marker in ((low, "v"), (high, "^")):
                    beyond = (y < low) if bound == low else (y > high)
                    axis.semilogx(np.asarray(x)[beyond], np.full(beyond.sum(), bound), marker,
                                  color=f"C{number}", markersize=6)
                y = np.where((y < low) | (y > high), np.nan, y)
            axis.semilogx(x, y, "o-", color=f"C{number}", label=label, markersize=4)
    for text, value in PAPER_LATERAL:
        axes[0].axhline(value, color="0.4", linestyle="--", linewidth=0.8)
        axes[0].text(axes[0].get_xlim()[0], value, f" paper, {text}", fontsize=7, va="bottom", color="0.3")
    for axis in axes:
        axis.axvspan(*EXPERIMENT_PECLET, color="0.9", zorder=0)
        axis.set_xlabel("v·a/D (Péclet number; grey: the paper's scans, µm/s)", fontsize=8)
        axis.tick_params(labelsize=8)
    against = "the lifted-tip reference" if tip else "the start"
    axes[0].set_ylabel("lateral fraction of the vacancies removed", fontsize=8)
    axes[0].set_ylim(FRACTION_RANGE[0] - 0.05, FRACTION_RANGE[1] + 0.05)
    axes[1].set_ylabel("depletion Δs of the scanned enriched area", fontsize=8)
    axes[1].set_yscale("symlog", linthresh=1e-3)
    axes[1].axhline(0.0, color="0.6", linewidth=0.6)
    axes[0].legend(fontsize=7)
    figure.suptitle(f"{study.name}: what the tip moves, against {against}", fontsize=10)
    figure.tight_layout()
    return _save(figure, folder / "scan_transport")


def _label(member) -> str:
    """A member as a short legend or title: its swept values (``sphere, R 51.5 nm``)."""
    return ", ".join(f"{SHORT_NAMES.get(k, k.split('.')[-1] + ' ')}{collect.shown(k, v, digits=3)}"
                     for k, v in member.values.items()) or member.name


def _diverging(axis, x, z, values, label: str, plt, percentile: float = 100.0):
    """A map centred on zero; ``percentile`` < 100 clips the colour scale (the arrows on the bar)."""
    limit = float(np.nanpercentile(np.abs(values), percentile)) or 1.0
    image = axis.pcolormesh(x, z, values, cmap="RdBu_r", vmin=-limit, vmax=limit, shading="auto",
                            rasterized=True)  # PDF: a raster map inside vector axes (fast, small)
    plt.colorbar(image, ax=axis, label=label, shrink=0.85, extend="both" if percentile < 100 else "neither")
    axis.set_aspect("equal")
    return image


def member_maps(run: pathlib.Path, path: pathlib.Path, title: str) -> pathlib.Path | None:
    """The Fig. 3 set of one run folder; None if it has no x–z section (no electromechanics)."""
    section_file = run / "section_xz.csv"
    if not section_file.is_file():
        return None
    plt = _pyplot()
    data = np.genfromtxt(section_file, delimiter=",", names=True)
    nz = int(np.sum(data["x_m"] == data["x_m"][0]))
    shape = (data.size // nz, nz)

    def grid(name: str) -> np.ndarray:
        return data[name].reshape(shape).T  # rows: depth, columns: x

    x, z = grid("x_m")[0] * 1e9, grid("z_m")[:, 0] * 1e9
    surface = run / "surface_map.npz"
    figure, axes = plt.subplots(2, 2, figsize=(11.0, 7.0))
    axes = axes.ravel()
    _diverging(axes[0], x, z, grid("P_z_C_per_m2"), "P_z (C/m²)", plt, SECTION_PERCENTILE)
    step = (max(1, shape[0] // 20), max(1, nz // 12))
    px, pz = grid("P_x_C_per_m2")[::step[1], ::step[0]], grid("P_z_C_per_m2")[::step[1], ::step[0]]
    length = np.hypot(px, pz)
    length[length == 0] = 1.0
    axes[0].quiver(x[::step[0]], z[::step[1]], px / length, pz / length, color="k", width=0.003,
                   pivot="mid", scale=40)  # directions only: |P| spans decades from the surface down
    axes[0].set_title("P_z (colour) and the direction of (P_x, P_z)", fontsize=9)
    clip = SECTION_PERCENTILE
    _diverging(axes[1], x, z, grid("E_depolarization_z_V_per_m") * 1e-6, "E_z (MV/m)", plt, clip)
    axes[1].set_title("depolarisation field E_z", fontsize=9)
    _diverging(axes[2], x, z, grid("E_depolarization_x_V_per_m") * 1e-6, "E_x (MV/m)", plt, clip)
    axes[2].set_title("depolarisation field E_x", fontsize=9)
    for axis in axes[:3]:
        axis.set_xlabel("x (nm)")
        axis.set_ylabel("z (nm)")
    if surface.is_file():
        grid_map = np.load(surface)
        _diverging(axes[3], grid_map["x_m"] * 1e9, grid_map["y_m"] * 1e9, grid_map["s"].T, "s = c/c0 − 1",
                   plt)
        radius = float(grid_map["contact_radius_m"]) * 1e9
        centre = (0.5 * (grid_map["x_m"][0] + grid_map["x_m"][-1]) * 1e9,
                  0.5 * (grid_map["y_m"][0] + grid_map["y_m"][-1]) * 1e9)
        axes[3].add_patch(plt.Circle(centre, radius, fill=False, color="k", linestyle="--", linewidth=0.8))
        axes[3].set_title("surface vacancy map (top nm)", fontsize=9)
        axes[3].set_xlabel("x (nm)")
        axes[3].set_ylabel("y (nm)")
    else:
        axes[3].set_visible(False)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    return _save(figure, path)
