"""What a scan leaves behind: the surface maps along it, the lines M and ML, and where the vacancies went.

:class:`ScanRecorder` observes the vacancy transient of a scan (:mod:`flexotip.fem.scan_problem`).
At each saved time (``[scan] frames``, evenly spaced from t = 0 to the end) it samples the
surface map s(x, y) (:class:`~flexotip.exports.surface_map.SurfaceMap`) over the scanned
area and writes c/c0 to one VTX time series (``scan_vacancies.bp``, ParaView plays it). At
the end (:meth:`ScanRecorder.compute`) it gives:

* ``scan_maps.npz``: the maps, their times and the tip's positions; ``scan_frames/`` a PNG
  per map and ``scan_maps.gif`` the animation;
* ``scan_profiles.csv`` / ``.png``: s at the start and the end along the first line (M)
  and along a parallel line three contact radii to its right, outside the scanned area (ML);
* the summary keys (docs/outputs.md): ``scan_depletion`` and ``scan_gain`` (the map's mean
  change over the scanned area before and beyond the border x = ``step_x``), and, from the
  fields, where the vacancies that left the enriched near-surface region went:
  ``lateral_fraction`` (past the border) and ``vertical_fraction`` (down, below the sensing
  depth, on the enriched side).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import pathlib

import dolfinx.fem
import dolfinx.io
import numpy as np
import ufl

from flexotip.exports.result import ExportResult
from flexotip.exports.surface_map import SurfaceMap
from flexotip.fem import io
from flexotip.fem.postprocess import assemble_scalar
from flexotip.fem.scan_problem import ScanPath
from flexotip.fem.vacancy_problem import VacancySolution
from flexotip.geometry.mesh import StackMesh
from flexotip.geometry.stack import surface_layers
from flexotip.units import Scales

log = logging.getLogger(__name__)

MAP_MARGIN = 4.0
"""The maps reach this many contact radii beyond the scanned lines."""

ML_OFFSET = 3.0
"""Line ML runs this many contact radii to the right of the first line (outside the scan)."""

MAP_MAX_SAMPLES = 161
"""Largest number of map points along a side (the spacing is at least a quarter contact radius)."""

PROFILE_POINTS = 241
"""Points along the lines M and ML."""


def _distance_to_lines(x: np.ndarray, y: np.ndarray, lines) -> np.ndarray:
    """Distance in the plane from the points (x, y) to the nearest of the segments ``lines``."""
    best = np.full(np.shape(x), np.inf)
    for (x0, y0), (x1, y1) in lines:
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        best = np.minimum(best, np.hypot(x - x0 - t * dx, y - y0 - t * dy))
    return best


@dataclasses.dataclass
class _Frame:
    time: float
    tip: tuple[float, float]
    pressed: bool
    values: np.ndarray


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScanResult(ExportResult):
    """The scan's tables and keys, and its maps for the figures (SI)."""

    x: np.ndarray
    y: np.ndarray
    frames: list[_Frame]
    contact_radius: float
    border: float
    profiles: dict[str, np.ndarray]

    def write(self, outdir: pathlib.Path, comm) -> None:
        """Tables, ``scan_maps.npz``, the frame PNGs, the GIF and the profile figure (collective)."""
        super().write(outdir, comm)
        if comm.rank != 0:
            return
        with io.staged(outdir / "scan_maps.npz") as target:
            np.savez(target, x_m=self.x, y_m=self.y, t_s=[f.time for f in self.frames],
                     s=np.array([f.values for f in self.frames]),
                     tip_x_m=[f.tip[0] for f in self.frames], tip_y_m=[f.tip[1] for f in self.frames],
                     pressed=[f.pressed for f in self.frames], contact_radius_m=self.contact_radius,
                     border_x_m=self.border)
        plot_frames(outdir, self)
        plot_profiles(outdir / "scan_profiles.png", self.profiles, self.border)


