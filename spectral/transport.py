"""Spectral Nernst–Planck transport of the vacancies in a mirror-walled box.

    ∂c/∂t = D·∇²c + D·∇·(c·∇ψ),  ψ = φ/V_T,  V_T = k_B·T/(z·e),

with zero normal flux on every wall (c is a cosine series in each axis, the flux a sine
series in its own axis: :mod:`flexotip.spectral.series`). The semi-implicit Fourier step
takes the diffusion implicitly and the drift explicitly, its divergence formed
pseudo-spectrally (c·∇ψ on the grid, transformed back):

    (1 + Δt·D·|k|²)·ĉⁿ⁺¹ = ĉⁿ + Δt·D·[∇·(cⁿ·∇ψ)]^.

The k = 0 amplitude (the mean) is untouched by either term: the total is conserved to
round-off. Explicit drift is stable for Δt·D·max|∇ψ|² < 2 and Δt·D·max|∇²ψ| < 1
(advection with implicit diffusion, and the reaction term c·∇²ψ): :func:`stable_step`.
This is a reference scheme for smooth fields; it does not guarantee c > 0 (the
finite-element scheme of :mod:`flexotip.fem.vacancies` does).

The steady state with blocking walls is Boltzmann's c = N·exp(−ψ), N fixed by the
total: :func:`boltzmann`, the "direct solve" that the time stepping must reach.

SI units: lengths in m, D in m²/s, times in s; c in any unit (c/c0, or 1/m³).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flexotip.spectral.series import SCALAR, Box, divergence, forward, gradient_on_grid, inverse


@dataclasses.dataclass(frozen=True)
class Relaxation:
    """The state after :func:`relax`.

    Attributes:
        density: c at the cell centres after the last step (unit of the initial c).
        totals: Grid mean of c after each step (the k = 0 amplitude), shape (steps,).
        changes: max |cⁿ⁺¹ − cⁿ| per step, shape (steps,).
    """

    density: np.ndarray
    totals: np.ndarray
    changes: np.ndarray


def stable_step(box: Box, diffusivity: float, reduced_potential: np.ndarray) -> float:
    """Largest Δt (s) of the explicit-drift stability bounds for ψ on the grid (see module doc)."""
    amplitudes = forward(reduced_potential, SCALAR)
    gradient = gradient_on_grid(amplitudes, SCALAR, box)
    laplacian = inverse(-amplitudes * _ksq(box), SCALAR)
    drift = diffusivity * np.max(np.sum(gradient**2, axis=0)) / 2
    reaction = diffusivity * np.max(np.abs(laplacian))
    return 1.0 / max(drift, reaction, 1e-300)


def relax(box: Box, diffusivity: float, reduced_potential: np.ndarray, initial: np.ndarray,
          dt: float, steps: int) -> Relaxation:
    """``steps`` semi-implicit steps of Δt = ``dt`` from c = ``initial``.

    Args:
        box: The box (m).
        diffusivity: D, m²/s.
        reduced_potential: ψ = φ/V_T at the cell centres (dimensionless), fixed in time.
        initial: c at the cell centres, any unit.
        dt: Step, s.
        steps: Number of steps.

    Raises:
        ValueError: If Δt exceeds :func:`stable_step`, naming both.
    """
    limit = stable_step(box, diffusivity, reduced_potential)
    if not 0 < dt <= limit:
        raise ValueError(f"dt = {dt!r} s: the explicit drift of the spectral Nernst–Planck step needs "
                         f"0 < dt ≤ {limit:.4g} s for this potential")
    drift_field = gradient_on_grid(forward(reduced_potential, SCALAR), SCALAR, box)
    implicit = 1.0 + dt * diffusivity * _ksq(box)
    amplitudes = forward(initial, SCALAR)
    density = np.asarray(initial, dtype=float)
    totals, changes = np.empty(steps), np.empty(steps)
    for step in range(steps):
        amplitudes = (amplitudes + dt * diffusivity * divergence(density * drift_field, box)) / implicit
        updated = inverse(amplitudes, SCALAR)
        changes[step] = np.max(np.abs(updated - density))
        totals[step] = amplitudes[0, 0, 0]
        density = updated
    return Relaxation(density, totals, changes)


def boltzmann(reduced_potential: np.ndarray, mean_density: float) -> np.ndarray:
    """The steady state N·exp(−ψ) on the grid, with grid mean ``mean_density``."""
    weights = np.exp(-(reduced_potential - np.min(reduced_potential)))
    return mean_density * weights / weights.mean()


def _ksq(box: Box) -> np.ndarray:
    return np.sum(box.wavevectors() ** 2, axis=0)
