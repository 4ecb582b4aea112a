"""The failures a run reports by name, shared by the solvers and the command line.

A bad config is :class:`flexotip.config.ConfigError` (exit status 2, before anything is
meshed); a solver that does not converge is :class:`SolverError` (exit status 3, after the
partial results and a summary with ``status = "failed"`` are written).
"""

from __future__ import annotations


class SolverError(RuntimeError):
    """A solve that did not converge.

    Attributes:
        solver: Which solver failed (its PETSc options prefix, or the iteration's name).
        reason: PETSc's converged-reason name (e.g. ``DIVERGED_ITS``), or what did not settle.
        iterations: Iterations done before stopping.
    """

    def __init__(self, solver: str, reason: str, iterations: int):
        self.solver, self.reason, self.iterations = solver, reason, iterations
        super().__init__(f"{solver} did not converge: {reason} after {iterations} iterations")
