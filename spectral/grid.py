"""The film box, its cell-centred grid, and surface loads as cosine-series amplitudes.

The box x_min ≤ x ≤ x_max, y_min ≤ y ≤ y_max, −H ≤ z ≤ 0 (z up) has roller walls,
which are mirror planes: a load on the top is the cosine series

    p(x, y) = Σ c_mn·cos(k_m ξ)·cos(k_n η),  ξ = x − x_min, η = y − y_min,
    k_m = m·π/L_x, k_n = n·π/L_y,  0 ≤ m < n_x, 0 ≤ n < n_y,

with one mode per cell of an n_x × n_y grid of equal cells centred at
x_i = x_min + (i + 1/2)·L_x/n_x. There cos(k_m ξ_i) = cos(π·m·(2i + 1)/(2·n_x)), the
DCT-II kernel: ``scipy.fft.dctn(type=2)`` takes cell-centre samples to amplitudes, and
DCT-III / DST-III (``type=3``) sum a cosine / sine series back on the grid. A
node-based grid that includes the walls would call for the DCT-I instead.

Three ways to get the amplitudes of a load, in increasing accuracy for loads with a
sharp edge (the Hertz pressure has a square-root edge, so all converge algebraically):

* point samples at the cell centres (:func:`cosine_coefficients`);
* cell averages (:func:`axisymmetric_samples` with ``subsamples`` > 1, then
  ``cosine_coefficients(..., cell_averages=True)``), which divides out the sinc factor
  that averaging over a cell puts on each mode;
* the exact amplitudes of an axisymmetric load from its 2D Fourier transform
  (:func:`axisymmetric_coefficients`, e.g. with :func:`hertz_transform`): no sampling
  error at all, only the truncation of the series.

Lengths in m, wavenumbers in 1/m, pressures in Pa, forces in N.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import scipy.fft

from flexotip import analytic

MIN_MODES = 2
"""Fewest cosine modes (grid cells) per direction."""


def check_positive(name: str, value: float, unit: str = "m") -> None:
    """Raise ValueError naming ``name`` unless ``value`` is finite and > 0."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} = {value!r} {unit}: must be finite and > 0")


def check_modes(nx: int, ny: int) -> None:
    """Raise ValueError unless nx and ny are integers ≥ ``MIN_MODES``."""
    for name, n in (("nx", nx), ("ny", ny)):
        if not isinstance(n, int | np.integer) or n < MIN_MODES:
            raise ValueError(f"{name} = {n!r}: the number of cells (cosine modes) per direction "
                             f"must be an integer ≥ {MIN_MODES}")


