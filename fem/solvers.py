"""PETSc solvers: the only module that builds PETSc problems and puts options into PETSc.

The options themselves are data, in :mod:`flexotip.fem.solver_options` (defaults and
prefixes); :mod:`flexotip.fem.preconditioners` holds the electromechanical block
preconditioner that :class:`NonlinearSolver` attaches. Every solve fails loudly: a KSP or
SNES that does not converge raises :class:`SolverError` naming the solver and PETSc's
reason, and a fixed-point iteration that does not settle (:func:`fixed_point`) does the
same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable

from petsc4py import PETSc

import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.la
import ufl

from flexotip.errors import SolverError
from flexotip.fem import preconditioners

log = logging.getLogger(__name__)

def block_index_sets(spaces: list[dolfinx.fem.FunctionSpace]) -> list[PETSc.IS]:
    """Global index sets of each space's owned dofs in a monolithic ``mpi``-kind block system.

    DOLFINx numbers such a system rank by rank, and within a rank field by field. The sets
    live on the mesh's communicator: PCFIELDSPLIT extracts parallel submatrices with them.
    """
    maps = [(V.dofmap.index_map, V.dofmap.index_map_bs) for V in spaces]
    offset = sum(im.local_range[0] * bs for im, bs in maps)
    sets = []
    for im, bs in maps:
        size = im.size_local * bs
        sets.append(PETSc.IS().createStride(size, offset, 1, comm=spaces[0].mesh.comm))
        offset += size
    return sets


@dataclasses.dataclass(frozen=True)
class SolveReport:
    """Outcome of a linear solve.

    Attributes:
        solver: Options prefix of the solver.
        ksp_type: The KSP type used.
        pc_type: The preconditioner type used.
        iterations: KSP iterations.
        reason: PETSc's converged-reason name.
        n_dofs: Global number of unknowns.
        time_assemble_s: Wall time of matrix and vector assembly, s.
        time_solve_s: Wall time of the KSP solve (setup included), s.
    """

    solver: str
    ksp_type: str
    pc_type: str
    iterations: int
    reason: str
    n_dofs: int
    time_assemble_s: float
    time_solve_s: float


def _reason_name(reason: int, kind=PETSc.KSP.ConvergedReason) -> str:
    """The name of a KSP (or, with ``kind``, SNES) converged reason."""
    for name, value in vars(kind).items():
        if value == reason and not name.startswith("_"):
            return name
    return str(reason)


@contextlib.contextmanager
def _options_in_database(prefix: str, options: dict):
    """Hold ``options`` under ``prefix`` in PETSc's database for the duration of a solve.

    GAMG reads its mg_levels_* options during setup, inside the solve, so they must still
    be there then; they are removed afterwards so that one problem's options never leak
    into another's.
    """
    database = PETSc.Options()
    for key, value in options.items():
        database[f"{prefix}{key}"] = value
    try:
        yield database
    finally:
        for key in options:
            database.delValue(f"{prefix}{key}")


def rigid_body_modes(V: dolfinx.fem.FunctionSpace) -> PETSc.NullSpace:
    """The six rigid-body modes of a 3D vector space, orthonormalised, for GAMG.

    The caller owns the returned NullSpace (attach it with ``A.setNearNullSpace``).
    """
    index_map, bs = V.dofmap.index_map, V.dofmap.index_map_bs
    n_local = index_map.size_local
    x = V.tabulate_dof_coordinates()[:n_local]
    modes = [dolfinx.la.vector(index_map, bs=bs, dtype=PETSc.ScalarType) for _ in range(6)]
    arrays = [m.array[: n_local * bs].reshape(n_local, bs) for m in modes]
    for i in range(3):
        arrays[i][:, i] = 1.0
    arrays[3][:, 0], arrays[3][:, 1] = -x[:, 1], x[:, 0]
    arrays[4][:, 0], arrays[4][:, 2] = x[:, 2], -x[:, 0]
    arrays[5][:, 2], arrays[5][:, 1] = x[:, 1], -x[:, 2]
    dolfinx.la.orthonormalize(modes)
    vectors = [dolfinx.la.petsc.create_vector_wrap(m) for m in modes]
    return PETSc.NullSpace().create(vectors=vectors, comm=V.mesh.comm)


def solve_linear(a: ufl.Form, L: ufl.Form, uh: dolfinx.fem.Function,
                 bcs: list[dolfinx.fem.DirichletBC], *, prefix: str, options: dict,
                 near_nullspace: bool = False) -> SolveReport:
    """Assemble and solve a linear problem a(u, v) = L(v) into ``uh``.

    Args:
        a: Bilinear form.
        L: Linear form.
        uh: Solution function, updated in place.
        bcs: Dirichlet conditions.
        prefix: Fixed PETSc options prefix, ending in ``_``.
        options: PETSc options for the KSP (see :func:`petsc_options`).
        near_nullspace: Attach the rigid-body modes of ``uh``'s space (elasticity).

    Returns:
        Iterations, reason and timings.

    Raises:
        SolverError: If the KSP does not converge.
    """
    comm = uh.function_space.mesh.comm
    problem = dolfinx.fem.petsc.LinearProblem(a, L, bcs=bcs, u=uh, petsc_options_prefix=prefix)
    ksp = problem.solver
    if near_nullspace:
        problem.A.setNearNullSpace(rigid_body_modes(uh.function_space))
    # Assemble once here so that assembly and solve are timed apart; LinearProblem.solve
    # then re-assembles, which costs the same again, so the KSP is driven directly.
    start = time.perf_counter()
    problem.A.zeroEntries()
    dolfinx.fem.petsc.assemble_matrix(problem.A, problem.a, bcs=bcs)
    problem.A.assemble()
    b = problem.b
    with b.localForm() as b_local:
        b_local.set(0.0)
    dolfinx.fem.petsc.assemble_vector(b, problem.L)
    dolfinx.fem.petsc.apply_lifting(b, [problem.a], bcs=[bcs])
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(b, bcs)
    comm.Barrier()
    time_assemble = time.perf_counter() - start

    start = time.perf_counter()
    with _options_in_database(prefix, options):
        ksp.setFromOptions()
        if ksp.getType() != "preonly":
            ksp.setMonitor(lambda _ksp, it, rnorm: log.info(
                "%s: iteration %3d, residual %.3e", prefix.rstrip("_"), it, rnorm))
        try:
            ksp.solve(b, problem.x)
        except PETSc.Error:
            reason = _reason_name(ksp.getConvergedReason())
            raise SolverError(prefix.rstrip("_"), reason, ksp.getIterationNumber()) from None
        finally:
            ksp.cancelMonitor()
    problem.x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    dolfinx.fem.petsc.assign(problem.x, uh)
    time_solve = time.perf_counter() - start
    reason = ksp.getConvergedReason()
    if reason <= 0:
        raise SolverError(prefix.rstrip("_"), _reason_name(reason), ksp.getIterationNumber())
    report = SolveReport(
        solver=prefix.rstrip("_"), ksp_type=ksp.getType(), pc_type=ksp.getPC().getType(),
        iterations=ksp.getIterationNumber(), reason=_reason_name(reason),
        n_dofs=problem.A.getSize()[0], time_assemble_s=time_assemble, time_solve_s=time_solve,
    )
    log.info("%s: %s/%s, %d dofs, %d iterations (%s), assembly %.2f s, solve %.2f s",
             report.solver, report.ksp_type, report.pc_type, report.n_dofs, report.iterations,
             report.reason, time_assemble, time_solve)
    return report


@dataclasses.dataclass(frozen=True)
class NonlinearReport:
    """Outcome of one SNES solve.

    Attributes:
        iterations: Newton iterations.
        linear_iterations: KSP iterations summed over the Newton steps.
        reason: PETSc's SNES converged-reason name.
        time_s: Wall time, s (assembly included).
    """

    iterations: int
    linear_iterations: int
    reason: str
    time_s: float


class NonlinearSolver:
    """A SNES (Newton) solver for F(u; v) = 0 that can be solved again after constants change.

    The Jacobian is derived by UFL. A list of residuals and unknowns gives one monolithic
    (``mpi``-kind) block system, e.g. (u, P, φ). Keep the object to re-solve with updated Constants
    (the previous solution is the initial guess): the forms are compiled once.

    Args:
        F: Residual form, linear in the test function.
        uh: Unknown, updated in place (its value is the initial guess).
        bcs: Dirichlet conditions.
        prefix: Fixed PETSc options prefix, ending in ``_``.
        options: SNES and KSP options (see :func:`petsc_options`).
        near_nullspace: Attach the rigid-body modes of ``uh``'s space (elasticity).
        split_names: Names of the unknowns of a block system, for PCFIELDSPLIT (with
            ``pc_type = "fieldsplit"``); for (u, P, φ), ``pc_type = "python"`` attaches
            :class:`~flexotip.fem.preconditioners.ElectromechanicalPreconditioner`.
    """

    def __init__(self, F: ufl.Form | list[ufl.Form],
                 uh: dolfinx.fem.Function | list[dolfinx.fem.Function],
                 bcs: list[dolfinx.fem.DirichletBC], *, prefix: str, options: dict,
                 near_nullspace: bool = False, split_names: list[str] | None = None):
        self.prefix, self.options = prefix, options
        blocked = isinstance(F, list | tuple)
        self.problem = dolfinx.fem.petsc.NonlinearProblem(
            F, uh, bcs=bcs, petsc_options_prefix=prefix, kind="mpi" if blocked else None)
        if near_nullspace and not blocked:
            self.problem.A.setNearNullSpace(rigid_body_modes(uh.function_space))
        if split_names is not None:
            # Named fields for PCFIELDSPLIT; the first (the displacement) carries the
            # rigid-body modes for its GAMG, composed with its index set.
            spaces = [w.function_space for w in uh]
            self._index_sets = block_index_sets(spaces)
            modes = rigid_body_modes(spaces[0])
            self._index_sets[0].compose("nearnullspace", modes)
            pc = self.problem.solver.getKSP().getPC()
            if options.get("pc_type") == "fieldsplit":
                pc.setType("fieldsplit")
                pc.setFieldSplitIS(*zip(split_names, self._index_sets, strict=True))
            elif options.get("pc_type") == "python":
                # The (u, P, φ) block preconditioner; it reads its sub-solvers' options
                # under this solver's prefix when Newton first sets it up.
                pc.setType("python")
                pc.setPythonContext(preconditioners.ElectromechanicalPreconditioner(
                    self._index_sets, modes, prefix))
        self.n_dofs = self.problem.A.getSize()[0]
        self.newton_iterations = 0
        self.linear_iterations = 0

    @property
    def name(self) -> str:
        """The solver's name (its prefix without the trailing underscore)."""
        return self.prefix.rstrip("_")

    def _failure_reason(self, error: PETSc.Error | None = None) -> str:
        """SNES's reason, or its linear solver's when that is what stopped Newton."""
        snes = self.problem.solver
        reason = snes.getConvergedReason()
        if reason < 0:
            return _reason_name(reason, PETSc.SNES.ConvergedReason)
        ksp = snes.getKSP()
        ksp_reason = ksp.getConvergedReason()
        if ksp_reason == PETSc.KSP.ConvergedReason.ITERATING and error is not None:
            # The KSP never ran: its setup failed, e.g. a zero pivot in the factorisation.
            return (f"PETSc error {error.ierr} while setting up the linear solver "
                    f"({ksp.getPC().getType()}: a singular or ill-posed matrix?) in Newton step "
                    f"{snes.getIterationNumber()}")
        return f"linear solver {_reason_name(ksp_reason)} in Newton step {snes.getIterationNumber()}"

    def solve(self) -> NonlinearReport:
        """Run Newton from the current ``uh``.

        Raises:
            SolverError: If SNES (or its KSP) does not converge, with SNES's reason.
        """
        snes = self.problem.solver
        start = time.perf_counter()
        with _options_in_database(self.prefix, self.options):
            snes.setFromOptions()
            snes.setMonitor(lambda _snes, it, norm: log.info(
                "%s: Newton iteration %2d, residual %.3e", self.name, it, norm))
            try:
                self.problem.solve()
            except PETSc.Error as error:
                raise SolverError(self.name, self._failure_reason(error),
                                  snes.getIterationNumber()) from error
            finally:
                snes.cancelMonitor()
        reason = snes.getConvergedReason()
        if reason <= 0:
            raise SolverError(self.name, _reason_name(reason, PETSc.SNES.ConvergedReason),
                              snes.getIterationNumber())
        report = NonlinearReport(snes.getIterationNumber(), snes.getLinearSolveIterations(),
                                 _reason_name(reason, PETSc.SNES.ConvergedReason),
                                 time.perf_counter() - start)
        self.newton_iterations += report.iterations
        self.linear_iterations += report.linear_iterations
        return report

    def update(self) -> float:
        """One Newton step from the current ``uh`` with the last Jacobian and its factorisation.

        For a solution whose data changed a little since the last :meth:`solve` (the
        electromechanics after the vacancy space charge moved): no matrix assembly and no
        new factorisation, one residual assembly and one linear solve. Exact for a linear
        problem; for a nonlinear one the error is of second order in the change.

        Returns:
            The norm of the residual before the step (scaled units).

        Raises:
            SolverError: If the linear solve fails.
        """
        problem = self.problem
        snes, x, b = problem.solver, problem.x, problem.b
        dolfinx.fem.petsc.assign(problem.u, x)
        snes.computeFunction(x, b)
        norm = b.norm()
        correction = x.duplicate()
        ksp = snes.getKSP()
        try:
            ksp.solve(b, correction)
        except PETSc.Error:
            raise SolverError(self.name, _reason_name(ksp.getConvergedReason()),
                              ksp.getIterationNumber()) from None
        if ksp.getConvergedReason() <= 0:
            raise SolverError(self.name, _reason_name(ksp.getConvergedReason()), ksp.getIterationNumber())
        x.axpy(-1.0, correction)
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        dolfinx.fem.petsc.assign(x, problem.u)
        correction.destroy()
        self.linear_iterations += ksp.getIterationNumber()
        return norm


def fixed_point(step: Callable[[int], bool], *, solver: str, what: str, max_rounds: int = 30) -> int:
    """Repeat ``step(round)`` until it returns True (settled); return the rounds taken.

    Args:
        step: One round of the iteration; returns whether the iteration has settled.
        solver: Name of the iteration in the error (e.g. "poisson_boltzmann").
        what: What must settle, for the error message (e.g. "λ").
        max_rounds: Rounds before giving up.

    Raises:
        SolverError: If ``step`` has not settled after ``max_rounds`` rounds.
    """
    for rounds in range(1, max_rounds + 1):
        if step(rounds):
            return rounds
    raise SolverError(solver, f"{what} did not settle in {max_rounds} rounds", max_rounds)
