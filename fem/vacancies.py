"""Oxygen-vacancy transport: Nernst–Planck in the logarithmic density.

The vacancy density is written c = c0·exp(w), with w = ln(c/c0) the unknown. The flux of
the Einstein-mobility Nernst–Planck equation is then a diffusion of the electrochemical
potential,

    J = −D·∇c − D·(z·e/(k_B·T))·c·∇φ = −D·c0·e^w·∇(w + φ/V_T),   V_T = k_B·T/(z·e),

and a backward-Euler step from w_old over Δt is, for every test function v,

    (L²/(D·Δt))·∫ (e^w − e^w_old)·v dx + ∫ e^w·∇(w + φ/V_T)·∇v dx = 0     (scaled: x in L)

with zero normal flux as the natural condition (blocking walls). This is the scheme:

* **positive** — c = c0·e^w > 0 whatever the Newton iterate, at any Péclet number (z·e·Δφ/k_BT
  reaches 10 and more under a tip, where Galerkin on c oscillates and goes negative);
* **conservative** — v = 1 makes the flux term vanish: ∫e^w dx after a step equals ∫e^w_old dx,
  up to the Newton residual (the same quadrature is used for the totals);
* **exact at equilibrium** — when w and φ share a Lagrange space, ∇(w + φ/V_T) = 0 solves the
  steady equations, and taking v = w + φ/V_T shows it is the only solution: the discrete steady
  state is the nodal Boltzmann distribution w = λ − φ/V_T on any mesh.

The price is a nonlinear (Newton) step, whose Jacobian is non-symmetric. The density is
carried in units of c0 inside the forms; every interface is SI.
"""

from __future__ import annotations

import logging
import math

import dolfinx.fem
import numpy as np
import ufl

from flexotip.errors import SolverError
from flexotip.fem import solver_options, solvers
from flexotip.fem.postprocess import assemble_scalar
from flexotip.materials import VacancyMaterial
from flexotip.units import Scales

log = logging.getLogger(__name__)


def quadrature_degree(degree: int) -> int:
    """Quadrature degree of every vacancy integral (e^w of a degree-k polynomial)."""
    return 2 * degree + 2


def nernst_planck_residual(w: dolfinx.fem.Function, w_old: dolfinx.fem.Function, phi,
                           time_weight: dolfinx.fem.Constant, thermal_voltage: float | dolfinx.fem.Constant,
                           dx: ufl.Measure, source=None) -> ufl.Form:
    """Backward-Euler residual of the log-density Nernst–Planck equation (see module doc).

    Args:
        w: ln(c/c0), the unknown.
        w_old: ln(c/c0) at the start of the step.
        phi: Electric potential (potential scale): a Function or UFL expression.
        time_weight: L²/(D·Δt) (dimensionless), 0 for the steady equations.
        thermal_voltage: V_T in the potential scale.
        dx: Measure of the region where the vacancies live (carries the quadrature degree).
        source: Optional production rate in c0·D/L² units (manufactured solutions).
    """
    v = ufl.TestFunction(w.function_space)
    electrochemical = w + phi / thermal_voltage
    F = (time_weight * (ufl.exp(w) - ufl.exp(w_old)) * v
         + ufl.exp(w) * ufl.inner(ufl.grad(electrochemical), ufl.grad(v))) * dx
    if source is not None:
        F -= source * v * dx
    return F


