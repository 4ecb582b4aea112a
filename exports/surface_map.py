"""The simulated KPFM map: the vacancy density over the sensing depth under and around the tip.

:class:`SurfaceMap` samples s(x, y) = mean of c/c0 over −d_s ≤ z ≤ 0, minus 1, on a square
grid around the tip axis. :class:`VacancyMap` turns a solved vacancy density into
``surface_map.csv`` (the meshed grid points), ``surface_map.npz`` and ``surface_map.png``
(unfolded across the symmetry planes), ``axis_vacancies.csv`` (c/c0 with depth on the
axis and through the enrichment peak) and the vacancy keys of summary.json; during a
transient it also observes the map's extremes after each step. docs/outputs.md defines
the keys (Δdec, Δinc, ...).
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib

import dolfinx.fem
import numpy as np

from flexotip.exports.result import ExportResult
from flexotip.exports.sampling import PROFILE_EXTENT, PROFILE_SAMPLES, SURFACE_MAP_SAMPLES
from flexotip.fem import io, postprocess
from flexotip.fem.postprocess import PointEvaluator
from flexotip.fem.vacancy_problem import VacancySolution
from flexotip.geometry.mesh import StackMesh
from flexotip.geometry.stack import surface_layers
from flexotip.units import Scales

log = logging.getLogger(__name__)


class SurfaceMap:
    """The simulated KPFM/NVC map s(x, y) = mean of c/c0 over −d_s ≤ z ≤ 0, minus 1.

    c/c0 = exp(w) is sampled on a grid of the film top (:meth:`square`: centred on the tip
    axis), over the meshed part of it, at the Gauss–Legendre points of each interval of the
    sensing depth (composite rule). On a layered mesh the intervals are the surface layers
    above −d_s, so the rule integrates across no cell face in z: the mean is the integral
    of the discrete field over the tagged sensing layer, exact to the rule's order inside
    each layer (degree ≤ 2·depth_points − 1 in z). Without layers it is one interval.

    Args:
        msh: The mesh.
        x, y: Grid coordinates (1D, mesh length unit); x along the first axis of the map.
        sensing_depth: d_s, mesh length unit.
        depth_points: Gauss–Legendre points per depth interval.
        layers: Thicknesses of the intervals from the top down, summing to d_s (mesh
            length unit); ``None`` for one interval.
        center: The tip axis (x0, y0), mesh length unit, for :attr:`radius`.
        paired: Sample the points (x[i], y[i]) (a line), not the grid x × y.

    Attributes:
        x, y: Grid coordinates (1D, mesh length unit), x along the first axis of ``values``.
        radius: Distance of each grid point from ``center`` (None without one), shape of the map.
    """

    def __init__(self, msh, x: np.ndarray, y: np.ndarray, sensing_depth: float, depth_points: int = 4,
                 layers: list[float] | None = None, center: tuple[float, float] | None = None,
                 paired: bool = False):
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        gx, gy = (self.x, self.y) if paired else np.meshgrid(self.x, self.y, indexing="ij")
        self.radius = np.hypot(gx - center[0], gy - center[1]) if center is not None else None
        nodes, weights = np.polynomial.legendre.leggauss(depth_points)
        thicknesses = np.asarray(layers if layers else [sensing_depth], dtype=float)
        tops = np.concatenate([[0.0], np.cumsum(thicknesses)[:-1]])
        self._depths = np.concatenate([-(top + 0.5 * h * (nodes + 1.0))
                                       for top, h in zip(tops, thicknesses, strict=True)])
        self._weights = np.concatenate([0.5 * weights * h for h in thicknesses]) / thicknesses.sum()
        points = np.concatenate([np.c_[gx.ravel(), gy.ravel(), np.full(gx.size, z)] for z in self._depths])
        self._shape = gx.shape
        self._evaluator = PointEvaluator(msh, points)

    @classmethod
    def square(cls, msh, center: tuple[float, float], extent: float, samples: int, sensing_depth: float,
               depth_points: int = 4, layers: list[float] | None = None) -> SurfaceMap:
        """The map on a square grid of ``samples`` points a side, half side ``extent``, around ``center``."""
        side = np.linspace(-extent, extent, samples)
        return cls(msh, center[0] + side, center[1] + side, sensing_depth, depth_points, layers, center)

    def __call__(self, log_density: dolfinx.fem.Function) -> np.ndarray:
        """S on the grid, shape (samples, samples); NaN off the meshed part."""
        relative = np.exp(self._evaluator(log_density)[:, 0]).reshape(len(self._depths), *self._shape)
        return np.tensordot(self._weights, relative, axes=1) - 1.0

    def extremes(self, values: np.ndarray, contact_radius: float) -> dict:
        """The map's characteristic values (``contact_radius`` in the mesh length unit).

        Returns:
            delta_dec: min s inside the contact (r < a) (docs/outputs.md);
            delta_inc: max s outside it (r ≥ a), and enrichment_radius, where it sits;
            delta_axis: s on the tip axis;
            delta_contact_mean: the area mean of s over the contact disc (r < a);
            delta_edge_mean: the area mean of s over the annulus a ≤ r ≤ 1.5a.
        """
        finite = np.isfinite(values)
        inside = (self.radius < contact_radius) & finite
        outside = (self.radius >= contact_radius) & finite
        ring = outside & (self.radius <= 1.5 * contact_radius)
        where = np.flatnonzero(outside.ravel())
        peak = where[np.argmax(values.ravel()[where])]
        axis = np.unravel_index(np.argmin(self.radius), self.radius.shape)
        return {"delta_dec": float(values[inside].min()), "delta_inc": float(values.ravel()[peak]),
                "enrichment_radius": float(self.radius.ravel()[peak]),
                "delta_axis": float(values[axis]),
                "delta_contact_mean": float(values[inside].mean()),
                "delta_edge_mean": float(values[ring].mean())}


ROUGHNESS_WIDTH = 1e-9
"""Standard deviation of the Gaussian the map's roughness is measured against, m."""


