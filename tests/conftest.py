"""Parallel-safe test harness: collective teardown and a shared output folder (helpers.py has the rest)."""

from __future__ import annotations

import gc
import pathlib

from mpi4py import MPI

import pytest

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)


@pytest.fixture(autouse=True)
def _collective_teardown():
    yield
    gc.collect()
    MPI.COMM_WORLD.Barrier()


@pytest.fixture
def comm():
    return MPI.COMM_WORLD


@pytest.fixture
def outdir(tmp_path, comm) -> pathlib.Path:
    """A folder shared by all ranks (rank 0's tmp_path)."""
    return pathlib.Path(comm.bcast(str(tmp_path), root=0))
