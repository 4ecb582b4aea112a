"""One adaptive time stepper for flexotip's backward-Euler transients, with its history.

The TDGL relaxation of the polarisation (:mod:`flexotip.fem.electromechanical_problem`)
and the vacancy transient (:mod:`flexotip.fem.vacancy_problem`) run the same loop:

1. cut Δt to ``max_step`` and so that the step ends at the next of the ``stops`` (times
   the problem changes at, or must be seen at) and at ``t_end`` at the latest;
2. take the step; if Newton fails (or the problem finds its new state not finite), restore
   the state, quarter Δt and retry, at most :data:`MAX_RETRIES` times in a row (Δt cut
   ~1e6-fold), then give up;
3. if the problem estimates its error and the estimate exceeds the tolerance, restore the
   state and retry with Δt·max(0.2, 0.9·√(tol/error));
4. accept: record a row of the history; stop when the relative change per step has fallen
   to ``rtol`` (quasi-steady, unless ``until_steady`` is off), at ``t_end``, or after
   ``max_steps`` accepted steps;
5. grow Δt by the problem's factor (a step cut short by 1. leaves the next Δt where it was);
6. hand the :class:`Progress` to ``after_step`` (a checkpoint writer, which may also stop
   the run on a signal).

A run resumed from a :class:`Progress` (with the problem's state put back) takes the
same steps as one that was never stopped: the loop's whole state is in it.

What differs between the two lives in a :class:`SteppedProblem`: how to step, what the
error estimate is, what to record, how fast Δt may grow.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import pathlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from flexotip.errors import SolverError
from flexotip.fem import io

log = logging.getLogger(__name__)

TIME = "t_s"
"""Column of the time after each accepted step, s."""
STEP = "dt_s"
"""Column of the accepted step sizes, s."""
MAX_RETRIES = 10
"""Failed tries of one step, each with a quarter of the last Δt, before the stepper gives up."""
CHANGE = "relative_change"
"""Column that the quasi-steady test reads: the relative change of the state in the step."""


class SteppedProblem(Protocol):
    """What :class:`AdaptiveStepper` needs of a transient problem."""

    name: str
    """Name in log messages (e.g. "TDGL")."""

    def save(self) -> Any:
        """A copy of the state, to restore a failed or rejected step."""

    def restore(self, saved: Any) -> None:
        """Put back a state returned by :meth:`save`."""

    def step(self, dt: float) -> Any:
        """One backward-Euler step of ``dt`` seconds; returns the Newton report.

        Raises:
            SolverError: If Newton fails (the stepper then retries with a smaller step).
        """

    def error(self, dt: float, dt_old: float | None) -> float | None:
        """The step's error estimate, or None when the step size is not error-controlled."""

    def accept(self, t: float, dt: float, report: Any, error: float | None) -> dict[str, float]:
        """Finish an accepted step ending at ``t``; return its history row (SI), with CHANGE."""

    def growth(self, report: Any, error: float | None) -> float:
        """Factor of the next step size over this one."""


