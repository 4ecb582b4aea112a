"""Parallel-safe test harness: collective teardown, shared output folders, run helpers."""

from __future__ import annotations

import csv
import gc
import json
import pathlib

from mpi4py import MPI

import numpy as np
import pytest

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import config as config_module


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


def shared_dir(tmp_path_factory, name: str) -> pathlib.Path:
    """A new folder of a module-scoped fixture, made by rank 0 and shared by all ranks."""
    folder = str(tmp_path_factory.mktemp(name)) if MPI.COMM_WORLD.rank == 0 else None
    return pathlib.Path(MPI.COMM_WORLD.bcast(folder, root=0))


def read_csv(path: pathlib.Path) -> dict[str, list[float]]:
    """Columns of a flexotip CSV table, by header name."""
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def read_vtx(path: pathlib.Path, name: str) -> np.ndarray:
    """All blocks (one per writing rank) of a variable of a VTX (.bp) file, first step."""
    import adios2

    with adios2.FileReader(str(path)) as reader:
        n_blocks = len(reader.all_blocks_info(name)[0])
        blocks = []
        for block in range(n_blocks):
            variable = reader.inquire_variable(name)
            variable.set_block_selection(block)
            blocks.append(reader.read(variable))
    return np.concatenate(blocks)


def read_summary(path: pathlib.Path) -> dict:
    return json.loads((path / "summary.json").read_text())


def run_case(comm, sections: dict, outdir: pathlib.Path) -> dict:
    """Validate a config dict and run it (collective); return the summary."""
    from flexotip.pipeline import run as pipeline

    config = config_module.from_dict(sections, source="test config")
    return pipeline.run(comm, config, outdir)


MECHANICS_ONLY = {"flexoelectric": False}
"""[physics] of the mechanics tests: no (u, P, φ) solve after the elastic one."""
