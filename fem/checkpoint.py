"""A run's vacancies kept for later runs: ``checkpoint.h5``, written and read with io4dolfinx.

io4dolfinx (the maintained successor of adios4dolfinx, DOLFINx ≥ 0.10) writes the mesh and
the function in its own format; we use its h5py backend. Neither of its parallel back-ends
works with the pip wheels: PyPI's h5py and adios2 are built without MPI. So the checkpoint
is written by rank 0 from a serial copy of the mesh and the field (gathered in the input
ordering of the nodes and cells, which is the gmsh mesh's), and read back by every rank on
its own (``MPI.COMM_SELF``) — any number of ranks can read what any number wrote.

:class:`InitialFromRun` starts a run from the file: on the same mesh the values are copied
dof by dof (exact); on another mesh ln(c/c0) is interpolated (evaluated at the new dofs)
and the density then scaled by one factor, so that the total equals the source's (an
interpolation alone is not conservative; the factor is within 1e-3 of one on a resolved
source, and keeps c > 0).

A transient's checkpoint also holds its whole :class:`State` (group ``flexotip_state``):
every rank's arrays of every field as they are in memory (owned and ghost dofs), the
history and saved maps, and the stepper's place. It is read back by the same number of
ranks on the same mesh, which makes a resumed run take exactly the steps of one that was
never stopped (``flexotip run --resume``). The file is written under a staging name and
moved into place when complete (:func:`flexotip.files.staged`): the previous checkpoint is
replaced only by a complete one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pathlib

from mpi4py import MPI

import dolfinx.fem
import dolfinx.geometry
import dolfinx.mesh
import numpy as np
import ufl
from scipy.spatial import cKDTree

from flexotip.fem import vacancies
from flexotip.fem.domains import film_domains
from flexotip.fem.postprocess import assemble_scalar
from flexotip.files import staged
from flexotip.geometry.mesh import StackMesh

log = logging.getLogger(__name__)

BACKEND = "h5py"
FIELD = "log_density"
"""Name of ln(c/c0) in the file."""
ATTRIBUTES = "flexotip"
"""Name of the attribute group: c0 (1/m³), the length scale (m), the time (s), the total."""
STATE = "flexotip_state"
"""Name of the group of a transient's :class:`State`."""


@dataclasses.dataclass
class State:
    """A transient's whole state, to resume it exactly.

    Attributes:
        local: This rank's arrays, by name: every field's ``x.array`` (owned and ghost
            dofs) and the problem's per-rank arrays.
        shared: Arrays that every rank holds alike (the history's columns, saved maps).
        meta: JSON-able scalars: the stepper's place, counters, the config's hash, ranks.
        log_density: The ln(c/c0) Function the arrays were taken from, written beside the mesh
            for runs that start from it (not read back with the state).
    """

    local: dict[str, np.ndarray]
    shared: dict[str, np.ndarray]
    meta: dict
    log_density: dolfinx.fem.Function | None = None