def roughness(values: np.ndarray, spacing: float, radius: np.ndarray, within: float,
              width: float = ROUGHNESS_WIDTH) -> float:
    """RMS of s minus its Gaussian smoothing over ``radius`` ≤ ``within``, over s's range there.

    The measure of a mesh-scale speckle: a resolved map varies on the contact radius, so
    a Gaussian of ``width`` (1 nm) hardly changes it. ``values`` is the unfolded map on a
    square grid of ``spacing`` (the same length unit as ``radius``, ``within`` and
    ``width``); the smoothing reflects at the grid's edges.
    """
    from scipy.ndimage import gaussian_filter

    if not np.all(np.isfinite(values)):  # part of the grid is off the mesh
        return float("nan")
    smooth = gaussian_filter(values, sigma=width / spacing, mode="reflect")
    inside = radius <= within
    spread = float(np.ptp(values[inside]))
    if spread == 0.0:
        return 0.0
    return float(np.sqrt(np.mean((values - smooth)[inside] ** 2)) / spread)


def unfold(values: np.ndarray) -> np.ndarray:
    """Fill the unmeshed mirror images of a map on a grid centred on the mirror planes."""
    values = np.where(np.isnan(values), values[::-1, :], values)
    return np.where(np.isnan(values), values[:, ::-1], values)


@dataclasses.dataclass(frozen=True)
class SurfaceMapGrid:
    """The map s(x, y) on its grid, SI, with what its figure shows.

    Attributes:
        x, y: Grid coordinates, m (x along the first axis of ``values``).
        values: s on the grid, NaN off the meshed part.
        contact_radius: m.
        sensing_depth: m.
        center: The tip axis (x0, y0), m.
    """

    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    contact_radius: float
    sensing_depth: float
    center: tuple[float, float]

    def save(self, outdir: pathlib.Path) -> None:
        """surface_map.npz and surface_map.png, unfolded across the symmetry planes (one rank)."""
        full = unfold(self.values)
        with io.staged(outdir / "surface_map.npz") as target:
            np.savez(target, x_m=self.x, y_m=self.y, s=full, contact_radius_m=self.contact_radius,
                     sensing_depth_m=self.sensing_depth)
        plot_surface_map(outdir / "surface_map.png", self.x, self.y, full, self.contact_radius, self.center)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VacancyMapResult(ExportResult):
    """The vacancy export: the tables (surface_map.csv, axis_vacancies.csv), the keys, the map."""

    grid: SurfaceMapGrid
    series: list[tuple[float, np.ndarray]] = dataclasses.field(default_factory=list)

    def write(self, outdir: pathlib.Path, comm) -> None:
        """The tables, the map's .npz and .png, and the maps in time, surface_maps.npz (collective)."""
        super().write(outdir, comm)
        if comm.rank == 0:
            self.grid.save(outdir)
            if self.series:
                with io.staged(outdir / "surface_maps.npz") as target:
                    np.savez(target, t_s=[t for t, _ in self.series], x_m=self.grid.x, y_m=self.grid.y,
                             s=np.array([unfold(values) for _, values in self.series]),
                             sensing_depth_m=self.grid.sensing_depth)


