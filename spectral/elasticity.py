"""Spectral solution of a cubic-elastic film/substrate box under a surface pressure.

The box x_min ≤ x ≤ x_max, y_min ≤ y ≤ y_max, −H ≤ z ≤ 0 (z up, film top at z = 0;
:class:`~flexotip.spectral.grid.FilmBox`) is one homogeneous cubic material (film and
substrate alike) with crystal axes x, y, z. Its bottom is clamped, its lateral walls
are on rollers (zero normal displacement and tangential traction) and its top carries
the traction σ·e_z = (0, 0, −p(x, y)), p ≥ 0 pushing down.

Roller walls are mirror planes, so the box is one cell of a mirror-periodic medium and
the displacement is exactly the series

    u_x = Σ U_mn(z)·sin(k_m ξ)·cos(k_n η),  u_y = Σ V_mn(z)·cos(k_m ξ)·sin(k_n η),
    u_z = Σ W_mn(z)·cos(k_m ξ)·cos(k_n η),

(ξ = x − x_min, η = y − y_min, k_m = m·π/L_x, k_n = n·π/L_y), whose terms each satisfy
u_n = 0 and zero shear traction on the walls. With cubic axes along x, y, z the Navier
equations map each term onto itself, so every mode (m, n) is an independent problem in
z, solved exactly by :mod:`flexotip.spectral.layer`; the amplitudes of the pressure
come from :mod:`flexotip.spectral.grid`. The stresses follow from the same amplitudes:

    σ_xx, σ_yy, σ_zz ∝ cos·cos,  σ_yz ∝ cos·sin,  σ_xz ∝ sin·cos,  σ_xy ∝ sin·sin.

This is written from the equations, independently of the finite-element forms of
:mod:`flexotip.fem`; it shares only the elastic constants. Everything is in SI units.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flexotip.materials import VOIGT_NAMES, CubicElasticity
from flexotip.spectral.grid import FilmBox, check_modes, cosine_coefficients, sum_series
from flexotip.spectral.layer import LayerModes, layer_modes

VOIGT = VOIGT_NAMES
"""Order of the stress components returned (Voigt)."""

DISPLACEMENT = ("u_x", "u_y", "u_z")

PARITY = {"u_x": ("sin", "cos"), "u_y": ("cos", "sin"), "u_z": ("cos", "cos"),
          "xx": ("cos", "cos"), "yy": ("cos", "cos"), "zz": ("cos", "cos"),
          "yz": ("cos", "sin"), "xz": ("sin", "cos"), "xy": ("sin", "sin")}
"""Trigonometric factor in x and in y of each displacement and stress component."""


@dataclasses.dataclass(frozen=True)
class FilmSolution:
    """Spectral solution of the box under one pressure; build it with :func:`solve_modes`.

    Attributes:
        elasticity: Elastic constants, Pa.
        box: The box, m.
        pressure_modes: Cosine amplitudes c_mn of the pressure, Pa, shape (nx, ny).
        modes: The per-mode layer solution (the (nx, ny) modes flattened, row-major).
    """

    elasticity: CubicElasticity
    box: FilmBox
    pressure_modes: np.ndarray
    modes: LayerModes

    @property
    def shape(self) -> tuple[int, int]:
        """(nx, ny): cosine modes per direction (the grid's cells)."""
        return self.pressure_modes.shape

    @property
    def force(self) -> float:
        """Total force of the pressure on the box top, ∫p dA, N."""
        Lx, Ly = self.box.lengths
        return float(self.pressure_modes[0, 0] * Lx * Ly)

    def with_pressure(self, pressure_modes: np.ndarray) -> FilmSolution:
        """The solution under other pressure amplitudes (Pa, same shape), reusing the modes."""
        pressure_modes = np.asarray(pressure_modes, dtype=float)
        if pressure_modes.shape != self.shape:
            raise ValueError(f"pressure_modes.shape = {pressure_modes.shape}: must be {self.shape}")
        return dataclasses.replace(self, pressure_modes=pressure_modes)

    def coefficients(self, z: float) -> dict[str, np.ndarray]:
        """Series amplitudes of u (m) and σ (Pa) in the plane z, shape (nx, ny) each.

        Args:
            z: Height of the plane, m, −H ≤ z ≤ 0.

        Returns:
            Amplitudes keyed "u_x", "u_y", "u_z" and the Voigt names of ``VOIGT``; their
            trigonometric factors are given by ``PARITY``.
        """
        profiles = self.modes.profiles(z)
        nx, ny = self.shape
        kx = self.modes.kx.reshape(nx, ny)
        ky = self.modes.ky.reshape(nx, ny)
        p = self.pressure_modes

        def field(array: np.ndarray, component: int) -> np.ndarray:
            return array[:, component].reshape(nx, ny) * p

        U, V, W = (field(profiles.displacement, i) for i in range(3))
        dW_dz = field(profiles.slope, 2)
        c11, c12, c44 = self.elasticity.c11, self.elasticity.c12, self.elasticity.c44
        return {
            "u_x": U, "u_y": V, "u_z": W,
            "xx": c11 * kx * U + c12 * ky * V + c12 * dW_dz,
            "yy": c12 * kx * U + c11 * ky * V + c12 * dW_dz,
            "zz": field(profiles.traction, 2),
            "yz": field(profiles.traction, 1),
            "xz": field(profiles.traction, 0),
            "xy": -c44 * (ky * U + kx * V),
        }

    def _on_grid(self, z: float, names: tuple[str, ...]) -> np.ndarray:
        coefficients = self.coefficients(z)
        return np.stack([sum_series(sum_series(coefficients[name], 0, PARITY[name][0]), 1,
                                    PARITY[name][1]) for name in names])

    def displacement(self, z: float = 0.0) -> np.ndarray:
        """(u_x, u_y, u_z) at the cell centres of the plane z, m, shape (3, nx, ny).

        Args:
            z: Height of the plane, m, −H ≤ z ≤ 0.
        """
        return self._on_grid(z, DISPLACEMENT)

    def stress(self, z: float = 0.0) -> np.ndarray:
        """Stress in Voigt order (xx, yy, zz, yz, xz, xy) at the cell centres of the plane z, Pa.

        Args:
            z: Height of the plane, m, −H ≤ z ≤ 0.

        Returns:
            Shape (6, nx, ny).
        """
        return self._on_grid(z, VOIGT)

    def _at_points(self, x: np.ndarray, y: np.ndarray, z: float,
                   names: tuple[str, ...]) -> np.ndarray:
        x, y = np.broadcast_arrays(np.atleast_1d(np.asarray(x, dtype=float)),
                                   np.atleast_1d(np.asarray(y, dtype=float)))
        box = self.box
        for axis, values, low, high in (("x", x, box.x_min, box.x_max), ("y", y, box.y_min, box.y_max)):
            slack = 1e-12 * (high - low)
            if np.any(values < low - slack) or np.any(values > high + slack):
                raise ValueError(f"{axis} = {values.min():.6g} … {values.max():.6g} m: points must "
                                 f"lie in the box, {low:.6g} ≤ {axis} ≤ {high:.6g} m")
        kx, ky = box.wavenumbers(*self.shape)
        phase_x = np.outer(x - box.x_min, kx)
        phase_y = np.outer(y - box.y_min, ky)
        basis = {("x", "cos"): np.cos(phase_x), ("x", "sin"): np.sin(phase_x),
                 ("y", "cos"): np.cos(phase_y), ("y", "sin"): np.sin(phase_y)}
        coefficients = self.coefficients(z)
        return np.stack([np.sum((basis["x", PARITY[name][0]] @ coefficients[name])
                                * basis["y", PARITY[name][1]], axis=1) for name in names], axis=1)

    def displacement_at(self, x: np.ndarray, y: np.ndarray, z: float = 0.0) -> np.ndarray:
        """(u_x, u_y, u_z) at arbitrary points (x, y) of the plane z, m, shape (n, 3).

        The series is summed term by term (cost n·nx·ny).

        Args:
            x: x of the points, m, shape (n,).
            y: y of the points, m, shape (n,).
            z: Height of the plane, m, −H ≤ z ≤ 0.
        """
        return self._at_points(x, y, z, DISPLACEMENT)

    def fields_at(self, x: np.ndarray, y: np.ndarray, z: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Displacement (n, 3), m, and stress (n, 6, Voigt), Pa, at points of the plane z.

        One evaluation of the depth profiles for both (they dominate the cost).
        """
        values = self._at_points(x, y, z, DISPLACEMENT + VOIGT)
        return values[:, :3], values[:, 3:]

    def stress_at(self, x: np.ndarray, y: np.ndarray, z: float = 0.0) -> np.ndarray:
        """Stress (Voigt order xx, yy, zz, yz, xz, xy) at points (x, y) of the plane z, Pa.

        Args:
            x: x of the points, m, shape (n,).
            y: y of the points, m, shape (n,).
            z: Height of the plane, m, −H ≤ z ≤ 0.

        Returns:
            Shape (n, 6).
        """
        return self._at_points(x, y, z, VOIGT)


def solve_modes(elasticity: CubicElasticity, box: FilmBox, pressure_modes: np.ndarray) -> FilmSolution:
    """Solve the box under a pressure given by its cosine amplitudes.

    Args:
        elasticity: Cubic elastic constants, Pa (crystal axes = x, y, z).
        box: The box, m.
        pressure_modes: Amplitudes c_mn of p = Σ c_mn·cos(k_m ξ)·cos(k_n η), Pa, shape
            (nx, ny) with nx, ny ≥ ``grid.MIN_MODES`` (see :mod:`flexotip.spectral.grid`).

    Returns:
        The solution; evaluate it with its methods.

    Raises:
        ValueError: On too few modes, non-finite amplitudes or unstable elastic constants.
    """
    pressure_modes = _checked_grid("pressure_modes", pressure_modes)
    kx, ky = box.wavenumbers(*pressure_modes.shape)
    KX, KY = np.meshgrid(kx, ky, indexing="ij")
    modes = layer_modes(elasticity, KX.ravel(), KY.ravel(), box.thickness)
    return FilmSolution(elasticity, box, pressure_modes, modes)


def solve_pressure(elasticity: CubicElasticity, box: FilmBox, pressure: np.ndarray,
                   cell_averages: bool = False) -> FilmSolution:
    """Solve the box under a pressure given on the cell-centred grid.

    Args:
        elasticity: Cubic elastic constants, Pa (crystal axes = x, y, z).
        box: The box, m.
        pressure: p ≥ 0 (pushing down) at ``box.cell_centres(nx, ny)``, or its cell
            averages, Pa, shape (nx, ny); one cosine mode per cell.
        cell_averages: True if ``pressure`` holds cell averages (see
            :func:`flexotip.spectral.grid.cosine_coefficients`).

    Returns:
        The solution; evaluate it with its methods.

    Raises:
        ValueError: On too few cells, non-finite pressures or unstable elastic constants.
    """
    pressure = _checked_grid("pressure", pressure)
    return solve_modes(elasticity, box, cosine_coefficients(pressure, cell_averages))


def _checked_grid(name: str, values: np.ndarray) -> np.ndarray:
    """``values`` as a finite (nx, ny) float array with enough modes, else a ValueError naming it."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"{name}.shape = {values.shape}: must be (nx, ny), one value per cell or mode")
    check_modes(*values.shape)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name}: contains non-finite values; all must be finite (Pa)")
    return values
