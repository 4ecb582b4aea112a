"""Spectral solution of the flexoelectric (u, P, φ) problem in a mirror-walled box.

The box (:class:`~flexotip.spectral.series.Box`) is one homogeneous cubic crystal with
axes x, y, z, with mirror walls on all six faces: u_n = 0 and zero tangential traction
(rollers), P_n = 0 and zero gradient flux of the tangential P, zero normal D (∂φ/∂n = 0
with P_n = 0). Each field is then one cosine/sine series (:mod:`flexotip.spectral.series`),
and the linear part of the equations maps every mode onto itself.

Equations (docs/model.md, written here from them; z up, E = −∇φ):

    ∂_j σ_ij = 0,  σ_ij = C_ijmn·(ε_mn − ε⁰_mn) − f_ijkl·∂_l P_k,
    2α1·P_k − G-term + f_ijkl·∂_l ε_ij + ∂_k φ [+ Landau and electrostriction terms] = 0,
    ∇·(ε0·κ_b·∇φ) = ∇·P − ρ,

with an eigenstrain ε⁰ = e(x)·I + Q:P⊗P (a prescribed dilatation e, e.g. a chemical
expansion, plus electrostriction) and a space charge ρ. In the exponential basis
e^{i k·x} (∂_j → i·k_j) one mode obeys the Hermitian 7×7 system

    [ Γ_C     −Φ       0    ] [u]   [−i·k_j·C_ijmn·ε̂⁰_mn]
    [ −Φᵀ   2α1 + Γ_G   i·k  ] [P] = [ −N̂(P)              ]
    [ 0      −i·kᵀ    −ε·|k|²] [φ]   [ −ρ̂                 ]

with the acoustic tensor Γ_C,im = C_ijmn·k_j·k_n, the flexo tensor Φ_ik = f_ijkl·k_j·k_l,
the gradient tensor Γ_G and N(P) the nonlinear Landau and electrostrictive forces. A
field with s sine axes has the exponential amplitude A·(−i)^s of its real amplitude A, and
every equation has the parity of its unknown, so the system for the real cosine/sine
amplitudes is this one with that substitution (its solution is real up to round-off).
Modes where a component does not exist (a sine axis at m = 0) have it removed; the
uniform φ (k = 0) is set to zero, i.e. φ has zero mean.

The linear terms are implicit, N(P) is explicit: the steady state iterates (Picard) on
N, and the time-dependent Ginzburg–Landau equation ∂P/∂t = −L·δF/δP takes the
semi-implicit Fourier step of Chen & Shen (Comput. Phys. Commun. 108, 147 (1998)),
(P̂ⁿ⁺¹ − P̂ⁿ)/(L·Δt) = −(linear)·P̂ⁿ⁺¹ − N̂(Pⁿ), with u and φ slaved (quasi-static). For the
linear paraelectric both are exact in the modes: the TDGL fixed point is the direct solve.

Everything at the interface is SI; inside, the modes are assembled in the scaled units of
:class:`flexotip.units.Scales` (nm, GPa, C/m², V), which keeps each 7×7 block O(1).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flexotip.materials import VOIGT_INDEX, VOIGT_PAIRS, CubicElasticity, ElectromechanicalMaterial
from flexotip.spectral.pointwise import LocalTerms
from flexotip.spectral.series import SCALAR, VECTOR, Box, derivative, forward, inverse, tensor_parity
from flexotip.units import EPSILON_0, Scales

UNKNOWNS = ("u_x", "u_y", "u_z", "P_x", "P_y", "P_z", "phi")
PARITIES = (*VECTOR, *VECTOR, SCALAR)
"""Sine axes of the seven unknowns."""

PICARD_RTOL = 1e-12
PICARD_MAX_ITERATIONS = 100


@dataclasses.dataclass(frozen=True)
class Fields:
    """Real cosine/sine amplitudes of the unknowns (scaled units), shape (7, n_x, n_y, n_z)."""

    amplitudes: np.ndarray
    box: Box
    scales: Scales

    def on_grid(self) -> dict[str, np.ndarray]:
        """The fields at the cell centres: u (m), P (C/m²) of shape (3, …), φ (V) of shape (…)."""
        values = np.stack([inverse(a, parity) for a, parity in zip(self.amplitudes, PARITIES, strict=True)])
        s = self.scales
        return {"displacement": values[:3] * s.length, "polarization": values[3:6] * s.polarization,
                "potential": values[6] * s.potential}

    def strain_on_grid(self) -> np.ndarray:
        """ε in Voigt order (xx, yy, zz, yz, xz, xy), tensor shear, at the cell centres, shape (6, …)."""
        return np.stack([inverse(a, p) for a, p in _strain_amplitudes(self.amplitudes[:3], self.box,
                                                                     self.scales)])


class BoxElectromechanics:
    """The (u, P, φ) problem of one material in one box; solve it with :meth:`solve`.

    Args:
        box: The box and its grid (m).
        elasticity: Cubic elastic constants, Pa (crystal axes x, y, z).
        material: Electromechanical constants (SI); None for elasticity alone (P = φ = 0).
        scales: Scales of the internal units.
    """

    def __init__(self, box: Box, elasticity: CubicElasticity, material: ElectromechanicalMaterial | None,
                 scales: Scales | None = None):
        self.box, self.elasticity, self.material = box, elasticity, material
        self.scales = scales = scales or Scales()
        k = box.wavevectors() * scales.length
        self.k = k
        self._operator = _mode_operator(k, elasticity, material, scales)
        self._phase = np.array([(-1j) ** len(parity) for parity in PARITIES])
        self._active = np.stack([box.active(parity) for parity in PARITIES])
        self._active[6, 0, 0, 0] = False  # the mean of φ
        self._inverse_cache: dict[float, np.ndarray] = {}
        self._local = LocalTerms.of(elasticity, material, scales)

    # -- the linear solve ------------------------------------------------------------------
    def _inverse(self, drag: float) -> np.ndarray:
        """Per-mode inverse of the operator with ``drag`` added on the P block, (…, 7, 7)."""
        if drag not in self._inverse_cache:
            M = np.moveaxis(self._operator, (0, 1), (-2, -1)).copy()
            diagonal = np.arange(7)
            M[..., diagonal[3:6], diagonal[3:6]] += drag
            active = np.moveaxis(self._active, 0, -1)
            M = np.where(active[..., :, None] & active[..., None, :], M, 0.0)
            M[..., diagonal, diagonal] = np.where(active, M[..., diagonal, diagonal], 1.0)
            # Jacobi scaling keeps the inversion accurate across the very different blocks.
            scale = 1.0 / np.sqrt(np.abs(M[..., diagonal, diagonal]))
            scaled = scale[..., :, None] * M * scale[..., None, :]
            self._inverse_cache[drag] = scale[..., :, None] * np.linalg.inv(scaled) * scale[..., None, :]
        return self._inverse_cache[drag]

    def _apply(self, inverse_operator: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """Real amplitudes (7, …) from real right-hand-side amplitudes (7, …)."""
        phase = self._phase.reshape(7, 1, 1, 1)
        complex_rhs = np.moveaxis(rhs * phase, 0, -1)
        solution = np.einsum("...ij,...j->...i", inverse_operator, complex_rhs)
        solution = np.moveaxis(solution, -1, 0) / phase
        return np.where(self._active, solution.real, 0.0)

    def _rhs(self, dilatation: np.ndarray | None, charge: np.ndarray | None,
             amplitudes: np.ndarray | None) -> np.ndarray:
        """Right-hand-side amplitudes (7, …), scaled: the eigenstrain's force, −N(P), −ρ.

        ``amplitudes``: the current iterate, from which the nonlinear terms are taken
        (electrostriction and the full Landau energy), or None to leave them out.
        """
        s, box = self.scales, self.box
        rhs = np.zeros((7, *box.shape))
        eigenstrain = np.zeros((6, *box.shape))  # Voigt, tensor shear, on the grid
        if dilatation is not None:
            eigenstrain[:3] += np.asarray(dilatation, dtype=float)
        if amplitudes is not None and self._local.nonlinear:
            P = np.stack([inverse(a, VECTOR[k]) for k, a in enumerate(amplitudes[3:6])])
            eigenstrain += self._local.electrostrictive_strain(P)
            strain = np.stack([inverse(a, p) for a, p in _strain_amplitudes(amplitudes[:3], box, s)])
            force = self._local.force(P, self._local.stress(strain - eigenstrain))
            for k in range(3):
                rhs[3 + k] -= forward(force[k], VECTOR[k])
        if np.any(eigenstrain):
            stress = self._local.stress(eigenstrain)  # C:ε⁰ on the grid
            for i in range(3):  # the eigenstrain's body force ∂_j (C:ε⁰)_ij (scaled)
                for j in range(3):
                    parity = tensor_parity(i, j)
                    transformed = forward(stress[VOIGT_INDEX[i, j]], parity)
                    rhs[i] -= derivative(transformed, parity, j, box)[0] * s.length
        if charge is not None:
            rhs[6] -= forward(np.asarray(charge, dtype=float) / s.charge_density, SCALAR)
        return rhs

    # -- public solves ---------------------------------------------------------------------
    def solve(self, dilatation: np.ndarray | None = None, charge: np.ndarray | None = None) -> Fields:
        """The steady state under a dilatation e(x) (ε⁰ = e·I) and a space charge ρ (C/m³).

        Both are given at the cell centres (shape ``box.shape``) or None. The linear
        problem is one solve per mode; with the full Landau energy or electrostriction
        the nonlinear terms are iterated (Picard) until the amplitudes change by less
        than ``PICARD_RTOL`` relative.

        Raises:
            RuntimeError: If the Picard iteration does not converge.
        """
        inverse_operator = self._inverse(0.0)
        amplitudes = self._apply(inverse_operator, self._rhs(dilatation, charge, None))
        if not self._local.nonlinear:
            return Fields(amplitudes, self.box, self.scales)
        for _ in range(PICARD_MAX_ITERATIONS):
            updated = self._apply(inverse_operator, self._rhs(dilatation, charge, amplitudes))
            change = np.max(np.abs(updated - amplitudes)) / max(np.max(np.abs(updated)), 1e-300)
            amplitudes = updated
            if change < PICARD_RTOL:
                return Fields(amplitudes, self.box, self.scales)
        raise RuntimeError(f"spectral electromechanics: Picard iteration on the nonlinear terms did not "
                           f"converge in {PICARD_MAX_ITERATIONS} iterations (last change {change:.2e})")

    def relax(self, mobility: float, dt: float, steps: int, dilatation: np.ndarray | None = None,
              charge: np.ndarray | None = None, initial: Fields | None = None) -> tuple[Fields, np.ndarray]:
        """Semi-implicit TDGL: ``steps`` steps of Δt = ``dt`` s with kinetic coefficient L.

        Args:
            mobility: Kinetic coefficient L, C²/(J·m·s) (1/(2·L·α1) is the relaxation time).
            dt: Step, s.
            steps: Number of steps.
            dilatation: As in :meth:`solve`.
            charge: As in :meth:`solve`.
            initial: Start (P is taken from it); default P = 0.

        Returns:
            The fields after the last step, and max |ΔP| per step (C/m²), shape (steps,).
        """
        if self.material is None:
            raise ValueError("relax: needs an electromechanical material (P is not solved without one)")
        s = self.scales
        drag = 1.0 / (mobility * dt * s.stress / s.polarization**2)
        inverse_operator = self._inverse(drag)
        amplitudes = initial.amplitudes.copy() if initial is not None else np.zeros((7, *self.box.shape))
        changes = np.empty(steps)
        linear_rhs = None if self._local.nonlinear else self._rhs(dilatation, charge, None)
        for step in range(steps):
            if linear_rhs is None:
                rhs = self._rhs(dilatation, charge, amplitudes)
            else:
                rhs = linear_rhs.copy()
            rhs[3:6] += drag * amplitudes[3:6]
            updated = self._apply(inverse_operator, rhs)
            changes[step] = np.max(np.abs(updated[3:6] - amplitudes[3:6])) * s.polarization
            amplitudes = updated
        return Fields(amplitudes, self.box, self.scales), changes


def _strain_amplitudes(u: np.ndarray, box: Box, scales: Scales) -> list[tuple[np.ndarray, frozenset]]:
    """(amplitudes, parity) of ε in Voigt order (tensor shear) from scaled u amplitudes."""
    result = []
    for i, j in VOIGT_PAIRS:
        a, parity = derivative(u[i], VECTOR[i], j, box)
        b, _ = derivative(u[j], VECTOR[j], i, box)
        result.append((0.5 * (a + b) * scales.length, parity))
    return result


def _mode_operator(k: np.ndarray, elasticity: CubicElasticity, material: ElectromechanicalMaterial | None,
                   scales: Scales) -> np.ndarray:
    """The Hermitian 7×7 mode operator (scaled), shape (7, 7, n_x, n_y, n_z), complex."""
    s = scales
    c11, c12, c44 = (c / s.stress for c in (elasticity.c11, elasticity.c12, elasticity.c44))
    k2 = k**2
    ksq = k2.sum(axis=0)
    M = np.zeros((7, 7, *k.shape[1:]), dtype=complex)
    for i in range(3):
        M[i, i] = c11 * k2[i] + c44 * (ksq - k2[i])
        for m in range(3):
            if m != i:
                M[i, m] = (c12 + c44) * k[i] * k[m]
    if material is None:  # P and φ decoupled and zero: identity rows keep the system regular
        for i in range(3, 7):
            M[i, i] = 1.0
        return M
    f_on = 1.0 if material.flexoelectric else 0.0
    f11, f12, f44 = (f_on * f / s.potential for f in (material.f11, material.f12, material.f44))
    G11, G12, G44 = (g * s.polarization**2 / (s.length**2 * s.stress)
                     for g in (material.G11, material.G12, material.G44))
    alpha1 = material.alpha1 * s.polarization**2 / s.stress
    permittivity = EPSILON_0 * material.eps_background / s.permittivity
    anisotropy = f11 - f12 - 2 * f44
    for i in range(3):
        for m in range(3):
            # Φ_im = f_ijml·k_j·k_l = f12·k_i·k_m + f44·(δ_im·|k|² + k_i·k_m) + anisotropy·δ_im·k_i²
            flexo = (f12 + f44) * k[i] * k[m] + (f44 * ksq + anisotropy * k2[i] if i == m else 0.0)
            M[i, 3 + m] = -flexo
            M[3 + m, i] = -flexo
            if i == m:
                M[3 + i, 3 + i] = 2 * alpha1 + G11 * k2[i] + G44 * (ksq - k2[i])
            else:
                M[3 + i, 3 + m] = G12 * k[i] * k[m]
        M[3 + i, 6] = 1j * k[i]
        M[6, 3 + i] = -1j * k[i]
    M[6, 6] = -permittivity * ksq
    return M
