"""Mirror-symmetric cosine/sine series of fields in a box, on a cell-centred grid.

The box 0 ≤ x_a ≤ L_a (a = x, y, z) with n_a equal cells per axis. A field that is even
about both walls of axis a is a cosine series in x_a, one that is odd is a sine series:

    f = Σ_m A_m·T(k_m x)·…,  T = cos or sin,  k_m = m·π/L,  0 ≤ m < n.

Every field of the physics has one such parity per axis, which we write as the set of
its *sine axes*: a scalar (φ, c, ε_ii) has none; u_i and P_i are odd in x_i (zero normal
component on the walls: rollers, P_n = 0); ε_ij (i ≠ j) is odd in x_i and x_j. A
derivative ∂/∂x_a toggles axis a: ∂ cos(k x) = −k·sin(k x), ∂ sin(k x) = +k·cos(k x).

At the cell centres x_i = (i + ½)·L/n the cosine modes m = 0 … n−1 are the DCT-II kernel
and the sine modes m = 1 … n the DST-II kernel. Both parities are kept on the same index
range m = 0 … n−1, the sine amplitude of m = 0 being zero (sin 0 = 0) and the sine mode
m = n (the grid's Nyquist mode) dropped, so that differentiation maps amplitude arrays of
one shape onto each other, index for index. Products of fields are formed on the grid
(pseudo-spectral) and transformed back.

Lengths in m, wavenumbers in 1/m; amplitudes carry the unit of the field.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.fft

from flexotip.spectral.grid import check_positive

MIN_CELLS = 2
"""Fewest cells (modes) per axis."""

Parity = frozenset
"""The sine axes of a field: a frozenset of axis indices 0, 1, 2."""

SCALAR = frozenset()
VECTOR = (frozenset({0}), frozenset({1}), frozenset({2}))
"""Parities of the components of u and P (odd in their own axis)."""


def tensor_parity(i: int, j: int) -> frozenset:
    """Parity of the symmetric tensor component (i, j): sine axes {i} Δ {j}."""
    return frozenset({i}) ^ frozenset({j})


@dataclasses.dataclass(frozen=True)
class Box:
    """The box 0 ≤ x_a ≤ lengths[a] (m) with shape[a] cells per axis.

    Raises:
        ValueError: If a length is not positive or an axis has fewer than ``MIN_CELLS`` cells.
    """

    lengths: tuple[float, float, float]
    shape: tuple[int, int, int]

    def __post_init__(self):
        if len(self.lengths) != 3 or len(self.shape) != 3:
            raise ValueError(f"lengths = {self.lengths!r}, shape = {self.shape!r}: three entries each")
        for axis, (length, n) in enumerate(zip(self.lengths, self.shape, strict=True)):
            check_positive(f"lengths[{axis}]", length)
            if not isinstance(n, int | np.integer) or n < MIN_CELLS:
                raise ValueError(f"shape[{axis}] = {n!r}: the number of cells per axis must be an "
                                 f"integer ≥ {MIN_CELLS}")

    @property
    def volume(self) -> float:
        """L_x·L_y·L_z, m³."""
        return math.prod(self.lengths)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The 1D cell-centre coordinates per axis, m."""
        return tuple((np.arange(n) + 0.5) * length / n for length, n in zip(self.lengths, self.shape,
                                                                              strict=True))

    def points(self) -> np.ndarray:
        """All cell centres, shape (n_x·n_y·n_z, 3), m, in the C order of the grid arrays."""
        grids = np.meshgrid(*self.cell_centres(), indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1)

    def wavenumbers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """k_m = m·π/L_a, m = 0 … n_a − 1, per axis, 1/m."""
        return tuple(np.arange(n) * math.pi / length for length, n in zip(self.lengths, self.shape,
                                                                            strict=True))

    def wavevectors(self) -> np.ndarray:
        """The wavevector of every mode, shape (3, n_x, n_y, n_z), 1/m."""
        return np.stack(np.meshgrid(*self.wavenumbers(), indexing="ij"))

    def active(self, parity: frozenset) -> np.ndarray:
        """Mask of the modes that exist for a field of ``parity`` (sine axes need m ≥ 1)."""
        mask = np.ones(self.shape, dtype=bool)
        for axis in parity:
            index = [slice(None)] * 3
            index[axis] = 0
            mask[tuple(index)] = False
        return mask

    def sample(self, function) -> np.ndarray:
        """``function(x, y, z)`` (arrays, m) at the cell centres, shape ``shape``."""
        return np.asarray(function(*np.meshgrid(*self.cell_centres(), indexing="ij")), dtype=float)