def _serial_copy(w: dolfinx.fem.Function) -> dolfinx.fem.Function | None:
    """``w`` on one process: its mesh rebuilt on rank 0 in input ordering (collective; None elsewhere)."""
    msh = w.function_space.mesh
    comm, tdim = msh.comm, msh.topology.dim
    n_nodes = msh.geometry.index_map().size_local
    n_cells = msh.topology.index_map(tdim).size_local
    inputs = msh.geometry.input_global_indices
    nodes = (inputs[:n_nodes], msh.geometry.x[:n_nodes])
    cells = (msh.topology.original_cell_index[:n_cells], inputs[msh.geometry.dofmaps[0][:n_cells]])
    V = w.function_space
    n_dofs = V.dofmap.index_map.size_local * V.dofmap.index_map_bs
    values = (V.tabulate_dof_coordinates()[: V.dofmap.index_map.size_local], w.x.array[:n_dofs])
    gathered = comm.gather((nodes, cells, values), root=0)
    if comm.rank != 0:
        return None
    node_index = np.concatenate([g[0][0] for g in gathered])
    x = np.empty((node_index.size, 3))
    x[node_index] = np.concatenate([g[0][1] for g in gathered])
    cell_index = np.concatenate([g[1][0] for g in gathered])
    topology = np.empty((cell_index.size, msh.geometry.dofmaps[0].shape[1]), dtype=np.int64)
    topology[cell_index] = np.concatenate([g[1][1] for g in gathered])
    # A domain of its own: sharing the run mesh's UFL domain would confuse later forms on that mesh.
    serial = dolfinx.mesh.create_mesh(MPI.COMM_SELF, topology, msh.ufl_domain().ufl_coordinate_element(), x)
    copy = dolfinx.fem.Function(dolfinx.fem.functionspace(serial, V.ufl_element()), name=FIELD)
    coordinates = np.concatenate([g[2][0] for g in gathered])
    copy.x.array[:] = _matched(copy.function_space.tabulate_dof_coordinates(), coordinates,
                               np.concatenate([g[2][1] for g in gathered]), "the serial copy")
    return copy


def _coinciding(targets: np.ndarray, sources: np.ndarray) -> tuple[np.ndarray, float]:
    """For each target point the index of the nearest source point, and the largest distance.

    The points coincide when that distance is within 1e-12 of the sources' extent
    (:data:`COINCIDENT`, relative).
    """
    distance, index = cKDTree(sources).query(targets)
    scale = float(np.max(np.ptp(sources, axis=0))) or 1.0
    return index, (float(distance.max()) / scale if distance.size else 0.0)


COINCIDENT = 1e-12
"""Largest distance between two dofs taken for the same point, relative to the mesh's extent."""


def _matched(targets: np.ndarray, sources: np.ndarray, values: np.ndarray, what: str) -> np.ndarray:
    """The values at ``sources`` of the points that coincide with ``targets`` (raises if one does not)."""
    index, largest = _coinciding(targets, sources)
    if largest > COINCIDENT:
        raise RuntimeError(f"{what}: a dof has no coinciding source dof (distance {largest:.3g} of the "
                           "extent)")
    return values[index]


def write(path: pathlib.Path, w: dolfinx.fem.Function, *, c0: float, length_scale: float,
          time: float | None, total: float, symmetry_fraction: float = 1.0,
          state: State | None = None) -> None:
    """Write ln(c/c0) and its mesh, and a transient's state, to ``path`` (collective; rank 0 writes).

    Args:
        path: The checkpoint file (``checkpoint.h5``).
        w: ln(c/c0) on the potential's Lagrange space (scaled coordinates).
        c0: The run's c0, 1/m³.
        length_scale: Metres per mesh length unit.
        time: The time of the state, s (None: a steady state).
        total: ∫c/c0 over the meshed film (length scale cubed), which a run started from it keeps.
        symmetry_fraction: The meshed part of the box (1, 1/2, 1/4): a run on a larger part
            unfolds the field across the mirror planes and scales the total.
        state: A transient's whole state (every rank's part is gathered to rank 0).
    """
    import io4dolfinx

    comm = w.function_space.mesh.comm
    locals_ = comm.gather(state.local, root=0) if state is not None else None
    copy = _serial_copy(w)
    if copy is not None:
        with staged(path) as target:
            io4dolfinx.write_mesh(target, copy.function_space.mesh, backend=BACKEND)
            io4dolfinx.write_function(target, copy, time=0.0, name=FIELD, backend=BACKEND)
            element = w.function_space.ufl_element()
            io4dolfinx.write_attributes(target, MPI.COMM_SELF, ATTRIBUTES, {
                "c0_per_m3": np.array([c0]), "length_scale_m": np.array([length_scale]),
                "time_s": np.array([np.inf if time is None else time]), "total": np.array([total]),
                "symmetry_fraction": np.array([symmetry_fraction]),
                "degree": np.array([element.embedded_superdegree])}, backend=BACKEND)
            if state is not None:
                _write_state(target, state, locals_)
    comm.Barrier()


