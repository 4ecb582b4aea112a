"""Dirichlet boundary conditions, located by physical-group name."""

from __future__ import annotations

import dolfinx.fem

from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh

ROLLER_NORMALS = {
    names.WALL_XMIN: 0, names.WALL_XMAX: 0, names.SYMMETRY_X: 0,
    names.WALL_YMIN: 1, names.WALL_YMAX: 1, names.SYMMETRY_Y: 1,
}
"""Lateral boundary → index of its normal displacement component."""


def mechanical_bcs(V: dolfinx.fem.FunctionSpace, stack: StackMesh) -> list[dolfinx.fem.DirichletBC]:
    """Clamped substrate bottom and rollers (u_n = 0) on lateral walls and symmetry planes.

    Args:
        V: Vector space of the displacement on ``stack.msh``.
        stack: The mesh with its named facet tags.

    Returns:
        The homogeneous Dirichlet conditions.
    """
    fdim = stack.msh.topology.dim - 1
    clamped = dolfinx.fem.locate_dofs_topological(V, fdim, stack.facets(names.SUBSTRATE_BOTTOM))
    zero = dolfinx.fem.Constant(stack.msh, dolfinx.default_scalar_type((0.0, 0.0, 0.0)))
    bcs = [dolfinx.fem.dirichletbc(zero, clamped, V)]
    for name, component in ROLLER_NORMALS.items():
        if name not in stack.groups:
            continue
        Vi = V.sub(component)
        dofs = dolfinx.fem.locate_dofs_topological(Vi, fdim, stack.facets(name))
        bcs.append(dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), dofs, Vi))
    return bcs
