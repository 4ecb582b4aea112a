"""The failures a run reports by name, shared by the solvers and the command line.

A bad config is :class:`flexotip.config.ConfigError` (exit status 2, before anything is
meshed); a solver that does not converge is :class:`SolverError` (exit status 3, after the
partial results and a summary with ``status = "failed"`` are written); a run stopped by
SIGTERM or SIGINT is :class:`RunInterrupted` (exit status 128 + the signal's number: 143,
130, after a checkpoint and a summary with ``status = "interrupted"``); a ``--resume`` that
cannot continue is :class:`ResumeError` (exit status 2, before anything is meshed).
"""

from __future__ import annotations

import signal


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


class RunInterrupted(RuntimeError):  # noqa: N818 — a requested stop, not an error
    """A run stopped cleanly on a signal.

    Attributes:
        signal: The signal's number (SIGTERM 15, SIGINT 2).
        t: The time the transient had reached, s (None outside a transient).
        checkpoint: The checkpoint written on the way out, or None (nothing to resume).
    """

    def __init__(self, signal_number: int, t: float | None = None, checkpoint=None):
        self.signal, self.t, self.checkpoint = signal_number, t, checkpoint
        super().__init__(f"stopped by {self.signal_name}"
                         + (f" at t = {t:.6g} s" if t is not None else ""))

    @property
    def signal_name(self) -> str:
        """E.g. "SIGTERM"."""
        return signal.Signals(self.signal).name

    @property
    def exit_status(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + self.signal


class ResumeError(ValueError):
    """``flexotip run --resume`` cannot continue the run in the folder (the message says why)."""