def _write_state(path: pathlib.Path, state: State, locals_: list[dict]) -> None:
    """The state's group: meta as JSON, the shared arrays, and every rank's arrays (rank 0)."""
    import h5py

    with h5py.File(path, "a") as file:
        group = file.create_group(STATE)
        group.attrs["meta"] = json.dumps(state.meta | {"n_ranks": len(locals_)})
        for name, values in state.shared.items():
            group.create_dataset(f"shared/{name}", data=np.asarray(values))
        for rank, arrays in enumerate(locals_):
            for name, values in arrays.items():
                group.create_dataset(f"rank_{rank}/{name}", data=np.asarray(values))


def read_meta(path: pathlib.Path) -> dict | None:
    """The meta of a checkpoint's state (on this process), or None if it holds none."""
    import h5py

    with h5py.File(path, "r") as file:
        return json.loads(file[STATE].attrs["meta"]) if STATE in file else None


def _datasets(group) -> dict[str, np.ndarray]:
    """Every dataset under an h5py group, by its path below it (names may hold "/")."""
    found = {}
    group.visititems(lambda name, item: found.__setitem__(name, item[()]) if hasattr(item, "shape") else None)
    return found


def read_state(path: pathlib.Path, comm: MPI.Comm) -> State:
    """This rank's part of a checkpoint's state (collective; every rank reads its own part).

    Raises:
        ValueError: If the state was written by another number of ranks.
    """
    import h5py

    with h5py.File(path, "r") as file:
        group = file[STATE]
        meta = json.loads(group.attrs["meta"])
        if meta["n_ranks"] != comm.size:
            raise ValueError(f"{path} was written by {meta['n_ranks']} rank(s); this run has {comm.size}")
        shared = _datasets(group["shared"]) if "shared" in group else {}
        local = _datasets(group[f"rank_{comm.rank}"])
    return State(local, shared, meta)


def read(path: pathlib.Path) -> tuple[dolfinx.fem.Function, dict]:
    """The checkpoint's ln(c/c0) on its mesh (on this process alone), and its attributes."""
    import io4dolfinx

    attributes = {k: float(v[0]) for k, v in io4dolfinx.read_attributes(
        path, MPI.COMM_SELF, ATTRIBUTES, backend=BACKEND).items()}
    msh = io4dolfinx.read_mesh(path, MPI.COMM_SELF, backend=BACKEND)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", int(attributes["degree"])))
    w = dolfinx.fem.Function(V, name=FIELD)
    io4dolfinx.read_function(path, w, time=0.0, name=FIELD, backend=BACKEND)
    return w, attributes


