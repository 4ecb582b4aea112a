"""Dirichlet boundary conditions, located by physical-group name."""

from __future__ import annotations

import dolfinx.fem
import dolfinx.la
import numpy as np
import ufl

from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh

ROLLER_NORMALS = {
    names.WALL_XMIN: 0, names.WALL_XMAX: 0, names.SYMMETRY_X: 0,
    names.WALL_YMIN: 1, names.WALL_YMAX: 1, names.SYMMETRY_Y: 1,
}
"""Lateral boundary → index of its normal displacement component."""


def mechanical_bcs(V: dolfinx.fem.FunctionSpace, stack: StackMesh,
                   dx_solid: ufl.Measure | None = None) -> list[dolfinx.fem.DirichletBC]:
    """Clamped substrate bottom and rollers (u_n = 0) on lateral walls and symmetry planes.

    Args:
        V: Vector space of the displacement on ``stack.msh``.
        stack: The mesh with its named facet tags.
        dx_solid: Film and substrate cells under an air layer: u is pinned to 0 on the
            dofs no solid cell touches (the air carries no displacement).

    Returns:
        The homogeneous Dirichlet conditions.
    """
    fdim = stack.msh.topology.dim - 1
    clamped = dolfinx.fem.locate_dofs_topological(V, fdim, stack.facets(names.SUBSTRATE_BOTTOM))
    if dx_solid is not None:
        clamped = np.unique(np.concatenate([clamped, dofs_outside(V, dx_solid)])).astype(np.int32)
    zero = dolfinx.fem.Constant(stack.msh, dolfinx.default_scalar_type((0.0, 0.0, 0.0)))
    return [dolfinx.fem.dirichletbc(zero, clamped, V), *normal_component_bcs(V, stack)]


def normal_component_bcs(V: dolfinx.fem.FunctionSpace, stack: StackMesh) -> list[dolfinx.fem.DirichletBC]:
    """Zero normal component of a vector field on the lateral walls and symmetry planes."""
    fdim = stack.msh.topology.dim - 1
    bcs = []
    for name, component in ROLLER_NORMALS.items():
        if name not in stack.groups:
            continue
        Vi = V.sub(component)
        dofs = dolfinx.fem.locate_dofs_topological(Vi, fdim, stack.facets(name))
        bcs.append(dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), dofs, Vi))
    return bcs


def dofs_outside(V: dolfinx.fem.FunctionSpace, dx_inside) -> np.ndarray:
    """Local (block) dofs of V that no cell of the measure ``dx_inside`` touches.

    A dof belongs to a region when ∫_region v_i dx > 0. The test is assembled and summed
    over ranks, so a dof on a partition boundary gets the same answer on every rank,
    whichever cells each rank holds.
    """
    v = ufl.TestFunction(V)
    first = v[0] if V.dofmap.index_map_bs > 1 else v
    weights = dolfinx.fem.assemble_vector(dolfinx.fem.form(first * dx_inside))
    weights.scatter_reverse(dolfinx.la.InsertMode.add)
    weights.scatter_forward()
    bs = V.dofmap.index_map_bs
    return np.flatnonzero(weights.array[::bs] == 0.0).astype(np.int32)


def polarization_bcs(V: dolfinx.fem.FunctionSpace, stack: StackMesh,
                     dx_film) -> list[dolfinx.fem.DirichletBC]:
    """P = 0 off the film, P_n = 0 on the lateral walls and symmetry planes (mirror walls)."""
    zero = dolfinx.fem.Constant(stack.msh, dolfinx.default_scalar_type((0.0, 0.0, 0.0)))
    return [dolfinx.fem.dirichletbc(zero, dofs_outside(V, dx_film), V), *normal_component_bcs(V, stack)]


def potential_bcs(V: dolfinx.fem.FunctionSpace, stack: StackMesh, dx_dielectric,
                  electric_bc: str, tip_potential: dolfinx.fem.Constant,
                  tip_facets: np.ndarray | None) -> list[dolfinx.fem.DirichletBC]:
    """Electric conditions on φ (scaled potential).

    * φ = 0 in the conducting substrate and on the film/substrate interface (grounded
      Nb:STO), i.e. on every dof off the dielectric (film and air);
    * ``short-circuit``: φ = 0 on the film top (grounded surface);
      ``open``: zero normal D on the film top (natural);
      ``air-gap``: φ = 0 on the top of the air layer;
    * φ = ``tip_potential`` on ``tip_facets`` (the contact, the tip being a conductor),
      applied last so that it wins on the contact's rim.
    Lateral walls and symmetry planes keep the natural zero normal D.
    """
    fdim = stack.msh.topology.dim - 1
    zero = dolfinx.default_scalar_type(0.0)
    grounded = [dofs_outside(V, dx_dielectric),
                dolfinx.fem.locate_dofs_topological(V, fdim, stack.facets(names.FILM_SUBSTRATE))]
    if electric_bc == "short-circuit":
        grounded.append(dolfinx.fem.locate_dofs_topological(V, fdim, stack.film_top_facets()))
    elif electric_bc == "air-gap":
        grounded.append(dolfinx.fem.locate_dofs_topological(V, fdim, stack.facets(names.AIR_TOP)))
    elif electric_bc != "open":
        raise ValueError(f"electric_bc = {electric_bc!r}: must be short-circuit, open or air-gap")
    bcs = [dolfinx.fem.dirichletbc(zero, np.unique(np.concatenate(grounded)).astype(np.int32), V)]
    if tip_facets is not None:
        dofs = dolfinx.fem.locate_dofs_topological(V, fdim, tip_facets)
        bcs.append(dolfinx.fem.dirichletbc(tip_potential, dofs, V))
    return bcs