class NernstPlanck:
    """Backward-Euler steps of the log-density Nernst–Planck equation in a given potential.

    Args:
        w: ln(c/c0) (its value is the initial state), updated in place.
        phi: Potential (potential scale), a Function: read at each step, so a coupled
            driver may update it between steps.
        dx: Measure of the vacancy region (film), with :func:`quadrature_degree`.
        material: Vacancy constants (SI).
        scales: Unit scales.
        bcs: Dirichlet conditions on w: dofs off the vacancy region pinned (any value),
            and w = 0 on a surface in contact with the ambient (fixed density c0).
        options: PETSc options (defaults :data:`flexotip.fem.solver_options.NERNST_PLANCK`).
        conservation_rtol: Target of |Δ∫c|/∫c per step from the Newton residual alone.
        source: Optional production rate (manufactured solutions), see
            :func:`nernst_planck_residual`.
    """

    def __init__(self, w: dolfinx.fem.Function, phi, dx: ufl.Measure, material: VacancyMaterial,
                 scales: Scales, bcs: list[dolfinx.fem.DirichletBC], options: dict | None = None,
                 conservation_rtol: float = 1e-14, source=None):
        msh = w.function_space.mesh
        self.w, self.dx, self.material, self.scales = w, dx, material, scales
        self.w_old = dolfinx.fem.Function(w.function_space, name="log_density_old")
        self.w_old.x.array[:] = w.x.array
        self.time_weight = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(0.0))
        self.thermal_voltage = material.thermal_voltage / scales.potential
        residual = nernst_planck_residual(w, self.w_old, phi, self.time_weight,
                                          self.thermal_voltage, dx, source)
        # A zero-valued term over the whole mesh keeps the dofs off the vacancy region in
        # the sparsity pattern, so that their Dirichlet rows get a unit diagonal.
        zero = dolfinx.fem.Constant(msh, dolfinx.default_scalar_type(0.0))
        v = ufl.TestFunction(w.function_space)
        residual += zero * w * v * ufl.dx(domain=msh, metadata={"quadrature_degree": 0})
        self.options = solver_options.petsc_options(solver_options.NERNST_PLANCK, options)
        self.solver = solvers.NonlinearSolver(residual, w, bcs, prefix=solver_options.NERNST_PLANCK_PREFIX,
                                              options=self.options)
        self._total_form = dolfinx.fem.form(ufl.exp(w) * dx)
        self._volume = assemble_scalar(dolfinx.fem.form(1.0 * dx))
        self.conservation_rtol = conservation_rtol
        self.diffusion_rate = material.diffusivity / scales.length**2  # 1/s

    def total(self) -> float:
        """∫ c/c0 dx over the vacancy region (volume in the mesh's length unit cubed)."""
        return assemble_scalar(self._total_form)

    def step(self, dt: float) -> solvers.NonlinearReport:
        """One backward-Euler step of Δt = ``dt`` seconds from the current w.

        The absolute Newton tolerance is chosen so that the residual's possible sum over
        √n rows stays below ``conservation_rtol``·∫c·(L²/(D·Δt)).

        Raises:
            SolverError: If Newton fails (the state is then restored).
        """
        weight = 1.0 / (self.diffusion_rate * dt)
        return self._solve(weight)

    def solve_steady(self) -> solvers.NonlinearReport:
        """Solve the steady equations (no time term) from the current w.

        Needs a Dirichlet condition (fixed surface density), else the total is undetermined.
        """
        return self._solve(0.0)

    def _solve(self, weight: float) -> solvers.NonlinearReport:
        self.w_old.x.array[:] = self.w.x.array
        self.time_weight.value = weight
        n = max(self.solver.n_dofs, 1)
        scale = (weight if weight > 0 else 1.0) * max(self.total(), self._volume)
        self.solver.options["snes_atol"] = self.conservation_rtol * scale / math.sqrt(n)
        try:
            return self.solver.solve()
        except SolverError as error:
            self.w.x.array[:] = self.w_old.x.array
            log.info("%s (%s): retrying the step with the backtracking line search",
                     self.solver.name, error.reason)
        full_steps = self.solver.options["snes_linesearch_type"]
        self.solver.options["snes_linesearch_type"] = "bt"
        try:
            return self.solver.solve()
        except SolverError:
            self.w.x.array[:] = self.w_old.x.array
            raise
        finally:
            self.solver.options["snes_linesearch_type"] = full_steps


def set_boltzmann(w: dolfinx.fem.Function, phi: dolfinx.fem.Function, thermal_voltage: float,
                  shift: float, outside: np.ndarray) -> None:
    """Set w = shift − φ/V_T at the nodes: the discrete Boltzmann distribution.

    ``w`` and ``phi`` must share a Lagrange space; the dofs ``outside`` the vacancy region
    are set to 0 (they carry no vacancies). Potential and V_T in the potential scale.
    """
    w.x.array[:] = shift - phi.x.array / thermal_voltage
    w.x.array[outside] = 0.0
