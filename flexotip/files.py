"""Output files that appear only when complete: every writer of a run writes through :func:`staged`.

A file is written under a hidden staging folder next to it and moved into place when its
writer has finished, so a run killed mid-write (SIGKILL, a node failure) leaves a
``.<name>.partial`` folder, never a truncated file under the final name. Together with
summary.json written last (``status = "complete"``), a folder never looks complete when it
is not. NumPy-free and DOLFINx-free: the core, the exports and the studies all use it.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import typing

if typing.TYPE_CHECKING:
    from mpi4py import MPI


@contextlib.contextmanager
def staged(path: pathlib.Path, comm: MPI.Comm | None = None):
    """Write ``path`` in a staging folder; move what was written into place when complete.

    Yields the path to write to, ``<folder>/.<name>.partial/<name>``. Everything the writer
    puts in the staging folder (e.g. an XDMF file and its HDF5 companion) is moved next to
    ``path`` after the body returns, replacing older files of the same names; if the body
    raises, the staging folder is removed and nothing is moved.

    Args:
        path: The final path (a file, or a folder such as VTX's ``.bp``).
        comm: Give the communicator for a collective writer (every rank enters, rank 0
            moves the files between barriers); None for a write by one process.
    """
    stage = path.parent / f".{path.name}.partial"
    root = comm is None or comm.rank == 0
    if root:
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
    if comm is not None:
        comm.Barrier()
    try:
        yield stage / path.name
    except BaseException:
        if root:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    if comm is not None:
        comm.Barrier()
    if root:
        for entry in stage.iterdir():
            target = path.parent / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
        stage.rmdir()
    if comm is not None:
        comm.Barrier()
