"""Logging: rank 0 speaks, to the console and to the run's log.txt.

Configured by the CLI entry point (never at import), so that library users keep
control of their own logging.
"""

from __future__ import annotations

import logging
import pathlib
import time

from mpi4py import MPI

_START = time.perf_counter()


class RankZeroFilter(logging.Filter):
    """Lets records through on rank 0 of a communicator (COMM_WORLD unless given)."""

    def __init__(self, comm: MPI.Comm | None = None):
        super().__init__()
        self.speaks = (comm or MPI.COMM_WORLD).rank == 0

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        return self.speaks


class _ElapsedFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.elapsed = f"{time.perf_counter() - _START:7.1f}s"
        return super().format(record)


def setup(level: int = logging.INFO, logfile: pathlib.Path | None = None, append: bool = False) -> None:
    """Send flexotip's log records (rank 0 only) to stderr and, if given, to a file.

    Args:
        level: Level of the console output; the file always receives INFO and above.
        logfile: Path of the run's log file, or None.
        append: Add to the log file (a resumed run) instead of starting it anew.
    """
    logger = logging.getLogger("flexotip")
    logger.setLevel(min(level, logging.INFO))
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    formatter = _ElapsedFormatter("%(elapsed)s %(message)s")
    console = logging.StreamHandler()
    console.setLevel(level)
    handlers: list[logging.Handler] = [console]
    if logfile is not None and MPI.COMM_WORLD.rank == 0:
        handlers.append(logging.FileHandler(logfile, mode="a" if append else "w"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RankZeroFilter())
        logger.addHandler(handler)
    logger.propagate = False


def push_file(logfile: pathlib.Path, comm: MPI.Comm) -> list[logging.Handler]:
    """Send the records to ``logfile`` (rank 0 of ``comm``) instead of the current log file.

    A study member logs into its own folder while the study's console output goes on.
    Returns the file handlers taken away, for :func:`pop_file`.
    """
    logger = logging.getLogger("flexotip")
    removed = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
    for handler in removed:
        logger.removeHandler(handler)
    if comm.rank == 0:
        handler = logging.FileHandler(logfile, mode="w")
        handler.setFormatter(_ElapsedFormatter("%(elapsed)s %(message)s"))
        handler.setLevel(logging.INFO)
        handler.addFilter(RankZeroFilter(comm))
        handler.set_name("flexotip-member")
        logger.addHandler(handler)
    return removed


def pop_file(removed: list[logging.Handler]) -> None:
    """Close the member's log file and restore the file handlers :func:`push_file` took away."""
    logger = logging.getLogger("flexotip")
    for handler in [h for h in logger.handlers if h.get_name() == "flexotip-member"]:
        logger.removeHandler(handler)
        handler.close()
    for handler in removed:
        logger.addHandler(handler)
