"""PETSc options as data: each solver's fixed prefix and its defaults.

A run's options are a solver's defaults overlaid with the user's ``[solve] petsc_options``
(:func:`petsc_options`). Every problem has a fixed options prefix, the same on all ranks,
so any option can also be set on the command line (``-flexotip_mech_ksp_monitor``).
Every default sets ``ksp_error_if_not_converged`` (and ``snes_error_if_not_converged``):
no solve fails silently.
"""

from __future__ import annotations

MECHANICS_PREFIX = "flexotip_mech_"


def _gamg(prefix: str, threshold: float) -> dict:
    """One smoothed-aggregation AMG cycle (Chebyshev/Jacobi smoothing) under ``prefix``."""
    return {f"{prefix}ksp_type": "preonly", f"{prefix}pc_type": "gamg",
            f"{prefix}pc_gamg_threshold": threshold,
            f"{prefix}mg_levels_ksp_type": "chebyshev", f"{prefix}mg_levels_pc_type": "jacobi",
            f"{prefix}mg_levels_esteig_ksp_type": "cg"}


ITERATIVE_ELASTICITY = {
    **_gamg("", 0.01),
    "ksp_type": "cg",
    "ksp_rtol": 1.0e-9,
    "ksp_max_it": 1000,
    "pc_gamg_type": "agg",
    "pc_gamg_agg_nsmooths": 1,
    "pc_gamg_coarse_eq_limit": 1000,
    "ksp_error_if_not_converged": True,
}
"""CG preconditioned by smoothed-aggregation AMG with the rigid-body near-nullspace."""

DIRECT = {
    "ksp_type": "preonly",
    "pc_type": "lu",
    "pc_factor_mat_solver_type": "mumps",
    "ksp_error_if_not_converged": True,
}
"""LU factorisation with MUMPS."""

LINEAR_SOLVERS = {"iterative": ITERATIVE_ELASTICITY, "direct": DIRECT}

CONTACT_PREFIX = "flexotip_contact_"

NEWTON = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "l2",
    "snes_rtol": 1.0e-9,
    "snes_atol": 1.0e-8,
    "snes_stol": 0.0,
    "snes_max_it": 50,
    "snes_error_if_not_converged": True,
}
"""Semismooth Newton (the contact residual is piecewise smooth) with the l2 line search,
which keeps a first step from overshooting the contact set (11 instead of 21 Newton steps
for a Hertz contact started from the Hertz pressure solution)."""


ELECTROMECHANICS_PREFIX = "flexotip_em_"

ELECTROMECHANICS = {
    **DIRECT,
    **NEWTON,
    "snes_linesearch_type": "bt",
    "snes_rtol": 1.0e-10,
    "snes_atol": 1.0e-9,
    "snes_stol": 1.0e-12,
    "snes_max_it": 30,
    "snes_lag_preconditioner": 100,
    "ksp_type": "gmres",
    "ksp_gmres_restart": 100,
    "ksp_rtol": 1.0e-10,
    "ksp_atol": 1.0e-14,
    "ksp_max_it": 100,
}
"""Newton on the monolithic (u, P, φ) system with MUMPS: a symmetric indefinite saddle
point (φ enters the energy with a minus sign). Linear without electrostriction and with
the linear Landau energy: then one Newton step is the solve. The absolute (1e-9, in nN
of the scaled residual) and step (1e-12) tolerances end the iteration at the round-off floor
(~1e-12) when a TDGL step starts close to its solution.

The LU factors of the first Newton step's Jacobian precondition GMRES on the later
steps' Jacobians (``snes_lag_preconditioner``; each solve factorises afresh). Only
electrostriction changes the Jacobian, so GMRES needs ~5 iterations per step and Newton
takes the same steps as with a new factorisation each time: on a layered quarter box
(156,058 dofs, 2 ranks) 48 s instead of 106 s (docs/performance.md)."""


ELECTROMECHANICS_BLOCK = {
    **NEWTON,
    "snes_linesearch_type": "bt",
    "snes_rtol": 1.0e-10,
    "snes_atol": 1.0e-9,
    "snes_stol": 1.0e-12,
    "snes_max_it": 30,
    "ksp_type": "fgmres",
    "ksp_gmres_restart": 200,
    "ksp_rtol": 1.0e-10,
    "ksp_max_it": 2000,
    "ksp_error_if_not_converged": True,
    "pc_type": "python",
    **_gamg("block_u_", 0.01),
    **_gamg("block_P_", 0.02),
    **_gamg("block_S_", 0.02),
}
"""FGMRES on the (u, P, φ) system preconditioned by
:class:`flexotip.fem.preconditioners.ElectromechanicalPreconditioner`: a block
Gauss–Seidel sweep u → (P, φ), the (P, φ) pair by its Schur factorisation that eliminates
P; one GAMG cycle for each of u (rigid-body near-nullspace), P and the potential's
approximate Schur complement. The aggregation thresholds (0.02 on the Schur complement,
whose stencil is the distance-2 one of B·D⁻¹·Bᵀ, and on P) are the measured best on the
paper's sphere (docs/performance.md, "How the preconditioner was found")."""


NERNST_PLANCK_PREFIX = "flexotip_np_"

NERNST_PLANCK = {
    **DIRECT,
    **NEWTON,
    "snes_linesearch_type": "basic",
    "snes_rtol": 1.0e-12,
    "snes_stol": 1.0e-14,
    "snes_max_it": 25,
}
"""Newton with MUMPS on the vacancies' log-density step (:mod:`flexotip.fem.vacancies`),
full steps. Where the density is tiny (the tail of a profile) a full Newton update of ln c
can overshoot until exp overflows; such a step is retried with the backtracking line
search, which is not the default because it stops with DIVERGED_LINE_SEARCH at the
round-off floor. The absolute tolerance is set per step from the conservation target: the
sum of the residual's rows is the mass error of the step. The step tolerance (1e-14) only
ends an iteration that has reached the round-off floor, which happens for very long steps,
where L²/(D·Δt) makes the target tiny."""


APPLIED_POTENTIAL_PREFIX = "flexotip_phi_"
"""Laplace solve of the tip bias alone (:func:`flexotip.fem.coupled.applied_potential`)."""


def petsc_options(defaults: dict, overrides: dict | None = None) -> dict:
    """A copy of ``defaults`` overlaid with ``overrides`` (the user's options win)."""
    return {**defaults, **(overrides or {})}