class ScanRecorder:
    """Samples a scan's vacancies at its saved times and reduces them at the end.

    Args:
        stack: The mesh.
        scales: Unit scales.
        path: The tip's motion, SI.
        contact_radius: m.
        sensing_depth: Depth of the surface map's mean, m.
        border: x of the border between the enriched and the pristine side, m.
        frame_times: The saved times, s (the first 0, the last the end of the scan).
        outdir: Folder of the VTX time series.
        symmetry_fraction: Share of the film in the meshed domain (1 or 1/2), for counts.
        enriched: Whether the film starts with an enriched side (not uniform): only then
            are the lateral and vertical fractions reported.
    """

    def __init__(self, stack: StackMesh, scales: Scales, path: ScanPath, contact_radius: float,
                 sensing_depth: float, border: float, frame_times: np.ndarray, outdir: pathlib.Path,
                 symmetry_fraction: float, enriched: bool = True):
        self.stack, self.scales, self.path = stack, scales, path
        self.contact_radius, self.sensing_depth, self.border = contact_radius, sensing_depth, border
        self.frame_times, self.outdir = np.asarray(frame_times), outdir
        self.symmetry_fraction, self.enriched = symmetry_fraction, enriched
        L, a = scales.length, contact_radius
        geometry = stack.geometry
        (x_lo, x_hi), (y_lo, y_hi) = geometry.lateral_range
        lines = [(start, end) for start, end in _lines(path)]
        corners = np.array([point for line in lines for point in line])
        lo = np.maximum(corners.min(axis=0) - MAP_MARGIN * a, (x_lo * L, y_lo * L))
        hi = np.minimum(corners.max(axis=0) + MAP_MARGIN * a, (x_hi * L, y_hi * L))
        spacing = max(0.25 * a, float(np.max(hi - lo)) / (MAP_MAX_SAMPLES - 1))
        self.x = np.linspace(lo[0], hi[0], round((hi[0] - lo[0]) / spacing) + 1)
        self.y = np.linspace(lo[1], hi[1], round((hi[1] - lo[1]) / spacing) + 1)
        layers = surface_layers(geometry)[0] if geometry.layered else None
        self.sampler = SurfaceMap(stack.msh, self.x / L, self.y / L, sensing_depth / L, layers=layers)
        # Lines M (the first line) and ML (parallel, ML_OFFSET contact radii to its right).
        (sx, sy), (ex, ey) = lines[0]
        length = math.hypot(ex - sx, ey - sy)
        ux, uy = (ex - sx) / length, (ey - sy) / length
        self.along = np.linspace(-MAP_MARGIN * a, length + MAP_MARGIN * a, PROFILE_POINTS)
        self._line_points = {}
        for name, offset in (("M", 0.0), ("ML", -ML_OFFSET * a)):
            px, py = sx + self.along * ux - offset * uy, sy + self.along * uy + offset * ux
            self._line_points[name] = (px, py)
        self._line_samplers = {
            name: SurfaceMap(stack.msh, px / L, py / L, sensing_depth / L, layers=layers, paired=True)
            for name, (px, py) in self._line_points.items()}
        self.frames: list[_Frame] = []
        self.line_values: dict[str, list[np.ndarray]] = {name: [] for name in self._line_samplers}
        self.w_initial: dolfinx.fem.Function | None = None
        self._writer = None
        self._staging = contextlib.ExitStack()
        self._c_relative = None

    def observe(self, t: float, w: dolfinx.fem.Function) -> dict:
        """The tip's place in the history row; at a saved time, the map and the VTX step."""
        x, y = self.path.position(t)
        if self.w_initial is None:  # t = 0
            self.w_initial = w.copy()
            self._c_relative = dolfinx.fem.Function(w.function_space, name="c_relative")
            comm = w.function_space.mesh.comm
            series = self._staging.enter_context(io.staged(self.outdir / "scan_vacancies.bp", comm))
            self._writer = dolfinx.io.VTXWriter(comm, series, [self._c_relative], engine="BP4")
        if np.any(np.isclose(t, self.frame_times, rtol=1e-9, atol=0.0)) or t == 0.0:
            self.frames.append(_Frame(t, (x, y), self.path.pressed(t), self.sampler(w)))
            for name, sampler in self._line_samplers.items():
                self.line_values[name].append(sampler(w))
            self._c_relative.x.array[:] = np.exp(w.x.array)
            with io.coordinates_in_metres(w.function_space.mesh, self.scales.length):
                self._writer.write(t)
            log.info("scan: map %d/%d at t = %.4g s, tip at (%.4g, %.4g) nm%s", len(self.frames),
                     len(self.frame_times), t, x * 1e9, y * 1e9, "" if self.path.pressed(t) else " (lifted)")
        return {"tip_x_m": x, "tip_y_m": y, "tip_pressed": float(self.path.pressed(t))}

    def state(self) -> dict[str, np.ndarray]:
        """The maps and lines saved so far, for a checkpoint (every rank holds them alike)."""
        if not self.frames:
            return {}
        return {"frame_t_s": np.array([f.time for f in self.frames]),
                "frame_tip_m": np.array([f.tip for f in self.frames]),
                "frame_pressed": np.array([f.pressed for f in self.frames]),
                "frame_s": np.array([f.values for f in self.frames]),
                **{f"line_{name}": np.array(values) for name, values in self.line_values.items()}}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Put back the maps and lines of :meth:`state` (a resumed scan, after its t = 0 record).

        The VTX series of the resumed run has t = 0 and the frames from the resumed time on
        (the ones before are in the interrupted run's series); the maps have every frame.
        """
        self.frames = [_Frame(float(t), (float(tip[0]), float(tip[1])), bool(pressed), values)
                       for t, tip, pressed, values in zip(arrays["frame_t_s"], arrays["frame_tip_m"],
                                                          arrays["frame_pressed"], arrays["frame_s"],
                                                          strict=True)]
        self.line_values = {name: list(arrays[f"line_{name}"]) for name in self._line_samplers}

    def close(self) -> None:
        """Close the VTX time series (collective)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._staging.close()  # the series moves into place

    def compute(self, vac: VacancySolution, reference: VacancySolution | None = None) -> ScanResult:
        """The maps, the lines M and ML, and the summary keys of the finished scan (collective).

        With ``reference``, the same time with the tip lifted from the same start, the
        ``*_tip`` keys give the tip's own effect: the scan's final state against the
        reference's instead of against the start (the start relaxes on its own meanwhile).
        """
        self.close()
        first, last = self.frames[0].values, self.frames[-1].values
        gx, gy = np.meshgrid(self.x, self.y, indexing="ij")
        scanned = (_distance_to_lines(gx, gy, self.path.pressed_lines()) <= self.contact_radius) \
            & np.isfinite(first) & np.isfinite(last)
        enriched, pristine = scanned & (gx < self.border), scanned & (gx > self.border)

        def mean(values, where):
            return float(np.mean(values[where])) if where.any() else None

        summary = {
            "scan_depletion": mean(first - last, enriched), "scan_gain": mean(last - first, pristine),
            **self._where_they_went(vac, self.w_initial, ""),
            "scan_conservation_error": abs(vac.total_final / vac.total_initial - 1.0),
            "scan_duration_s": self.path.duration, "scan_speed_m_per_s": self.path.speed,
            "scan_peclet": self.path.speed * self.contact_radius / vac.material.diffusivity,
            "scan_frames": len(self.frames),
        }
        if reference is not None:
            lifted = self.sampler(reference.w)
            summary |= {"scan_depletion_tip": mean(lifted - last, enriched),
                        "scan_gain_tip": mean(last - lifted, pristine),
                        **self._where_they_went(vac, reference.w, "_tip")}
        log.info("scan: depletion %s, gain %s, lateral fraction %s, vertical fraction %s%s, Péclet %.3g",
                 *(_shown(summary[k]) for k in ("scan_depletion", "scan_gain", "lateral_fraction",
                                                 "vertical_fraction")),
                 "" if reference is None else "; the tip's own (against the lifted reference): lateral "
                 f"{_shown(summary['lateral_fraction_tip'])}, vertical "
                 f"{_shown(summary['vertical_fraction_tip'])}",
                 summary["scan_peclet"])
        profiles = {"distance_m": self.along}
        for name, values in self.line_values.items():
            px, py = self._line_points[name]
            profiles |= {f"x_{name}_m": px, f"y_{name}_m": py, f"s_{name}_initial": values[0],
                         f"s_{name}_final": values[-1]}
        return ScanResult(tables={"scan_profiles.csv": profiles}, summary=summary, x=self.x, y=self.y,
                          frames=self.frames, contact_radius=self.contact_radius, border=self.border,
                          profiles=profiles)

    def _where_they_went(self, vac: VacancySolution, w_before: dolfinx.fem.Function, suffix: str) -> dict:
        """The change of c from ``w_before`` to the scan's end in three parts of the film, and the fractions.

        The parts (module docstring) split the quadrature points of one film measure, so their
        changes add up to the change of the total (the conservation error) exactly.
        """
        L = self.scales.length
        x = ufl.SpatialCoordinate(self.stack.msh)
        change = ufl.exp(vac.w) - ufl.exp(w_before)
        before = ufl.lt(x[0], self.border / L)
        near = ufl.gt(x[2], -self.sensing_depth / L)
        count = vac.material.c0 * L**3 / self.symmetry_fraction

        def integral(where):
            return assemble_scalar(dolfinx.fem.form(ufl.conditional(where, change, 0.0) * vac.dx)) * count

        near_enriched = integral(ufl.And(before, near))
        deep_enriched = integral(ufl.And(before, ufl.Not(near)))
        past_border = integral(ufl.Not(before))
        removed = -near_enriched
        meaningful = self.enriched and removed > 0.0
        if self.enriched and not meaningful:
            log.info("scan: the enriched near-surface region lost no vacancies (change %+.4g%s): no "
                     "lateral or vertical fraction", near_enriched, suffix)
        return {f"scan_removed_vacancies{suffix}": removed,
                f"scan_vacancies_past_border{suffix}": past_border,
                f"scan_vacancies_down{suffix}": deep_enriched,
                f"lateral_fraction{suffix}": past_border / removed if meaningful else None,
                f"vertical_fraction{suffix}": deep_enriched / removed if meaningful else None}


def _shown(value) -> str:
    return "none" if value is None else f"{value:.4g}"


def _lines(path: ScanPath):
    """The distinct lines of a path, (start, end), m."""
    seen = []
    for segment in path.segments:
        line = (segment.start, segment.end) if segment.name == "trace" else (segment.end, segment.start)
        if line not in seen:
            seen.append(line)
    return seen


def plot_frames(outdir: pathlib.Path, result: ScanResult) -> None:
    """``scan_frames/scan_map_NNN.png`` per saved map and ``scan_maps.gif`` (one rank; needs matplotlib)."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.animation
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib not installed: the scan's maps are in scan_maps.npz only")
        return
    folder = outdir / "scan_frames"
    folder.mkdir(exist_ok=True)
    first = result.frames[0].values
    change = [f.values - first for f in result.frames]
    limit_s = float(np.nanmax(np.abs([f.values for f in result.frames]))) or 1.0
    limit_d = float(np.nanmax(np.abs(change))) or 1.0
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    x, y, a = result.x * 1e9, result.y * 1e9, result.contact_radius * 1e9
    images = [axes[0].pcolormesh(x, y, first.T, cmap="RdBu_r", vmin=-limit_s, vmax=limit_s,
                                 shading="nearest"),
              axes[1].pcolormesh(x, y, change[0].T, cmap="PuOr_r", vmin=-limit_d, vmax=limit_d,
                                 shading="nearest")]
    fig.colorbar(images[0], ax=axes[0], label="s = mean c/c0 − 1 over the sensing depth")
    fig.colorbar(images[1], ax=axes[1], label="s(t) − s(0)")
    tips = []
    for ax in axes:
        ax.axvline(result.border * 1e9, color="0.4", lw=0.8, ls=":")
        tips.append(mpl.patches.Circle((0, 0), a, fill=False, color="k", lw=1.0))
        ax.add_patch(tips[-1])
        ax.set(xlabel="x (nm)", ylabel="y (nm)", aspect="equal")
    paths = []
    for index, frame in enumerate(result.frames):
        images[0].set_array(frame.values.T.ravel())
        images[1].set_array(change[index].T.ravel())
        for tip in tips:
            tip.center = (frame.tip[0] * 1e9, frame.tip[1] * 1e9)
            tip.set_linestyle("-" if frame.pressed else "--")
        fig.suptitle(f"t = {frame.time:.4g} s, tip {'pressing' if frame.pressed else 'lifted'} "
                     f"(dotted: the border)", fontsize=10)
        path = folder / f"scan_map_{index:03d}.png"
        with io.staged(path) as target:
            fig.savefig(target, dpi=110)
        paths.append(path)
    plt.close(fig)
    from PIL import Image

    images_gif = [Image.open(p).convert("P", palette=Image.Palette.ADAPTIVE) for p in paths]
    with io.staged(outdir / "scan_maps.gif") as target:
        images_gif[0].save(target, save_all=True, append_images=images_gif[1:], duration=400, loop=0)


def plot_profiles(path: pathlib.Path, profiles: dict[str, np.ndarray], border: float) -> None:
    """``scan_profiles.png``: s along M and ML before and after the scan (one rank)."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
    d = profiles["distance_m"] * 1e9
    for name, colour in (("M", "C0"), ("ML", "C1")):
        ax.plot(d, profiles[f"s_{name}_initial"], color=colour, ls="--", lw=1, label=f"{name}, before")
        ax.plot(d, profiles[f"s_{name}_final"], color=colour, lw=1.5, label=f"{name}, after")
    ax.set(xlabel="distance along the first line from its start (nm)", ylabel="s = mean c/c0 − 1")
    ax.legend(fontsize=8)
    with io.staged(path) as target:
        fig.savefig(target, dpi=130)
    plt.close(fig)