class VacancyMap:
    """Samples the vacancy density around the tip.

    Args:
        stack: The mesh.
        scales: Unit scales.
        contact_radius: Contact radius, length scale.
        sensing_depth: Depth over which the map averages c/c0, m.
        symmetry_fraction: Share of the film in the meshed domain (1, 1/2, 1/4).
        surface: The film top's vacancy condition ("blocking" or "fixed"), for the summary.
        map_times: Times (s) at which a transient's map is kept (with t = 0) for
            surface_maps.npz (``[output] map_times``).
    """

    def __init__(self, stack: StackMesh, scales: Scales, contact_radius: float, sensing_depth: float,
                 symmetry_fraction: float, surface: str, map_times: tuple[float, ...] = ()):
        self.stack, self.scales, self.contact_radius = stack, scales, contact_radius
        self.sensing_depth, self.symmetry_fraction, self.surface = sensing_depth, symmetry_fraction, surface
        geometry = stack.geometry
        extent = min(PROFILE_EXTENT * contact_radius, geometry.half_width)
        # The mesh's layers end on this sensing depth (the same [vacancies] key).
        layers = surface_layers(geometry)[0] if geometry.layered else None
        self.sampler = SurfaceMap.square(stack.msh, geometry.contact_center, extent, SURFACE_MAP_SAMPLES,
                                         sensing_depth / scales.length, layers=layers)
        self.map_times = np.asarray(map_times, dtype=float)
        self.series: list[tuple[float, np.ndarray]] = []

    def observe(self, t: float, w: dolfinx.fem.Function) -> dict:
        """The map's extremes for the transient's history (SI columns); the map at a map time."""
        values = self.sampler(w)
        if self.map_times.size and (t == 0.0 or np.any(np.isclose(t, self.map_times, rtol=1e-9, atol=0.0))):
            self.series.append((t, values))
        extremes = self.sampler.extremes(values, self.contact_radius)
        return {"delta_dec": extremes["delta_dec"], "delta_inc": extremes["delta_inc"],
                "delta_axis": extremes["delta_axis"], "delta_contact_mean": extremes["delta_contact_mean"],
                "enrichment_radius_m": extremes["enrichment_radius"] * self.scales.length}

    def state(self) -> dict[str, np.ndarray]:
        """The maps kept so far, for a checkpoint (every rank holds them alike)."""
        if not self.series:
            return {}
        return {"map_t_s": np.array([t for t, _ in self.series]),
                "map_s": np.array([values for _, values in self.series])}

    def set_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Put back the maps of :meth:`state` (a resumed run)."""
        self.series = list(zip(arrays.get("map_t_s", []), arrays.get("map_s", []), strict=True))

    def compute(self, vac: VacancySolution) -> VacancyMapResult:
        """Map, profiles and summary keys of a solved vacancy density (collective)."""
        msh, comm = self.stack.msh, self.stack.msh.comm
        L, c0 = self.scales.length, vac.material.c0
        values = self.sampler(vac.w)
        extremes = self.sampler.extremes(values, self.contact_radius)
        w_film = vac.w.x.array[vac.film_dofs]
        c_min = postprocess.global_min(np.exp(w_film), comm) * c0
        c_max = postprocess.global_max(np.exp(w_film), comm) * c0
        # Depth profiles of c/c0 on the axis and through the enrichment peak (along x).
        x0, y0 = self.stack.geometry.contact_center
        depth = np.linspace(0.0, self.stack.geometry.film_thickness * (1 - 1e-9), 2 * PROFILE_SAMPLES)
        peak = extremes["enrichment_radius"]
        profiles = {name: np.exp(PointEvaluator(
            msh, np.c_[np.full_like(depth, x0 + offset), np.full_like(depth, y0), -depth])(vac.w)[:, 0])
            for name, offset in (("axis", 0.0), ("peak", peak))}
        summary = {
            **vacancy_totals(vac, L, self.symmetry_fraction),
            "c_min_per_m3": c_min, "c_max_per_m3": c_max,
            "delta_dec": extremes["delta_dec"], "delta_inc": extremes["delta_inc"],
            "enrichment_radius_m": extremes["enrichment_radius"] * L,
            "delta_axis": extremes["delta_axis"], "delta_contact_mean": extremes["delta_contact_mean"],
            "delta_edge_mean": extremes["delta_edge_mean"],
            "surface_map_roughness": roughness(unfold(values), (self.sampler.x[1] - self.sampler.x[0]) * L,
                                               self.sampler.radius * L, 2 * self.contact_radius * L),
            "t_quasi_steady_s": None,
            "vacancy_surface": self.surface,
            "sensing_depth_m": self.sensing_depth,
        }
        log.info("vacancies: c/c0 in [%.4g, %.4g], Δdec = %.4g, Δinc = %.4g at r = %.3g nm, total "
                 "change %.2e", c_min / c0, c_max / c0, summary["delta_dec"], summary["delta_inc"],
                 summary["enrichment_radius_m"] * 1e9, summary["vacancies_relative_change"])
        gx, gy = np.meshgrid(self.sampler.x, self.sampler.y, indexing="ij")
        meshed = np.isfinite(values)
        tables = {"surface_map.csv": {"x_m": gx[meshed] * L, "y_m": gy[meshed] * L, "s": values[meshed]},
                  "axis_vacancies.csv": {"depth_m": depth * L, "c_relative_axis": profiles["axis"],
                                         "c_relative_enrichment_peak": profiles["peak"]}}
        grid = SurfaceMapGrid(self.sampler.x * L, self.sampler.y * L, values, self.contact_radius * L,
                              self.sensing_depth, (x0 * L, y0 * L))
        return VacancyMapResult(tables=tables, summary=summary | vac.report.summary(), grid=grid,
                                series=self.series)


def vacancy_totals(vac: VacancySolution, length_scale: float, symmetry_fraction: float) -> dict:
    """The vacancies in the whole film at the start and the end, mirror images included (summary keys)."""
    per_film = vac.material.c0 * length_scale**3 / symmetry_fraction
    return {"vacancies_initial": vac.total_initial * per_film, "vacancies_final": vac.total_final * per_film,
            "vacancies_relative_change": vac.total_final / vac.total_initial - 1.0}


def plot_surface_map(path: pathlib.Path, x: np.ndarray, y: np.ndarray, values: np.ndarray,
                     contact_radius: float, center: tuple[float, float]) -> None:
    """surface_map.png: s(x, y) with the contact circle, all lengths in m (needs matplotlib)."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib not installed: surface_map.png not drawn (the NPZ has the map)")
        return
    limit = float(np.nanmax(np.abs(values))) or 1.0
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    image = ax.pcolormesh(x * 1e9, y * 1e9, values.T, cmap="RdBu_r", vmin=-limit, vmax=limit,
                          shading="nearest")
    circle = mpl.patches.Circle((center[0] * 1e9, center[1] * 1e9), contact_radius * 1e9, fill=False,
                                ls="--", color="k", lw=0.8)
    ax.add_patch(circle)
    ax.set(xlabel="x (nm)", ylabel="y (nm)", aspect="equal")
    ax.set_title("surface vacancy map s: mean c/c0 − 1\nover the sensing depth", fontsize=10)
    fig.colorbar(image, ax=ax, label="c/c0 − 1")
    fig.tight_layout()
    with io.staged(path) as target:
        fig.savefig(target, dpi=150)
    plt.close(fig)
