"""A vacancy transient's state, captured for a checkpoint and put back to resume it exactly.

What the next step reads is all here: ln(c/c0) and (u, P, φ) as every rank holds them
(owned and ghost dofs), the start of the previous step (the error estimate's linear
predictor), the stepper's :class:`~flexotip.fem.time_stepping.Progress` with the history,
and the counters of the report. The linearised (u, P, φ) update of a static tip reuses the
factorisation of the first Newton solve; a resumed run repeats that solve from the same
initial state before the state is put back, so the factorisation is the same too. Put back
on the same mesh and ranks, the resumed run takes the same steps as an unbroken one.

When to capture, and where the state is written, is the caller's (:class:`Checkpointing`,
e.g. :class:`flexotip.pipeline.checkpoints.RunCheckpoints`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from flexotip.fem.checkpoint import State
from flexotip.fem.time_stepping import History, Progress

FIELDS = ("log_density", "displacement", "polarization", "potential")
"""The fields of the state, in the order of :func:`_fields`."""
HISTORY = "history/"
"""Prefix of the history's columns among the shared arrays."""


class Checkpointing(Protocol):
    """What a transient needs of the checkpoint policy."""

    resume: State | None
    """The state to resume from, or None to start at t = 0."""

    def after_step(self, progress: Progress, capture: Callable[[], State], last: bool) -> None:
        """After every accepted step (collective): ``capture()`` gives the state if it is wanted.

        ``last``: the step ends the run. May raise to stop the run (a signal).
        """

    def resumed(self) -> None:
        """Called once the transient's state is put back (the observer's records are next)."""


def _fields(transient) -> list:
    em = transient.coupling.em
    return [transient.w, em.u, em.P, em.phi]


def capture(progress: Progress, transient) -> State:
    """The state of a :class:`~flexotip.fem.vacancy_problem.VacancyTransient` at ``progress``."""
    local = {name: f.x.array.copy() for name, f in zip(FIELDS, _fields(transient), strict=True)}
    if transient.older is not None:
        local["older"] = transient.older.copy()
    history = progress.history
    shared = {HISTORY + name: np.asarray(values, dtype=float) for name, values in history.columns.items()}
    coupling = transient.coupling
    meta = {"t_s": progress.t, "next_step_s": progress.next_step, "last_step_s": progress.last_step,
            "steps": len(history), "rejected_steps": history.rejected,
            "t_quasi_steady_s": history.t_quasi_steady, "history_columns": list(history.columns),
            "accepted": transient.accepted, "total_initial": transient.total_initial,
            "total": transient.transport.total(), "em_updates": coupling.updates,
            "time_em_updates_s": coupling.time_s}
    return State(local, shared, meta, transient.w)


def restore(state: State, transient) -> Progress:
    """Put ``state`` back into ``transient`` (its fields, predictor, counters); return the progress.

    Raises:
        ValueError: If an array does not fit this rank's field (another mesh or partition).
    """
    for name, function in zip(FIELDS, _fields(transient), strict=True):
        values = state.local[name]
        if values.shape != function.x.array.shape:
            raise ValueError(f"the checkpoint's {name} has {values.size} values on this rank, the field "
                             f"{function.x.array.size}: another mesh or another partition")
        function.x.array[:] = values
    meta = state.meta
    transient.older = state.local.get("older")
    transient.accepted = meta["accepted"]
    transient.total_initial = meta["total_initial"]
    transient.coupling.updates = meta["em_updates"]
    transient.coupling.time_s = meta["time_em_updates_s"]
    history = History({name: list(state.shared[HISTORY + name]) for name in meta["history_columns"]},
                      meta["rejected_steps"], meta["t_quasi_steady_s"])
    return Progress(meta["t_s"], meta["next_step_s"], meta["last_step_s"], history)