@dataclasses.dataclass(frozen=True)
class FilmBox:
    """The box x_min ≤ x ≤ x_max, y_min ≤ y ≤ y_max, −thickness ≤ z ≤ 0, all in m.

    Raises:
        ValueError: If a bound is not finite, a side is not positive, or the thickness
            is not positive.
    """

    x_min: float
    x_max: float
    y_min: float
    y_max: float
    thickness: float

    def __post_init__(self):
        for name in ("x_min", "x_max", "y_min", "y_max"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"{name} = {value!r} m: must be finite")
        check_positive("thickness", self.thickness)
        for axis, low, high in (("x", self.x_min, self.x_max), ("y", self.y_min, self.y_max)):
            if not high > low:
                raise ValueError(f"{axis}_max = {high!r} m: must be > {axis}_min = {low!r} m")

    @classmethod
    def centred(cls, half_width: float, thickness: float) -> FilmBox:
        """The box −W ≤ x, y ≤ W of half-width W (m) and thickness H (m)."""
        check_positive("half_width", half_width)
        return cls(-half_width, half_width, -half_width, half_width, thickness)

    @classmethod
    def quarter(cls, half_width: float, thickness: float) -> FilmBox:
        """The quarter 0 ≤ x, y ≤ W of the centred box (m): exact for loads even in x and y."""
        check_positive("half_width", half_width)
        return cls(0.0, half_width, 0.0, half_width, thickness)

    @property
    def lengths(self) -> tuple[float, float]:
        """(L_x, L_y), m."""
        return self.x_max - self.x_min, self.y_max - self.y_min

    def cell_centres(self, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
        """Centres of an nx × ny grid: x, shape (nx,), and y, shape (ny,), m."""
        check_modes(nx, ny)
        Lx, Ly = self.lengths
        return (self.x_min + (np.arange(nx) + 0.5) * Lx / nx,
                self.y_min + (np.arange(ny) + 0.5) * Ly / ny)

    def wavenumbers(self, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
        """k_m = m·π/L_x (shape (nx,)) and k_n = n·π/L_y (shape (ny,)), 1/m."""
        check_modes(nx, ny)
        Lx, Ly = self.lengths
        return np.arange(nx) * math.pi / Lx, np.arange(ny) * math.pi / Ly


def cosine_coefficients(samples: np.ndarray, cell_averages: bool = False) -> np.ndarray:
    """Amplitudes c_mn of Σ c_mn·cos(k_m ξ)·cos(k_n η) from values on the cell-centred grid.

    Args:
        samples: Values at the cell centres, or cell averages, shape (nx, ny), any unit.
        cell_averages: True if ``samples`` are cell averages: the average of
            cos(k_m ξ) over a cell is cos(k_m ξ_i)·sinc(m/(2·nx)) (sinc(t) = sin(πt)/(πt)),
            which is divided out, exactly for loads made of the grid's modes.

    Returns:
        The amplitudes, shape (nx, ny), in the unit of ``samples``; c_00 is the mean.
    """
    samples = np.asarray(samples, dtype=float)
    coefficients = scipy.fft.dctn(samples, type=2) / samples.size
    coefficients[0, :] /= 2
    coefficients[:, 0] /= 2
    if cell_averages:
        nx, ny = samples.shape
        coefficients /= np.outer(np.sinc(np.arange(nx) / (2 * nx)), np.sinc(np.arange(ny) / (2 * ny)))
    return coefficients


def sum_series(coefficients: np.ndarray, axis: int, kind: str) -> np.ndarray:
    """Σ_m c_m·cos(k_m ξ_i) (``kind`` "cos") or Σ_m c_m·sin(k_m ξ_i) ("sin") at the cell centres.

    Args:
        coefficients: Amplitudes c_m along ``axis`` (any other axes are carried along).
        axis: The axis of the modes m.
        kind: "cos" (DCT-III) or "sin" (DST-III; the m = 0 term is zero).

    Returns:
        Values at the cell centres, the shape of ``coefficients``.
    """
    c = np.moveaxis(np.asarray(coefficients, dtype=float), axis, 0) / 2
    if kind == "cos":
        c[0] *= 2
        values = scipy.fft.dct(c, type=3, axis=0)
    else:
        # DST-III sums x_j·sin(π(j + 1)(2i + 1)/(2N)) for j = 0 … N−1: shift m = j + 1; the
        # top mode m = N is not in the series.
        values = scipy.fft.dst(np.concatenate([c[1:], np.zeros_like(c[:1])]), type=3, axis=0)
    return np.moveaxis(values, 0, axis)


def hertz_pressure(r: np.ndarray, force: float, contact_radius: float) -> np.ndarray:
    """Hertz pressure p0·sqrt(1 − r²/a²) for r ≤ a, zero outside, Pa (r, a in m; F in N)."""
    p0 = analytic.hertz_peak_pressure(force, contact_radius)
    return p0 * np.sqrt(np.clip(1.0 - (np.asarray(r) / contact_radius) ** 2, 0.0, None))


def hertz_transform(wavenumber: np.ndarray, force: float, contact_radius: float) -> np.ndarray:
    """2D Fourier transform ∫p(r)·exp(−i k·x) dA of the Hertz pressure, N.

    Equal to 2π∫p(r)·J0(K·r)·r dr = 3F·(sin q − q·cos q)/q³ with q = K·a (a series
    near q = 0, where it tends to F).

    Args:
        wavenumber: K = |k|, 1/m.
        force: Total force F, N.
        contact_radius: a, m.
    """
    q = np.asarray(wavenumber, dtype=float) * contact_radius
    small = q < 1e-2
    qs = np.where(small, 1.0, q)
    exact = (np.sin(qs) - qs * np.cos(qs)) / qs**3
    return 3 * force * np.where(small, 1 / 3 - q**2 / 30 + q**4 / 840, exact)


def _wall_weight(name: str, centre: float, low: float, high: float, reach: float) -> float:
    """Share of an even load about ``centre`` inside [low, high]: 1, or 1/2 on a wall."""
    tolerance = 1e-12 * (high - low)
    on_wall = math.isclose(centre, low, abs_tol=tolerance) or math.isclose(centre, high, abs_tol=tolerance)
    inside = reach <= high - low if on_wall else low + reach <= centre <= high - reach
    if not inside:
        raise ValueError(f"centre {name} = {centre!r} m with support_radius = {reach!r} m: the load "
                         f"must lie inside {low!r} ≤ {name} ≤ {high!r} m or be centred on a wall")
    return 0.5 if on_wall else 1.0


def axisymmetric_coefficients(box: FilmBox, shape: tuple[int, int],
                              transform: Callable[[np.ndarray], np.ndarray],
                              support_radius: float,
                              centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Exact cosine amplitudes (Pa) of an axisymmetric load p(r) about ``centre``.

    c_mn = ε_m·ε_n·w_x·w_y·cos(k_m ξ0)·cos(k_n η0)·P̂(K_mn)/(L_x·L_y), with ε_0 = 1,
    ε_m>0 = 2, P̂ the 2D Fourier transform of p, and w = 1/2 for a centre on a wall (the
    box then carries that share of the load, as a symmetry-reduced FEM model does), else 1.

    Args:
        box: The box, m.
        shape: (nx, ny) modes.
        transform: K (1/m) → P̂(K) (N), e.g. a closure over :func:`hertz_transform`.
        support_radius: Radius outside which p = 0, m.
        centre: (x0, y0) of the load axis, m.

    Raises:
        ValueError: If the load crosses a wall that does not pass through its centre.
    """
    check_positive("support_radius", support_radius)
    weight = (_wall_weight("x", centre[0], box.x_min, box.x_max, support_radius)
              * _wall_weight("y", centre[1], box.y_min, box.y_max, support_radius))
    kx, ky = box.wavenumbers(*shape)
    Lx, Ly = box.lengths
    phase_x = np.where(kx == 0, 1.0, 2.0) * np.cos(kx * (centre[0] - box.x_min))
    phase_y = np.where(ky == 0, 1.0, 2.0) * np.cos(ky * (centre[1] - box.y_min))
    spectrum = transform(np.hypot(kx[:, None], ky[None, :]))
    return weight * np.outer(phase_x, phase_y) * spectrum / (Lx * Ly)


def axisymmetric_samples(box: FilmBox, shape: tuple[int, int],
                         profile: Callable[[np.ndarray], np.ndarray],
                         centre: tuple[float, float] = (0.0, 0.0), subsamples: int = 1) -> np.ndarray:
    """An axisymmetric load p(r) about ``centre`` on the cell-centred grid, Pa.

    Args:
        box: The box, m.
        shape: (nx, ny) cells.
        profile: r (m, array) → p(r) (Pa, array).
        centre: (x0, y0) of the load axis, m.
        subsamples: 1 for the values at the cell centres; s > 1 for cell averages over
            s × s points (then pass ``cell_averages=True`` to :func:`cosine_coefficients`
            or :func:`flexotip.spectral.elasticity.solve_pressure`).

    Returns:
        Shape (nx, ny).
    """
    if not isinstance(subsamples, int) or subsamples < 1:
        raise ValueError(f"subsamples = {subsamples!r}: must be an integer ≥ 1")
    nx, ny = shape
    x, y = box.cell_centres(nx, ny)
    Lx, Ly = box.lengths
    offsets = (np.arange(subsamples) + 0.5) / subsamples - 0.5
    ys = (y[:, None] + offsets * Ly / ny).ravel() - centre[1]
    total = np.zeros((nx, ny))
    for offset in offsets:  # one row of subsamples at a time bounds the memory
        xs = x + offset * Lx / nx - centre[0]
        total += profile(np.hypot(xs[:, None], ys[None, :])).reshape(nx, ny, subsamples).mean(axis=2)
    return total / subsamples
