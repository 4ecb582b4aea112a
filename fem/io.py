"""Output for ParaView and for scripts: field files, mesh tags, summary.json, CSV tables.

Fields are written in SI units on a mesh whose coordinates are in metres: the scaled
mesh coordinates are multiplied by the length scale for the duration of the write only.
Writers are collective; JSON and CSV are written by rank 0 from data every rank holds.

Every file is written through :func:`flexotip.files.staged`: it appears under its name
only when complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import pathlib

from mpi4py import MPI

import dolfinx.fem
import dolfinx.io
import numpy as np

from flexotip.files import staged

FORMATS = ("vtx", "xdmf", "vtkhdf")


@contextlib.contextmanager
def coordinates_in_metres(msh, length_scale: float):
    """Temporarily scale the mesh coordinates from the model unit to metres."""
    msh.geometry.x[:] *= length_scale
    try:
        yield msh
    finally:
        msh.geometry.x[:] /= length_scale


def write_fields(directory: pathlib.Path, groups: dict[str, list[dolfinx.fem.Function]],
                 fmt: str, length_scale: float) -> list[pathlib.Path]:
    """Write groups of named functions, one file per group, in metres.

    Args:
        directory: Output folder (exists on every rank).
        groups: File stem → functions sharing one element (VTX writes one element per
            file). Functions carry their ParaView names and hold SI values.
        fmt: "vtx" (ADIOS2 ``.bp`` folders, any Lagrange degree), "xdmf" (HDF5; fields
            are interpolated to degree 1 first, which XDMF needs) or "vtkhdf" (VTK's HDF5
            format, one ``<name>.vtkhdf`` file per function, degree 1:
            :func:`write_vtkhdf`).
        length_scale: Metres per mesh length unit.

    Returns:
        The paths written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown field format {fmt!r}; allowed: {FORMATS}")
    written = []
    for stem, functions in groups.items():
        if not functions:
            continue
        msh = functions[0].function_space.mesh
        with coordinates_in_metres(msh, length_scale):
            if fmt == "vtx":
                path = directory / f"{stem}.bp"
                with staged(path, msh.comm) as target, dolfinx.io.VTXWriter(msh.comm, target, functions,
                                                                          engine="BP4") as writer:
                    writer.write(0.0)
            elif fmt == "vtkhdf":
                for function in functions:
                    written.append(write_vtkhdf(directory / f"{function.name}.vtkhdf",
                                                _degree_one(function)))
                continue
            else:
                path = directory / f"{stem}.xdmf"
                with staged(path, msh.comm) as target, dolfinx.io.XDMFFile(msh.comm, target, "w") as xdmf:
                    xdmf.write_mesh(msh)
                    for function in functions:
                        xdmf.write_function(_degree_one(function), 0.0)
        written.append(path)
    return written


def write_vtkhdf(path: pathlib.Path, function: dolfinx.fem.Function) -> pathlib.Path:
    """One degree-1 Lagrange function and its mesh as a VTKHDF file (collective, staged).

    DOLFINx's writer (:mod:`dolfinx.io.vtkhdf`) takes values at the mesh's geometry nodes
    (owned by each rank) and names the array ``u``; the array is renamed to the function's
    name afterwards (rank 0, h5py), which is what ParaView and PyVista show, and a scalar
    is stored 1-D instead of as one column, which ParaView 5.11's reader needs.
    """
    import dolfinx.io.vtkhdf

    msh, V = function.function_space.mesh, function.function_space
    block = V.dofmap.index_map_bs
    nodal = np.zeros((msh.geometry.x.shape[0], block))
    nodal[msh.geometry.dofmaps[0].ravel()] = function.x.array.reshape(-1, block)[V.dofmap.list.ravel()]
    owned = msh.geometry.index_map().size_local
    with staged(path, msh.comm) as target:
        dolfinx.io.vtkhdf.write_mesh(target, msh)
        dolfinx.io.vtkhdf.write_point_data(target, msh, nodal[:owned].ravel(), 0.0)
        msh.comm.Barrier()
        if msh.comm.rank == 0:
            _name_point_data(target, function.name)
    return path


def _name_point_data(path: pathlib.Path, name: str) -> None:
    """Rename DOLFINx's point array ``u`` of a VTKHDF file to ``name``; a scalar stored 1-D."""
    import h5py

    with h5py.File(path, "a") as vtkhdf:
        for group in ("VTKHDF/PointData", "VTKHDF/Steps/PointDataOffsets"):
            vtkhdf.move(f"{group}/u", f"{group}/{name}")
        values = vtkhdf[f"VTKHDF/PointData/{name}"]
        if values.ndim == 2 and values.shape[1] == 1:  # ParaView 5.11 reads a scalar only as 1-D
            flat = values[()].ravel()
            del vtkhdf[f"VTKHDF/PointData/{name}"]
            vtkhdf.create_dataset(f"VTKHDF/PointData/{name}", data=flat)


def _degree_one(function: dolfinx.fem.Function) -> dolfinx.fem.Function:
    """The function itself if it is degree-1 Lagrange, else its P1 interpolant."""
    element = function.function_space.ufl_element()
    if element.embedded_superdegree <= 1 and not element.discontinuous:
        return function
    shape = function.function_space.value_shape
    V1 = dolfinx.fem.functionspace(function.function_space.mesh, ("Lagrange", 1, shape))
    result = dolfinx.fem.Function(V1, name=function.name)
    result.interpolate(function)
    return result


def write_mesh_tags(path: pathlib.Path, stack, length_scale: float) -> None:
    """Write the mesh with its cell and facet tags (region/boundary markers) to XDMF."""
    msh = stack.msh
    with (coordinates_in_metres(msh, length_scale), staged(path, msh.comm) as target,
          dolfinx.io.XDMFFile(msh.comm, target, "w") as xdmf):
        xdmf.write_mesh(msh)
        stack.cell_tags.name = "regions"
        stack.facet_tags.name = "boundaries"
        xdmf.write_meshtags(stack.cell_tags, msh.geometry)
        xdmf.write_meshtags(stack.facet_tags, msh.geometry)


def _json_safe(value):
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def write_summary(path: pathlib.Path, summary: dict, comm: MPI.Comm) -> None:
    """Write the flat summary dict as JSON (rank 0, staged); NaN/inf become null."""
    if comm.rank == 0:
        with staged(path) as target:
            target.write_text(json.dumps(_json_safe(summary), indent=2) + "\n")
    comm.Barrier()


def write_csv(path: pathlib.Path, columns: dict[str, np.ndarray], comm: MPI.Comm) -> None:
    """Write equal-length columns as CSV with a header row (rank 0)."""
    if comm.rank == 0:
        header = ",".join(columns)
        data = np.column_stack([np.asarray(c, dtype=float) for c in columns.values()])
        with staged(path) as target:
            np.savetxt(target, data, delimiter=",", header=header, comments="", fmt="%.9e")
    comm.Barrier()
