"""Derived quantities: global scalars, recovered fields, point values, axis profiles.

Everything here is collective: call it on every rank, and every rank gets the same
result.
"""

from __future__ import annotations

import typing

from mpi4py import MPI

import dolfinx.fem
import dolfinx.geometry
import dolfinx.la
import numpy as np
import ufl

SAMPLE_DEPTH = 1e-6
"""Depth (length scale) below the film top at which surface values are sampled, so that
the point lies in a film cell with a face on the top (not in an air cell above it)."""
LOCATE_TOLERANCE = 1e-9
"""Padding (length scale) of the cells' bounding boxes when sample points are located."""


def assemble_scalar(form: ufl.Form | dolfinx.fem.Form) -> float:
    """Assemble a scalar form (compiled here unless it already is) and sum it over all ranks."""
    compiled = form if isinstance(form, dolfinx.fem.Form) else dolfinx.fem.form(form)
    return compiled.mesh.comm.allreduce(dolfinx.fem.assemble_scalar(compiled), op=MPI.SUM)


def global_max(values: np.ndarray, comm: MPI.Comm) -> float:
    """Largest of this rank's ``values`` over all ranks (−inf if none has any)."""
    return comm.allreduce(float(np.max(values)) if values.size else -np.inf, op=MPI.MAX)


def global_min(values: np.ndarray, comm: MPI.Comm) -> float:
    """Smallest of this rank's ``values`` over all ranks (+inf if none has any)."""
    return comm.allreduce(float(np.min(values)) if values.size else np.inf, op=MPI.MIN)


def recover(expr: ufl.core.expr.Expr, V: dolfinx.fem.FunctionSpace,
            name: str | None = None, dx: ufl.Measure | None = None) -> dolfinx.fem.Function:
    """Lumped L2 projection of an expression onto a continuous P1 space (no solve).

    Each nodal value is ∫ expr·φ_i dx / ∫ φ_i dx: a volume-weighted average of the
    expression around the node. It turns cell-wise stresses and strains into the smooth
    fields ParaView shows, and its gradient gives the strain gradient of P1 displacements.

    Args:
        expr: Expression with the value shape of V.
        V: Continuous degree-1 Lagrange space (any value shape).
        name: Name of the returned function (shown by ParaView).
        dx: Cells to average over (the solids, for stresses under an air layer); nodes
            outside them get 0. Default: the whole mesh.
    """
    w = ufl.TestFunction(V)
    shape = V.value_shape
    ones = ufl.as_tensor(np.ones(shape).tolist()) if shape else 1.0
    dx = dx if dx is not None else ufl.dx
    numerator = dolfinx.fem.assemble_vector(dolfinx.fem.form(ufl.inner(expr, w) * dx))
    weights = dolfinx.fem.assemble_vector(dolfinx.fem.form(ufl.inner(ones, w) * dx))
    for vector in (numerator, weights):
        vector.scatter_reverse(dolfinx.la.InsertMode.add)
    result = dolfinx.fem.Function(V, name=name)
    n = V.dofmap.index_map.size_local * V.dofmap.index_map_bs
    covered = weights.array[:n] != 0
    safe_weights = np.where(covered, weights.array[:n], 1.0)
    result.x.array[:n] = np.where(covered, numerator.array[:n] / safe_weights, 0.0)
    result.x.scatter_forward()
    return result


def recover_on_boundary(expr: ufl.core.expr.Expr, V: dolfinx.fem.FunctionSpace,
                        ds: ufl.Measure, name: str | None = None) -> dolfinx.fem.Function:
    """Lumped L2 projection onto a scalar P1 space over a boundary; zero off the boundary.

    Nodal value ∫_Γ expr·φ_i ds / ∫_Γ φ_i ds on the nodes of the boundary ``ds``
    (e.g. the contact pressure on the film top), 0 elsewhere.
    """
    w = ufl.TestFunction(V)
    numerator = dolfinx.fem.assemble_vector(dolfinx.fem.form(expr * w * ds))
    weights = dolfinx.fem.assemble_vector(dolfinx.fem.form(w * ds))
    for vector in (numerator, weights):
        vector.scatter_reverse(dolfinx.la.InsertMode.add)
    result = dolfinx.fem.Function(V, name=name)
    n = V.dofmap.index_map.size_local
    on_boundary = weights.array[:n] > 0
    safe_weights = np.where(on_boundary, weights.array[:n], 1.0)
    result.x.array[:n] = np.where(on_boundary, numerator.array[:n] / safe_weights, 0.0)
    result.x.scatter_forward()
    return result