def forward(values: np.ndarray, parity: frozenset, axes: tuple[int, ...] = (0, 1, 2)) -> np.ndarray:
    """Amplitudes A_m of the series with sine axes ``parity`` from cell-centre values.

    Exact for fields made of the series' modes; for others it is the discrete projection
    (DCT-II / DST-II), the sine Nyquist mode dropped. ``axes``: the array axes that carry
    the series (e.g. (−2, −1) for in-plane series over leading axes); ``parity`` names
    its sine axes the same way.
    """
    amplitudes = np.asarray(values, dtype=float)
    for axis in axes:
        n = amplitudes.shape[axis]
        if axis in parity:
            transformed = scipy.fft.dst(amplitudes, type=2, axis=axis) / n
            # DST-II output j is the mode m = j + 1: shift up, drop m = n, m = 0 is zero.
            transformed = np.roll(transformed, 1, axis=axis)
            np.moveaxis(transformed, axis, 0)[0] = 0.0
        else:
            transformed = scipy.fft.dct(amplitudes, type=2, axis=axis) / n
            np.moveaxis(transformed, axis, 0)[0] /= 2
        amplitudes = transformed
    return amplitudes


def inverse(amplitudes: np.ndarray, parity: frozenset, axes: tuple[int, ...] = (0, 1, 2)) -> np.ndarray:
    """Values at the cell centres of the series with sine axes ``parity`` (inverse of :func:`forward`)."""
    values = np.asarray(amplitudes, dtype=float)
    for axis in axes:
        c = np.moveaxis(values, axis, 0) / 2
        if axis in parity:
            # DST-III sums x_j·sin(π(j + 1)(2i + 1)/(2n)), j = 0 … n−1: mode m = j + 1.
            shifted = np.concatenate([c[1:], np.zeros_like(c[:1])])
            summed = scipy.fft.dst(shifted, type=3, axis=0)
        else:
            c = c.copy()
            c[0] *= 2
            summed = scipy.fft.dct(c, type=3, axis=0)
        values = np.moveaxis(summed, 0, axis)
    return values


def derivative(amplitudes: np.ndarray, parity: frozenset, axis: int,
               box: Box) -> tuple[np.ndarray, frozenset]:
    """Amplitudes and parity of ∂f/∂x_axis (unit of f per m)."""
    k = box.wavenumbers()[axis]
    shape = [1, 1, 1]
    shape[axis] = -1
    factor = (k if axis in parity else -k).reshape(shape)
    return amplitudes * factor, parity ^ {axis}


def gradient_on_grid(amplitudes: np.ndarray, parity: frozenset, box: Box) -> np.ndarray:
    """∇f at the cell centres, shape (3, …), unit of f per m."""
    return np.stack([inverse(*derivative(amplitudes, parity, axis, box)) for axis in range(3)])


def divergence(flux_on_grid: np.ndarray, box: Box) -> np.ndarray:
    """Amplitudes (scalar parity) of ∇·F for a vector field F given at the cell centres.

    F_a must have the parity of a vector component (odd in x_a): zero normal flux on the walls.
    """
    total = np.zeros(box.shape)
    for axis in range(3):
        amplitudes = forward(flux_on_grid[axis], VECTOR[axis])
        total += derivative(amplitudes, VECTOR[axis], axis, box)[0]
    return total
