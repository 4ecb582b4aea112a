"""Electrostriction, the full Landau energy and the semi-implicit TDGL step for the polarised film.

The film/substrate problem of :mod:`flexotip.spectral.film_electromechanics` (cosine/sine series
in-plane, graded Gauss–Lobatto elements in z, the linear energy W = ½·gᵀ·Q·g) with the
nonlinear energy density of docs/model.md added in the film:

    f_nl = ½(ε − ε⁰):C:(ε − ε⁰) − ½ε:C:ε  [= −ε:C:ε⁰ + ½ε⁰:C:ε⁰],   ε⁰ = Q:P⊗P
         + α11·ΣP_i⁴ + α12·Σ_{i<j}P_i²P_j²                           (landau = "full")

(electrostrictive eigenstrain in the tensor-shear convention ε⁰_23 = Q44·P2·P3, as in the
FEM's constants). Its derivatives are the generalised forces

    ∂f_nl/∂P_k = −σ:∂ε⁰/∂P_k + 4α11·P_k³ + 2α12·P_k·(|P|² − P_k²),  σ = C:(ε − ε⁰),
    ∂f_nl/∂(∂_j u_i) = τ_ij = −(C:ε⁰)_ij,

which are evaluated pseudo-spectrally: the fields are synthesised on the cell-centred
in-plane grid (DCT-III/DST-III by parity) at the Gauss points of the film's elements,
the forces formed there (:mod:`flexotip.spectral.pointwise`, as in the box solver) and
projected back onto the modes (DCT-II/DST-II). By the
discrete orthogonality of the cell-centred series, the projected forces are the exact
gradient of the nonlinear energy summed over the grid and the Gauss points, divided by
each mode's in-plane weight ∫T_m² dx·∫T_n² dy (the test checks it against a finite
difference of that energy). For mode (m, n) and real amplitudes y (node-major, 7 fields)

    K(k)·y = f_p − r(y),   r_{P_k, i} = Σ_q w_q·N_i(z_q)·[∂f_nl/∂P_k]^_mn(z_q),
    r_{u_i, i} = Σ_q w_q·(N_i(z_q)·Σ_{j=x,y} d_j·τ̂_ij + N_i'(z_q)·τ̂_iz),

with f_p the pressure on the top and d_j = ±k_j the factor that differentiates u_i's
series along j. K(k) here is the real form diag(conj φ)·K_complex·diag(φ) of the
Hermitian per-mode matrix of film_electromechanics (φ = (−i)^s, s the field's sine axes).

* :meth:`FilmDynamics.solve`: the steady state, Picard iteration on r (one banded LU per
  mode, reused);
* :meth:`FilmDynamics.relax`: the time-dependent Ginzburg–Landau equation ∂P/∂t = −L·δF/δP
  with u and φ slaved (quasi-static), the linear part implicit and r explicit,

      (K + d·M_PP)·yⁿ⁺¹ = f_p + d·M_PP·yⁿ − r(yⁿ),   d = 1/(L·Δt) + S,

  M_PP the z mass matrix on the P dofs, S ≥ 0 an optional stabilisation (J·m/C²). The
  per-mode banded LU of the left side (LAPACK dgbtrf) is factorised once per d and
  cached (or, for problems whose factors do not fit in memory, in every step). Its fixed
  point is the steady state, whatever Δt and S; S keeps large steps stable where the
  explicit electrostrictive force stiffens P more than 2α1 (under a sharp tip, see
  :meth:`FilmDynamics.relax`).

SI at the interface; inside, the scaled units of :class:`flexotip.units.Scales`.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg.lapack
import scipy.sparse

from flexotip.materials import VOIGT_INDEX, VOIGT_PAIRS
from flexotip.spectral import series
from flexotip.spectral.film_electromechanics import (
    N_FIELDS,
    PARITY,
    SINE_AXES,
    FilmElectromechanics,
    FilmFields,
    assemble_bands,
    hold_band_dofs,
)
from flexotip.spectral.pointwise import LocalTerms

PICARD_RTOL = 1e-12
PICARD_MAX_ITERATIONS = 200

IN_PLANE = (-2, -1)
"""The array axes of the in-plane modes (m, n) in amplitude and grid arrays."""


def _sine_axes(parity: tuple[int, int]) -> frozenset:
    """The in-plane sine axes of a field with (sin in x, sin in y) = ``parity``, as array axes."""
    return frozenset(axis for axis, sine in zip(IN_PLANE, parity, strict=True) if sine)


def to_grid(amplitudes: np.ndarray, parity: tuple[int, int]) -> np.ndarray:
    """Values at the in-plane cell centres of a series with (sin in x, sin in y) = ``parity``.

    ``amplitudes`` (…, n_x, n_y): the last two axes are the modes m, n (the sine mode m
    sits at index m, its index 0 is zero, as in :mod:`flexotip.spectral.series`).
    """
    return series.inverse(amplitudes, _sine_axes(parity), IN_PLANE)


def to_modes(values: np.ndarray, parity: tuple[int, int]) -> np.ndarray:
    """Amplitudes of a series of ``parity`` from cell-centre values (inverse of :func:`to_grid`)."""
    return series.forward(values, _sine_axes(parity), IN_PLANE)


def _toggle(parity: tuple[int, int], axis: int) -> tuple[int, int]:
    """Parity of the derivative along ``axis`` (0 = x, 1 = y toggle; 2 = z keeps it)."""
    return tuple(p ^ (axis == a) for a, p in enumerate(parity))


class FilmDynamics:
    """Steady state (Picard) and semi-implicit TDGL of the film with the nonlinear terms.

    Args:
        film: The linear film problem (mesh, band matrices, box, material, scales).
        shape: (n_x, n_y) in-plane modes, which is also the in-plane grid of the
            pseudo-spectral products.
        cache_factors: Keep every mode's LU (per Δt; (3·bw + 1)·n doubles a mode, see
            :attr:`factor_bytes`), or factorise each mode again in every solve (for
            problems whose factors do not fit in memory).
    """

    def __init__(self, film: FilmElectromechanics, shape: tuple[int, int], cache_factors: bool = True):
        self.film, self.shape, self.cache_factors = film, tuple(shape), cache_factors
        s, m = film.scales, film.material
        kx, ky = film.box.wavenumbers(*shape)
        self.kx, self.ky = kx * s.length, ky * s.length
        self.n, self.bw = film.n_dofs, film.bandwidth
        self._monomials = self._real_bands()
        mass_Q = np.zeros((4 * N_FIELDS, 4 * N_FIELDS))
        mass_Q[3:6, 3:6] = np.eye(3)
        self._mass = assemble_bands(film.mesh, mass_Q, np.zeros_like(mass_Q), self.bw)[0][2]
        self._quadrature()
        self.local = LocalTerms.of(film.elasticity, m, s)
        self.nonlinear = self.local.nonlinear
        self._factors: dict[float, list] = {}
        self._held: dict[tuple[bool, bool], np.ndarray] = {}

    # -- the linear per-mode matrices ------------------------------------------------------
    def _real_bands(self) -> dict[tuple[int, int], np.ndarray]:
        """K(k) = Σ k_x^a·k_y^b·B_ab for real amplitudes: the bands B_ab by (a, b)."""
        bw, n = self.bw, self.n
        exponent = np.array([0, 1, 1, 0])  # s_a = i^e·k: value, ∂x → i·kx, ∂y → i·ky, ∂z
        sine = np.array(SINE_AXES)
        columns = np.arange(n)[None, :]
        col_field = np.broadcast_to(columns % N_FIELDS, (2 * bw + 1, n))
        row_field = (columns + np.arange(2 * bw + 1)[:, None] - bw) % N_FIELDS
        bands: dict[tuple[int, int], np.ndarray] = {}
        for a, b, band in self.film.bands:
            # conj(s_a)·s_b·conj(φ_i)·φ_j = i^(e_b − e_a + s_i − s_j)·(k powers)
            power = (exponent[b] - exponent[a] + sine[row_field] - sine[col_field]) % 4
            unit = np.array([1.0, 1j, -1.0, -1j])[power]
            if np.abs(unit.imag * band).max() > 1e-13 * np.abs(band).max():
                raise RuntimeError("spectral film: a mode matrix is not real in the cosine/sine basis")
            key = (int(a == 1) + int(b == 1), int(a == 2) + int(b == 2))
            bands[key] = bands.get(key, 0.0) + unit.real * band
        return bands

    def mode_band(self, m: int, q: int) -> np.ndarray:
        """The real per-mode matrix K of mode (m, q) in band storage (2·bw + 1, n), scaled."""
        kx, ky = self.kx[m], self.ky[q]
        return sum(kx**a * ky**b * band for (a, b), band in self._monomials.items())

    def held(self, m: int, q: int) -> np.ndarray:
        """Dofs held at zero in mode (m, q): Dirichlet dofs, and sine components of a zero mode."""
        key = (bool(self.kx[m] == 0), bool(self.ky[q] == 0))
        if key not in self._held:
            self._held[key] = self.film.held_dofs(*key)
        return self._held[key]

    def _factor_mode(self, m: int, q: int, drag: float) -> tuple[np.ndarray, np.ndarray]:
        """The banded LU (dgbtrf) of K + drag·M_PP of mode (m, q) with its held dofs."""
        bw = self.bw
        storage = np.zeros((3 * bw + 1, self.n))
        storage[bw:] = self.mode_band(m, q) + drag * self._mass
        hold_band_dofs(storage[bw:], self.held(m, q), bw)
        lu, pivots, info = scipy.linalg.lapack.dgbtrf(storage, bw, bw, overwrite_ab=1)
        if info != 0:
            raise RuntimeError(f"spectral film: mode ({m}, {q}) is singular (dgbtrf info {info})")
        return lu, pivots

    def _factors_of(self, drag: float):
        """The factorisations of every mode in C order: cached per drag, or made on the fly."""
        if drag in self._factors:
            return self._factors[drag]
        factors = (self._factor_mode(m, q, drag) for m in range(self.shape[0]) for q in range(self.shape[1]))
        if not self.cache_factors:
            return factors
        self._factors[drag] = list(factors)
        return self._factors[drag]

    def drag(self, mobility: float, dt: float) -> float:
        """1/(L·Δt) in scaled units (the weight of M_PP in the TDGL step); L in C²/(J·m·s), Δt in s."""
        s = self.film.scales
        return 1.0 / (mobility * dt * s.stress / s.polarization**2)

    def factorise(self, mobility: float, dt: float, stabilisation: float = 0.0) -> None:
        """Factorise every mode for the TDGL step Δt (s) now (a no-op without the cache)."""
        if self.cache_factors:
            s = self.film.scales
            self._factors_of(self.drag(mobility, dt) + stabilisation * s.polarization**2 / s.stress)

    @property
    def factor_bytes(self) -> int:
        """Memory held by the cached factorisations, bytes."""
        return sum(lu.nbytes + pivots.nbytes for factors in self._factors.values() for lu, pivots in factors)

    def _solve_modes(self, drag: float, rhs: np.ndarray) -> np.ndarray:
        """Amplitudes (n_x, n_y, n_nodes, 7) of (K + drag·M_PP)·y = rhs (same shape), mode by mode."""
        ny = self.shape[1]
        result = np.empty_like(rhs)
        for index, (lu, pivots) in enumerate(self._factors_of(drag)):
            m, q = divmod(index, ny)
            b = rhs[m, q].reshape(-1).copy()
            b[self.held(m, q)] = 0.0
            x, _ = scipy.linalg.lapack.dgbtrs(lu, self.bw, self.bw, b, pivots)
            result[m, q] = x.reshape(-1, N_FIELDS)
        return result

    def pressure_rhs(self, pressure_modes: np.ndarray) -> np.ndarray:
        """Right-hand sides (n_x, n_y, n_nodes, 7) of the top pressure (amplitudes in Pa)."""
        rhs = np.zeros((*self.shape, self.film.mesh.n_nodes, N_FIELDS))
        rhs[:, :, -1, 2] = -np.asarray(pressure_modes, dtype=float) / self.film.scales.stress
        return rhs

    # -- the nonlinear terms, pseudo-spectrally --------------------------------------------
    def _quadrature(self) -> None:
        """Gauss points of the film's elements: basis values/slopes (sparse) and weights."""
        mesh = self.film.mesh
        _, points, weights, (values, slopes) = mesh.reference()
        rows, cols, v, d, w, z = [], [], [], [], [], []
        for e in np.flatnonzero(mesh.film):
            a, b = mesh.edges[e], mesh.edges[e + 1]
            jacobian = (b - a) / 2
            first = len(w)
            for q in range(len(points)):
                rows += [first + q] * (mesh.degree + 1)
                cols += list(range(e * mesh.degree, e * mesh.degree + mesh.degree + 1))
                v += list(values[q])
                d += list(slopes[q] / jacobian)
                w.append(weights[q] * jacobian)
                z.append(a + (points[q] + 1) * jacobian)
        shape = (len(w), mesh.n_nodes)
        self.basis = scipy.sparse.csr_array((v, (rows, cols)), shape=shape)
        self.basis_dz = scipy.sparse.csr_array((d, (rows, cols)), shape=shape)
        self.weights, self.points = np.array(w), np.array(z)

    def _in_plane_factor(self, field: int, axis: int) -> np.ndarray:
        """d_axis: the amplitude factor of ∂_axis on field's series (+k on a sine axis, −k on a cosine)."""
        k = self.kx[:, None] if axis == 0 else self.ky[None, :]
        return k if PARITY[field][axis] else -k

    def at_points(self, amplitudes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P (3, n_q, n_x, n_y) and ε (6, Voigt, tensor shear) on the grid at the film's Gauss points."""
        nx, ny = self.shape
        nodal = np.moveaxis(amplitudes, 2, 0).reshape(amplitudes.shape[2], -1)
        values = (self.basis @ nodal).reshape(-1, nx, ny, N_FIELDS)
        slopes = (self.basis_dz @ nodal).reshape(-1, nx, ny, N_FIELDS)
        P = np.stack([to_grid(values[..., 3 + k], PARITY[3 + k]) for k in range(3)])

        def gradient(i: int, j: int) -> np.ndarray:  # amplitudes of ∂_j u_i
            return slopes[..., i] if j == 2 else self._in_plane_factor(i, j) * values[..., i]

        strain = np.stack([to_grid(0.5 * (gradient(i, j) + gradient(j, i)), _toggle(PARITY[i], j))
                           for i, j in VOIGT_PAIRS])
        return P, strain

    def forces(self, P: np.ndarray, strain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """∂f_nl/∂P (3, …) and τ = ∂f_nl/∂ε = −C:ε⁰ (6, Voigt) on the grid, scaled."""
        local = self.local
        eigen = local.electrostrictive_strain(P)
        return local.force(P, local.stress(strain - eigen)), -local.stress(eigen)

    def nonlinear_rhs(self, amplitudes: np.ndarray) -> np.ndarray:
        """−r(y): the nonlinear forces of the state as right-hand sides (n_x, n_y, n_nodes, 7)."""
        return self._project(*self.forces(*self.at_points(amplitudes)))

    def _project(self, force: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """−r from ∂f_nl/∂P (3, n_q, n_x, n_y) and τ (6, Voigt) on the grid at the Gauss points."""
        nx, ny = self.shape
        on_values = np.zeros((len(self.weights), nx, ny, N_FIELDS))
        on_slopes = np.zeros_like(on_values)
        for k in range(3):
            on_values[..., 3 + k] = to_modes(force[k], PARITY[3 + k])
        projections = {}  # τ_ij and τ_ji: one component, one parity
        for i in range(3):
            for j in range(3):
                if VOIGT_INDEX[i, j] not in projections:
                    projections[VOIGT_INDEX[i, j]] = to_modes(tau[VOIGT_INDEX[i, j]], _toggle(PARITY[i], j))
                projected = projections[VOIGT_INDEX[i, j]]
                if j == 2:
                    on_slopes[..., i] = projected
                else:
                    on_values[..., i] += self._in_plane_factor(i, j) * projected
        w = self.weights[:, None]
        rhs = -(self.basis.T @ (w * on_values.reshape(len(w), -1))
                + self.basis_dz.T @ (w * on_slopes.reshape(len(w), -1)))
        return np.moveaxis(rhs.reshape(-1, nx, ny, N_FIELDS), 0, 2)

    # -- solves ----------------------------------------------------------------------------
    def stiffening(self, amplitudes: np.ndarray) -> float:
        """The largest stiffening of the explicit electrostrictive force in the state, J·m/C² (SI).

        The largest eigenvalue, over the grid at the film's Gauss points, of
        −σ_ij·∂²ε⁰_ij/∂P_k∂P_l (σ = C:(ε − ε⁰)): the curvature that the explicit step
        misses. The step is stable for modes of linear stiffness λ when
        2·(1/(L·Δt) + S) + λ > it (S the stabilisation), see :meth:`relax`.
        """
        P, strain = self.at_points(amplitudes)
        local = self.local
        sigma = local.stress(strain - local.electrostrictive_strain(P))
        trace = sigma[:3].sum(axis=0)
        hessian = np.zeros((*trace.shape, 3, 3))
        for k in range(3):
            for m in range(3):
                hessian[..., k, m] = -2 * (local.q12 * trace + (local.q11 - local.q12) * sigma[k] if k == m
                                           else local.q44 * sigma[VOIGT_INDEX[k, m]])
        s = self.film.scales
        return float(np.linalg.eigvalsh(hessian)[..., -1].max()) * s.stress / s.polarization**2

    def solve(self, pressure_modes: np.ndarray, rtol: float = PICARD_RTOL,
              stabilisation: float = 0.0) -> tuple[FilmFields, int]:
        """The steady state under the pressure amplitudes (Pa, (n_x, n_y)) by Picard iteration.

        Each iteration solves (K + S·M_PP)·yⁿ⁺¹ = f_p − r(yⁿ) + S·M_PP·yⁿ, with the
        stabilisation S = ``stabilisation`` (J·m/C², SI; 0: plain Picard), which converges
        where the explicit force stiffens faster than the linear energy (see :meth:`relax`);
        the fixed point does not depend on S.

        Returns:
            The fields and the number of Picard iterations (0 for the linear problem).

        Raises:
            RuntimeError: If the amplitudes do not settle to ``rtol`` (relative, max norm)
                within ``PICARD_MAX_ITERATIONS``.
        """
        s = self.film.scales
        drag = stabilisation * s.polarization**2 / s.stress
        pressure = self.pressure_rhs(pressure_modes)
        amplitudes = self._solve_modes(drag, pressure)
        if not self.nonlinear:
            return self._fields(amplitudes), 0
        for iteration in range(1, PICARD_MAX_ITERATIONS + 1):
            rhs = pressure + self.nonlinear_rhs(amplitudes)
            if drag:
                rhs += drag * self._apply_mass(amplitudes)
            updated = self._solve_modes(drag, rhs)
            change = np.abs(updated - amplitudes).max() / max(np.abs(updated).max(), 1e-300)
            amplitudes = updated
            if change < rtol:
                return self._fields(amplitudes), iteration
        raise RuntimeError(f"spectral film: Picard iteration did not converge in {PICARD_MAX_ITERATIONS} "
                           f"iterations (last change {change:.2e})")

    def relax(self, pressure_modes: np.ndarray, mobility: float, dt: float, steps: int,
              initial: FilmFields | None = None, tolerance: float | None = None,
              stabilisation: float = 0.0) -> tuple[FilmFields, np.ndarray]:
        """Semi-implicit TDGL: up to ``steps`` steps of Δt = ``dt`` (s) with kinetic coefficient L.

        Each step solves (K + (1/(L·Δt) + S)·M_PP)·yⁿ⁺¹ = f_p − r(yⁿ) + (1/(L·Δt) + S)·M_PP·yⁿ.
        For a mode of linear stiffness λ whose explicit force stiffens by μ (see
        :meth:`stiffening`) the step multiplies its error by (d − μ)/(d + λ), d = 1/(L·Δt) + S:
        stable for 2d + λ > μ. Under a sharp tip μ (≈ 2·Q11·p0 under compression) can exceed
        2α1, and S ≈ μ/2 keeps large steps stable (the term is O(Δt): it slows the
        transient, the fixed point does not change).

        Args:
            pressure_modes: Cosine amplitudes of the top pressure, Pa, shape (n_x, n_y).
            mobility: L, C²/(J·m·s) (1/(2·L·α1) is the paraelectric relaxation time).
            dt: Step, s.
            steps: Most steps.
            initial: Start (its P is used; u and φ are slaved); default P = 0.
            tolerance: Stop once max|ΔP| of a step ≤ ``tolerance``·max|P| (on the grid at
                the film's Gauss points); None runs all steps.
            stabilisation: S, J·m/C² (SI).

        Returns:
            The fields, and max|ΔP| per step taken on the grid at the Gauss points (C/m²).
        """
        s = self.film.scales
        drag = self.drag(mobility, dt) + stabilisation * s.polarization**2 / s.stress
        pressure = self.pressure_rhs(pressure_modes)
        amplitudes = (initial.amplitudes.copy() if initial is not None
                      else np.zeros((*self.shape, self.film.mesh.n_nodes, N_FIELDS)))
        P, strain = self.at_points(amplitudes)
        changes = []
        for _ in range(steps):
            rhs = pressure + drag * self._apply_mass(amplitudes)
            if self.nonlinear:
                rhs += self._project(*self.forces(P, strain))
            amplitudes = self._solve_modes(drag, rhs)
            updated, strain = self.at_points(amplitudes)
            changes.append(np.abs(updated - P).max() * s.polarization)
            P = updated
            if tolerance is not None and changes[-1] <= tolerance * np.abs(P).max() * s.polarization:
                break
        return self._fields(amplitudes), np.array(changes)

    def _apply_mass(self, amplitudes: np.ndarray) -> np.ndarray:
        """M_PP·y for every mode (the mass band is the same for all), shape of ``amplitudes``."""
        nx, ny = self.shape
        y = np.moveaxis(amplitudes, (2, 3), (0, 1)).reshape(self.n, -1)  # dof-major
        result = np.zeros_like(y)
        for offset in range(-self.bw, self.bw + 1):  # entry (i, i + offset) at [bw − offset, i + offset]
            i = np.arange(max(0, -offset), min(self.n, self.n - offset))
            coefficient = self._mass[self.bw - offset, i + offset]
            if np.any(coefficient):
                result[i] += coefficient[:, None] * y[i + offset]
        return np.moveaxis(result.reshape(-1, N_FIELDS, nx, ny), (0, 1), (2, 3))

    def _fields(self, amplitudes: np.ndarray) -> FilmFields:
        return FilmFields(amplitudes, self.film.mesh, self.film.box, self.film.scales)