class PointEvaluator:
    """Evaluates functions at fixed points, with the result on every rank.

    A point on a face shared by several cells (the tip axis lies on cell edges) gets the
    values of the cell with the smallest original (gmsh) index among those containing
    it, wherever that cell lives. The result, also of discontinuous fields, therefore
    does not depend on the number of ranks. Points outside the mesh give NaN.

    Args:
        msh: The mesh.
        points: Coordinates, shape (n, 3), mesh length unit.
    """

    def __init__(self, msh, points: np.ndarray):
        self.msh = msh
        self.points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 3)
        comm = msh.comm
        n_owned = msh.topology.index_map(msh.topology.dim).size_local
        original = np.asarray(msh.topology.original_cell_index).reshape(-1)
        # padded boxes: a point on the boundary can lie a round-off outside every cell (gmsh
        # puts the film top of a layered mesh at z ≈ −4e-16 nm), and unpadded boxes of thin
        # cells (0.02 nm) then miss it; the exact test below accepts it
        tree = dolfinx.geometry.bb_tree(msh, msh.topology.dim, padding=LOCATE_TOLERANCE,
                                        entities=np.arange(n_owned, dtype=np.int32))
        candidates = dolfinx.geometry.compute_collisions_points(tree, self.points)
        colliding = dolfinx.geometry.compute_colliding_cells(msh, candidates, self.points)
        none = np.iinfo(np.int64).max
        cells = np.full(len(self.points), -1, dtype=np.int32)
        claim = np.full(len(self.points), none, dtype=np.int64)
        for i in range(len(self.points)):
            links = colliding.links(i)
            if len(links) > 0:
                best = links[np.argmin(original[links])]
                cells[i], claim[i] = best, original[best]
        winner = np.empty_like(claim)
        comm.Allreduce(claim, winner, op=MPI.MIN)
        self.found = winner < none
        self._mine = np.flatnonzero(self.found & (claim == winner))
        self._cells = cells[self._mine]

    def __call__(self, function: dolfinx.fem.Function) -> np.ndarray:
        """Values of ``function`` at the points, shape (n, value_size)."""
        size = int(np.prod(function.function_space.value_shape, dtype=int))
        local = np.zeros((len(self.points), size))
        if len(self._mine) > 0:
            local[self._mine] = function.eval(self.points[self._mine], self._cells).reshape(-1, size)
        values = np.empty_like(local)
        self.msh.comm.Allreduce(local, values, op=MPI.SUM)
        values[~self.found] = np.nan
        return values


def largest_nodal_norm(function: dolfinx.fem.Function, degree: int,
                       where: typing.Callable[[np.ndarray], np.ndarray] | None = None
                       ) -> tuple[float, np.ndarray]:
    """Largest |f| over the nodes of a vector field, and where (every rank gets both).

    The field is read at the nodes of Lagrange of ``degree``; a field in another space of
    the same mesh (e.g. bubble-enriched, whose bubble coefficients are not point values)
    is interpolated there first. ``where`` (node coordinates (n, 3) → bool mask) restricts
    the maximum to a region; with no node in it, the result is (0.0, NaNs).

    Returns:
        (largest magnitude, coordinates of that node in the mesh unit).
    """
    V = function.function_space
    lagrange = dolfinx.fem.functionspace(V.mesh, ("Lagrange", degree, V.value_shape))
    if V.dofmap.index_map.size_global != lagrange.dofmap.index_map.size_global:
        nodal = dolfinx.fem.Function(lagrange)
        nodal.interpolate(function)
        V, function = lagrange, nodal
    bs = V.dofmap.index_map_bs
    n = V.dofmap.index_map.size_local
    magnitude = np.linalg.norm(function.x.array[: bs * n].reshape(n, bs), axis=1)
    if where is not None:
        magnitude = np.where(where(V.tabulate_dof_coordinates()[:n]), magnitude, -1.0)
    comm = V.mesh.comm
    value, owner = comm.allreduce((float(magnitude.max()) if n else -1.0, comm.rank), op=MPI.MAXLOC)
    if value < 0.0:
        return 0.0, np.full(3, np.nan)
    position = V.tabulate_dof_coordinates()[int(np.argmax(magnitude))] if comm.rank == owner else None
    return value, comm.bcast(position, root=owner)


def max_shear(stress_tensors: np.ndarray) -> np.ndarray:
    """Maximum shear stress (σ_max - σ_min)/2 of symmetric 3×3 tensors, shape (n, 9); NaN for NaN rows."""
    tensors = stress_tensors.reshape(-1, 3, 3)
    finite = np.all(np.isfinite(tensors), axis=(1, 2))
    shear = np.full(tensors.shape[0], np.nan)
    principal = np.linalg.eigvalsh(tensors[finite])
    shear[finite] = 0.5 * (principal[:, -1] - principal[:, 0])
    return shear


def depth_of_maximum(depths: np.ndarray, values: np.ndarray,
                     window: float = 0.98) -> tuple[float, float]:
    """Largest sample of a profile, and where the profile peaks.

    The position is the centroid of the samples within ``window`` of the largest one,
    weighted by how far they rise above that threshold. For a smooth peak this is the
    peak; for the piecewise-constant stress of P1 elements it is the middle of the
    highest plateau, rather than one end of it picked by round-off.

    Args:
        depths: Sample positions, increasing.
        values: Sampled values (NaN ignored).
        window: Fraction of the largest value above which samples count.

    Returns:
        (largest value, position of the peak).
    """
    finite = np.isfinite(values)
    depths, values = depths[finite], values[finite]
    peak = float(values.max())
    weights = np.clip(values - window * peak, 0.0, None)
    if weights.sum() == 0.0:
        return peak, float(depths[np.argmax(values)])
    return peak, float(np.sum(weights * depths) / weights.sum())