class InitialFromRun:
    """Sets ln(c/c0) at t = 0 to an earlier run's final state (see the module docstring).

    Args:
        folder: The earlier run's output folder (its ``checkpoint.h5``).
        stack: This run's mesh.
        c0: This run's c0, 1/m³ (the source's ln(c/c0) is shifted by ln(c0_source/c0)).
        length_scale: This run's metres per mesh length unit.
        symmetry_fraction: This run's meshed part of the box (1, 1/2, 1/4). A source meshed
            on less (a quarter box of a tip on the axis) is unfolded across its mirror planes
            x = 0 and y = 0, e.g. a static poling run for a full-box scan.

    Attributes:
        same_mesh: Whether the source's dofs are this run's (set when called).
        correction: The factor the interpolated density was scaled by (1 on the same mesh).
    """

    def __init__(self, folder: pathlib.Path, stack: StackMesh, c0: float, length_scale: float,
                 symmetry_fraction: float):
        from flexotip.config_values import CHECKPOINT_NAME

        self.path, self.stack, self.c0, self.length_scale = folder / CHECKPOINT_NAME, stack, c0, length_scale
        self.symmetry_fraction = symmetry_fraction
        self.same_mesh: bool | None = None
        self.correction = 1.0

    def __call__(self, w: dolfinx.fem.Function) -> None:
        """Set ``w`` from the checkpoint (collective)."""
        source, attributes = read(self.path)
        comm = w.function_space.mesh.comm
        scale = attributes["length_scale_m"] / self.length_scale
        source.function_space.mesh.geometry.x[:] *= scale
        shift = np.log(attributes["c0_per_m3"] / self.c0)
        V = w.function_space
        targets = V.tabulate_dof_coordinates()
        sources = source.function_space.tabulate_dof_coordinates()
        index, largest = _coinciding(targets, sources)
        same = sources.shape[0] == V.dofmap.index_map.size_global and largest <= COINCIDENT
        self.same_mesh = bool(comm.allreduce(same, op=MPI.LAND))
        if self.same_mesh:
            w.x.array[:] = source.x.array[index] + shift
            log.info("initial vacancies: %s on the same mesh, copied (t = %.4g s there)", self.path,
                     attributes["time_s"])
            return
        w.x.array[:] = _evaluate(source, _into(targets, sources)) + shift
        film = film_domains(self.stack).dx_film(
            metadata={"quadrature_degree": vacancies.quadrature_degree(V.ufl_element().embedded_superdegree)})
        outside = np.setdiff1d(np.arange(targets.shape[0]), _film_dofs(V, film))
        w.x.array[outside] = 0.0
        total_here = assemble_scalar(dolfinx.fem.form(ufl.exp(w) * film))
        unfolding = self.symmetry_fraction / attributes.get("symmetry_fraction", 1.0)
        wanted = attributes["total"] * scale**3 * attributes["c0_per_m3"] / self.c0 * unfolding
        self.correction = wanted / total_here
        w.x.array[:] += np.log(self.correction)
        w.x.array[outside] = 0.0
        w.x.scatter_forward()
        log.info("initial vacancies: %s interpolated onto this mesh; total restored by a factor %.8f",
                 self.path, self.correction)


def _film_dofs(V, dx_film) -> np.ndarray:
    """Local dofs of V that film cells touch."""
    from flexotip.fem.bcs import dofs_outside

    return np.setdiff1d(np.arange(V.dofmap.index_map.size_local + V.dofmap.index_map.num_ghosts),
                        dofs_outside(V, dx_film))


def _into(points: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """``points`` mirrored into a source meshed on x ≥ 0 (and y ≥ 0) only: |x| (and |y|)."""
    points = points.copy()
    tolerance = 1e-9 * float(np.max(np.ptp(sources, axis=0)))
    for axis in (0, 1):
        if sources[:, axis].min() >= -tolerance:
            points[:, axis] = np.abs(points[:, axis])
    return points


def _evaluate(source: dolfinx.fem.Function, points: np.ndarray) -> np.ndarray:
    """``source`` (on this process's serial mesh) at ``points``; raises for a point off its mesh."""
    msh = source.function_space.mesh
    tree = dolfinx.geometry.bb_tree(msh, msh.topology.dim)
    candidates = dolfinx.geometry.compute_collisions_points(tree, points)
    colliding = dolfinx.geometry.compute_colliding_cells(msh, candidates, points)
    cells = np.array([colliding.links(i)[0] if len(colliding.links(i)) else -1 for i in range(len(points))],
                     dtype=np.int32)
    if np.any(cells < 0):
        raise ValueError(f"{np.count_nonzero(cells < 0)} dofs of this mesh lie outside the earlier run's "
                         f"mesh (e.g. at {points[np.flatnonzero(cells < 0)[0]]}, mesh length unit): the "
                         "boxes must agree")
    return source.eval(points, cells)[:, 0]