@dataclasses.dataclass
class History:
    """The accepted steps of a transient, one named column per recorded quantity (SI).

    Attributes:
        columns: {name: values}, the time :data:`TIME` and step :data:`STEP` first, then the
            problem's columns in the order it records them.
        rejected: Steps rejected (error above tolerance, or Newton failure).
        t_quasi_steady: Time at which the change per step first fell to the tolerance, s
            (None if it did not).
    """

    columns: dict[str, list] = dataclasses.field(default_factory=lambda: {TIME: [], STEP: []})
    rejected: int = 0
    t_quasi_steady: float | None = None

    def __len__(self) -> int:
        return len(self.columns[TIME])

    @property
    def times(self) -> list[float]:
        """Time after each accepted step, s."""
        return self.columns[TIME]

    def append(self, t: float, dt: float, row: dict[str, float]) -> None:
        """Record one accepted step."""
        for name, value in {TIME: t, STEP: dt, **row}.items():
            self.columns.setdefault(name, []).append(value)

    def write_csv(self, path: pathlib.Path, comm) -> None:
        """The history as a CSV table, a column per quantity (collective)."""
        io.write_csv(path, {name: np.asarray(values) for name, values in self.columns.items()}, comm)


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a stepped run stands after an accepted step: all the loop needs to go on exactly.

    Attributes:
        t: Time reached, s.
        next_step: The Δt the next step will try (before the cut to stops), s.
        last_step: The last accepted Δt, s (None before the first step).
        history: The accepted steps so far.
    """

    t: float
    next_step: float
    last_step: float | None
    history: History


@dataclasses.dataclass(frozen=True)
class AdaptiveStepper:
    """Adaptive backward-Euler stepping from t = 0 (see the module docstring).

    Attributes:
        first_step: First Δt, s.
        t_end: Stop time, s; None: run until quasi-steady (or ``max_steps``).
        rtol: Quasi-steady tolerance on the relative change per step.
        max_steps: Largest number of accepted steps.
        tolerance: Largest accepted error estimate (problems that return one).
        max_step: Largest Δt, s.
        stops: Times (s) that steps end on exactly, in increasing order.
        until_steady: Stop once quasi-steady; off: run to ``t_end`` (or ``max_steps``).
    """

    first_step: float
    t_end: float | None
    rtol: float
    max_steps: int
    tolerance: float = math.inf
    max_step: float = math.inf
    stops: tuple[float, ...] = ()
    until_steady: bool = True

    def _cut(self, t: float, dt: float) -> float:
        """Δt cut to ``max_step``, the next stop after t and ``t_end``."""
        later = [stop for stop in (*self.stops, self.t_end if self.t_end is not None else math.inf)
                 if stop > t * (1 + 1e-12) + 1e-300]
        return min(dt, self.max_step, min(later, default=math.inf) - t)

    def run(self, problem: SteppedProblem, progress: Progress | None = None,
            after_step: Callable[[Progress, bool], None] | None = None) -> History:
        """Step ``problem`` until it stops; return the history.

        Args:
            problem: The stepped problem (its state at ``progress``, when resuming).
            progress: Resume from here instead of t = 0.
            after_step: Called as after_step(progress, last) after every accepted step,
                collectively (``last``: the step ends the run); it may raise to stop the run.

        Raises:
            SolverError: If a step fails even with Δt quartered :data:`MAX_RETRIES` times.
        """
        if progress is None:
            history, t, wanted, dt_old = History(), 0.0, self.first_step, None
        else:
            history, t, wanted, dt_old = progress.history, progress.t, progress.next_step, progress.last_step
            if self.t_end is not None and t >= self.t_end * (1 - 1e-12):
                return history  # resumed at its end (e.g. a scan stopped during its reference run)
        retries = 0
        while len(history) < self.max_steps:
            dt = self._cut(t, wanted)
            saved = problem.save()
            try:
                report = problem.step(dt)
            except SolverError as error:
                problem.restore(saved)
                history.rejected += 1
                retries += 1
                wanted = dt / 4
                if retries > MAX_RETRIES:
                    raise SolverError(error.solver, f"{error.reason} (the step failed {retries} times, down "
                                                    f"to Δt = {dt:.3g} s at t = {t:.6g} s)",
                                      error.iterations) from error
                log.warning("%s: %s; retrying with Δt = %.3g s", problem.name, error.reason, wanted)
                continue
            retries = 0
            error = problem.error(dt, dt_old)
            if error is not None and error > self.tolerance:
                problem.restore(saved)
                history.rejected += 1
                wanted = dt * max(0.2, 0.9 * math.sqrt(self.tolerance / error))
                continue
            t = self._end_of_step(t, dt)
            row = problem.accept(t, dt, report, error)
            history.append(t, dt, row)
            steady = self.until_steady and row[CHANGE] <= self.rtol
            if steady:
                history.t_quasi_steady = t
            last = (steady or (self.t_end is not None and t >= self.t_end * (1 - 1e-12))
                    or len(history) >= self.max_steps)
            dt_old = dt
            wanted = wanted if dt < wanted else dt * problem.growth(report, error)
            if after_step is not None:
                after_step(Progress(t, wanted, dt_old, history), last)
            if last:
                break
        return history

    def _end_of_step(self, t: float, dt: float) -> float:
        """T + dt, snapped onto a stop or ``t_end`` within round-off (so that they are hit exactly)."""
        end = t + dt
        for stop in (*self.stops, self.t_end if self.t_end is not None else math.inf):
            if math.isfinite(stop) and abs(end - stop) <= 1e-12 * max(abs(stop), 1e-300):
                return stop
        return end
