"""A clean stop on SIGTERM or SIGINT: the signal is recorded, and the run stops where it can.

A batch system ends a job at its wall-time limit with SIGTERM (and SIGKILL some time
later); a user with Ctrl-C (SIGINT). :func:`install` replaces Python's handlers for both by
one that only records the signal; the run looks at it at safe points — after every
accepted time step (where the checkpoint policy writes a checkpoint first) and between
the stages of a run (:func:`check`) — and stops there with
:class:`~flexotip.errors.RunInterrupted`. The signal may reach one rank only (``kill`` of
one process): every rank asks :func:`agreed`, a collective maximum, so they stop together.
A second signal ends the process at once, with the default action. gmsh replaces the
process's C signal handlers when it starts: :func:`reassert` puts ours back after meshing.
"""

from __future__ import annotations

import signal

from flexotip.errors import RunInterrupted

SIGNALS = (signal.SIGTERM, signal.SIGINT)
_received: int = 0
_installed: bool = False


def _record(number: int, _frame) -> None:
    global _received
    if _received:  # a second signal: stop now
        signal.signal(number, signal.SIG_DFL)
        signal.raise_signal(number)
    _received = number


def install() -> None:
    """Record SIGTERM and SIGINT instead of ending the process (main thread only)."""
    global _received, _installed
    _received, _installed = 0, True
    for number in SIGNALS:
        signal.signal(number, _record)


def reassert() -> None:
    """Put our handlers back at the C level if :func:`install` is in effect (a library replaced them)."""
    if _installed:
        for number in SIGNALS:
            signal.signal(number, _record)


def uninstall() -> None:
    """Put back the default handlers (and Python's KeyboardInterrupt for SIGINT)."""
    global _received, _installed
    _received, _installed = 0, False
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def received() -> int:
    """The signal this process received (its number), or 0."""
    return _received


def agreed(comm, *flags: int) -> list[int]:
    """[the signal any rank received, *flags], each the maximum over the ranks (collective)."""
    from mpi4py import MPI

    import numpy as np

    local = np.asarray((_received, *flags), dtype=np.int64)
    result = np.empty_like(local)
    comm.Allreduce(local, result, op=MPI.MAX)
    return result.tolist()


def check(comm, t: float | None = None) -> None:
    """Stop here (raise :class:`RunInterrupted` on every rank) if any rank received a signal."""
    number = agreed(comm)[0]
    if number:
        raise RunInterrupted(number, t)
