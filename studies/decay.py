"""The relaxation of a poled region, S(t), and the diffusivity D that Fick's second law fits to it.

Das et al. measured D by following the KPFM contrast of a poled region as it decayed over
hours ("degree of equilibrium" S(t), their Supplementary Note 1, not available to us). Our
definition (docs/studies.md, "S(t) → D"):

    Δs(t) = mean of the surface signal over the poled region (minus its mean over a
            pristine reference region, if one is given);
    S(t)  = 1 − [Δs(t) − Δs(∞)] / [Δs(0) − Δs(∞)],

the fraction of the initial excess, as the surface probe sees it, that has relaxed: 0 at
the start, 1 at equilibrium. It does not depend on the signal's units or on how KPFM
contrast is calibrated to c (any linear map cancels), which is why it is the natural measure
of a diffusion-limited decay.

The model: the poled region is wide compared with the film thickness h, so the excess
relaxes in depth, in a film closed at both faces (a blocking top; the vacancies stay in the
film). An initial excess ∝ exp(−z/δ) at depth z relaxes as the cosine series

    u(z, t) = Σ_n a_n cos(k_n z) exp(−k_n² D t),   k_n = nπ/h,

and the probe averages it over the sensing depth d_s (factor sin(k_n d_s)/(k_n d_s)).
Δs(t) = level + amplitude·f(t; D, δ) with f(0) = 1; D, δ, level (Δs(∞)) and amplitude are
fitted by lmfit (least squares), h and d_s are given. Early times measure δ²/D, late times
h²/(π²D): a series spanning both fixes D.

:func:`analyse` reads a series of maps (``surface_maps.npz`` of a transient run, a scan's
``scan_maps.npz``, or a user's own file with ``t_s`` and ``s`` arrays) and writes
``decay.json``, ``decay.csv`` and ``decay.png``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import pathlib
import tomllib

import numpy as np

from flexotip.files import staged

log = logging.getLogger(__name__)

MODES = 4000
"""Cosine modes of the series (the terms fall like 1/n³)."""

MAP_FILES = ("surface_maps.npz", "scan_maps.npz")
"""The map series a run folder may hold, in the order they are looked for."""


def relaxed_fraction_shape(t: np.ndarray, diffusivity: float, depth: float, thickness: float,
                           sensing_depth: float) -> np.ndarray:
    """f(t): the sensed excess above equilibrium over its initial value (1 at t = 0), SI.

    Args:
        t: Times, s.
        diffusivity: D, m²/s.
        depth: δ, the initial excess's decay length, m.
        thickness: h, the film thickness, m.
        sensing_depth: d_s, m.
    """
    n = np.arange(1, MODES + 1)
    k = n * math.pi / thickness
    exponent = -thickness / depth
    weights = (1.0 - (-1.0) ** n * math.exp(exponent)) / (1.0 / depth**2 + k**2) \
        * np.sinc(k * sensing_depth / math.pi)  # np.sinc(x) = sin(πx)/(πx)
    decay = np.exp(-np.outer(np.asarray(t, dtype=float), k**2) * diffusivity)
    return decay @ weights / weights.sum()


@dataclasses.dataclass(frozen=True)
class DecayFit:
    """The fitted relaxation (SI); the standard errors are None when lmfit gives none."""

    diffusivity: float
    diffusivity_stderr: float | None
    depth: float
    depth_stderr: float | None
    level: float
    amplitude: float
    thickness: float
    sensing_depth: float
    reduced_chi_square: float
    points: int

    def summary(self) -> dict:
        """The keys of decay.json (and of a study's table, prefixed ``decay_``)."""
        return {"decay_diffusivity_m2_per_s": self.diffusivity,
                "decay_diffusivity_stderr_m2_per_s": self.diffusivity_stderr,
                "decay_depth_m": self.depth, "decay_depth_stderr_m": self.depth_stderr,
                "decay_level": self.level, "decay_amplitude": self.amplitude,
                "decay_thickness_m": self.thickness, "decay_sensing_depth_m": self.sensing_depth,
                "decay_reduced_chi_square": self.reduced_chi_square, "decay_points": self.points}

    def relaxed(self, t: np.ndarray, contrast: np.ndarray) -> np.ndarray:
        """S(t) of measured contrasts Δs(t), with the fitted Δs(∞) and Δs(0) − Δs(∞)."""
        return 1.0 - (np.asarray(contrast) - self.level) / self.amplitude

    def model(self, t: np.ndarray) -> np.ndarray:
        """The fitted Δs(t)."""
        return self.level + self.amplitude * relaxed_fraction_shape(
            t, self.diffusivity, self.depth, self.thickness, self.sensing_depth)


def fit_decay(t: np.ndarray, contrast: np.ndarray, thickness: float, sensing_depth: float,
              diffusivity_guess: float | None = None, depth_guess: float | None = None) -> DecayFit:
    """Fit Δs(t) = level + amplitude·f(t; D, δ) (see the module docstring).

    The fit runs in log D and log δ (both positive, spanning decades). The first guesses:
    D from the time at which half the change has happened (h²/(π²·4·t_half)), δ = h/10.

    Raises:
        ValueError: With fewer than 5 points, or a contrast that does not change.
    """
    import lmfit

    t, contrast = np.asarray(t, dtype=float), np.asarray(contrast, dtype=float)
    if t.size < 5:
        raise ValueError(f"S(t) needs at least 5 maps; got {t.size}")
    change = contrast[0] - contrast[-1]
    if change == 0.0 or not np.isfinite(change):
        raise ValueError("the contrast of the poled region does not change: nothing to fit")
    if diffusivity_guess is None:
        half = t[np.argmin(np.abs(contrast - (contrast[0] - 0.5 * change)))] or t[t > 0][0]
        diffusivity_guess = thickness**2 / (math.pi**2 * 4.0 * half)
    params = lmfit.Parameters()
    params.add("log_diffusivity", value=math.log(diffusivity_guess))
    params.add("log_depth", value=math.log(depth_guess or 0.1 * thickness),
               min=math.log(1e-3 * thickness), max=math.log(10.0 * thickness))
    params.add("level", value=float(contrast[-1]))
    params.add("amplitude", value=float(change))

    def residual(p):
        shape = relaxed_fraction_shape(t, math.exp(p["log_diffusivity"]), math.exp(p["log_depth"]),
                                       thickness, sensing_depth)
        return p["level"] + p["amplitude"] * shape - contrast

    result = lmfit.minimize(residual, params, method="least_squares")
    values = result.params

    def with_error(name: str) -> tuple[float, float | None]:
        value = math.exp(values[name].value)
        stderr = values[name].stderr
        return value, (value * stderr if stderr is not None and np.isfinite(stderr) else None)

    diffusivity, diffusivity_error = with_error("log_diffusivity")
    depth, depth_error = with_error("log_depth")
    return DecayFit(diffusivity, diffusivity_error, depth, depth_error, float(values["level"].value),
                    float(values["amplitude"].value), thickness, sensing_depth, float(result.redchi),
                    int(t.size))


@dataclasses.dataclass(frozen=True)
class MapSeries:
    """Surface maps in time: ``s[i]`` on the grid x × y at ``t[i]`` (SI; x, y None for a user's arrays)."""

    t: np.ndarray
    s: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None

    @classmethod
    def load(cls, path: pathlib.Path) -> MapSeries:
        """From an .npz with ``t_s`` and ``s`` (and optionally ``x_m``, ``y_m``), or a run folder."""
        path = pathlib.Path(path)
        if path.is_dir():
            found = [path / name for name in MAP_FILES if (path / name).is_file()]
            if not found:
                raise ValueError(f"{path}: no map series ({' or '.join(MAP_FILES)}); a transient run "
                                 "writes surface_maps.npz when [output] map_times is set")
            path = found[0]
        with np.load(path) as data:
            missing = [k for k in ("t_s", "s") if k not in data]
            if missing:
                raise ValueError(f"{path}: no array {', '.join(missing)} (a map series has t_s, shape (n,), "
                                 "and s, shape (n, nx, ny), and optionally x_m and y_m)")
            t, s = np.asarray(data["t_s"], dtype=float), np.asarray(data["s"], dtype=float)
            x = np.asarray(data["x_m"]) if "x_m" in data else None
            y = np.asarray(data["y_m"]) if "y_m" in data else None
        if s.ndim != 3 or s.shape[0] != t.size:
            raise ValueError(f"{path}: s has shape {s.shape}; it must be (n, nx, ny) with n = {t.size} times")
        if np.any(np.diff(t) <= 0):
            raise ValueError(f"{path}: the times t_s must increase")
        return cls(t, s, x, y)

    def mean(self, region: tuple[float, float, float, float] | None) -> np.ndarray:
        """The mean of each map over a box (xmin, xmax, ymin, ymax) in m, or over all of it (NaN left out)."""
        if region is None:
            return np.nanmean(self.s, axis=(1, 2))
        if self.x is None or self.y is None:
            raise ValueError("a region needs the map's coordinates x_m and y_m in the file")
        xmin, xmax, ymin, ymax = region
        inside = np.outer((self.x >= xmin) & (self.x <= xmax), (self.y >= ymin) & (self.y <= ymax))
        if not inside.any():
            raise ValueError(f"the region {region} (m) holds no map point")
        return np.nanmean(self.s[:, inside], axis=1)


def run_defaults(folder: pathlib.Path) -> dict:
    """Film thickness and sensing depth (m) from a run folder's config.toml, if there is one."""
    path = pathlib.Path(folder) / "config.toml"
    if not path.is_file():
        return {}
    config = tomllib.loads(path.read_text())
    return {"thickness": config["film"]["thickness"], "sensing_depth": config["vacancies"]["sensing_depth"]}


def analyse(maps: pathlib.Path, outdir: pathlib.Path, *, thickness: float | None = None,
            sensing_depth: float | None = None, region=None, reference=None) -> dict:
    """S(t) and the fitted D of a map series; writes decay.json, decay.csv and decay.png in ``outdir``.

    Args:
        maps: A run folder or an .npz file (:meth:`MapSeries.load`).
        outdir: Output folder (created).
        thickness: Film thickness h, m (default: the run's).
        sensing_depth: d_s, m (default: the run's).
        region: (xmin, xmax, ymin, ymax) of the poled region, m; None: the whole map.
        reference: The same for a pristine reference region, subtracted; None: none.

    Raises:
        ValueError: If the maps, the region or the lengths are missing or unusable.
    """
    maps = pathlib.Path(maps)
    if not maps.exists():
        raise ValueError(f"{maps}: no such file or folder")
    defaults = run_defaults(maps) if maps.is_dir() else {}
    thickness = thickness or defaults.get("thickness")
    sensing_depth = sensing_depth or defaults.get("sensing_depth")
    if thickness is None or sensing_depth is None:
        raise ValueError("give the film thickness (--thickness, m) and the probe's sensing depth "
                         "(--sensing-depth, m): the maps are not a flexotip run's")
    if not 0.0 < sensing_depth < thickness:
        raise ValueError(f"sensing depth {sensing_depth:g} m: must lie between 0 and the film thickness "
                         f"{thickness:g} m")
    series = MapSeries.load(maps)
    contrast = series.mean(region) - (series.mean(reference) if reference is not None else 0.0)
    fit = fit_decay(series.t, contrast, thickness, sensing_depth)
    relaxed = fit.relaxed(series.t, contrast)
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    result = fit.summary() | {"maps": str(maps), "region_m": region, "reference_m": reference,
                              "definition": "S(t) = 1 - [ds(t) - ds(inf)] / [ds(0) - ds(inf)]"}
    with staged(outdir / "decay.json") as target:
        target.write_text(json.dumps(result, indent=1) + "\n")
    table = np.c_[series.t, contrast, relaxed, fit.model(series.t), 1.0 - (fit.model(series.t) - fit.level)
                  / fit.amplitude]
    with staged(outdir / "decay.csv") as target:
        np.savetxt(target, table, delimiter=",", header="t_s,contrast,S,contrast_fit,S_fit", comments="")
    plot(outdir / "decay.png", series.t, relaxed, fit)
    error = f" ± {fit.diffusivity_stderr:.3g}" if fit.diffusivity_stderr is not None else ""
    log.info("S(t) of %d maps: D = %.4g%s m²/s, poled depth δ = %.3g nm", series.t.size, fit.diffusivity,
             error, fit.depth * 1e9)
    return result


def plot(path: pathlib.Path, t: np.ndarray, relaxed: np.ndarray, fit: DecayFit) -> None:
    """decay.png: S(t) of the maps and of the fit, against log t."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
    positive = t > 0
    fine = np.geomspace(t[positive].min(), t.max(), 200)
    ax.semilogx(t[positive], relaxed[positive], "o", ms=4, label="maps")
    ax.semilogx(fine, 1.0 - relaxed_fraction_shape(fine, fit.diffusivity, fit.depth, fit.thickness,
                                                   fit.sensing_depth), "-",
                label=f"Fick, D = {fit.diffusivity:.3g} m²/s, δ = {fit.depth * 1e9:.3g} nm")
    ax.set(xlabel="t (s)", ylabel="S(t), degree of equilibrium", ylim=(-0.05, 1.05))
    ax.legend(fontsize=8)
    with staged(path) as target:
        fig.savefig(target, dpi=130)
    plt.close(fig)
