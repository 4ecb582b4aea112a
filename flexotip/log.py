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
    """Lets records through on rank 0 of COMM_WORLD only."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        return MPI.COMM_WORLD.rank == 0


class _ElapsedFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.elapsed = f"{time.perf_counter() - _START:7.1f}s"
        return super().format(record)


def setup(level: int = logging.INFO, logfile: pathlib.Path | None = None) -> None:
    """Send flexotip's log records (rank 0 only) to stderr and, if given, to a file.

    Args:
        level: Level of the console output; the file always receives INFO and above.
        logfile: Path of the run's log file, or None.
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
        handlers.append(logging.FileHandler(logfile, mode="w"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RankZeroFilter())
        logger.addHandler(handler)
    logger.propagate = False
