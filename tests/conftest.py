"""Parallel-safe test harness: collective teardown and a shared output folder (helpers.py has the rest)."""

from __future__ import annotations

import gc
import pathlib

from mpi4py import MPI

import pytest

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``parallel`` are skipped on one rank: the 2-rank stage runs them."""
    if MPI.COMM_WORLD.size > 1:
        return
    skip = pytest.mark.skip(reason="marked parallel: runs in the 2-rank stage (make test-parallel)")
    for item in items:
        if "parallel" in item.keywords:
            item.add_marker(skip)


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
