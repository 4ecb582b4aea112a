"""Measures and integration domains of a flexotip stack mesh, looked up by physical name.

The stack (:mod:`flexotip.geometry.stack`) has a film over a substrate, optionally an air
layer above, and the film top split into the contact disc and the rest. Under an air
layer the film top is made of interior facets (``dS``), otherwise of exterior ones
(``ds``): the functions here hide that difference from the physics.
"""

from __future__ import annotations

import dolfinx.fem
import dolfinx.mesh
import numpy as np
import ufl

from flexotip.fem import electromechanics
from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh


def _top_kind(stack: StackMesh) -> str:
    """"dS" when an air layer makes the film top interior, else "ds"."""
    return "dS" if names.AIR in stack.groups else "ds"


def solid_measure(stack: StackMesh) -> ufl.Measure | None:
    """Film and substrate cells when the mesh has an air layer; None when it has none."""
    if names.AIR not in stack.groups:
        return None
    dx = ufl.Measure("dx", domain=stack.msh, subdomain_data=stack.cell_tags)
    return dx((stack.groups[names.FILM], stack.groups[names.SUBSTRATE]))


def contact_measure(stack: StackMesh) -> ufl.Measure:
    """The contact disc: exterior facets, or interior ones (film below, air above)."""
    return ufl.Measure(_top_kind(stack), domain=stack.msh,
                       subdomain_data=stack.facet_tags)(stack.groups[names.CONTACT])


def top_measure(stack: StackMesh) -> ufl.Measure:
    """The whole film top, the contact disc included (exterior facets, or interior under air)."""
    groups = stack.groups
    return ufl.Measure(_top_kind(stack), domain=stack.msh, subdomain_data=stack.facet_tags)(
        (groups[names.FILM_TOP], groups[names.CONTACT]))


def film_domains(stack: StackMesh) -> electromechanics.Domains:
    """Integration domains of the electromechanical energy on a flexotip stack mesh."""
    msh, groups = stack.msh, stack.groups
    dx = ufl.Measure("dx", domain=msh, subdomain_data=stack.cell_tags)
    dS = ufl.Measure("dS", domain=msh, subdomain_data=stack.facet_tags)
    indicator = dolfinx.fem.Function(dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", 0)),
                                     name="film_indicator")
    indicator.x.array[stack.cells(names.FILM)] = 1.0
    indicator.x.scatter_forward()
    air = names.AIR in groups
    # The film's faces inside the mesh: its bottom, and its top under an air layer.
    interface = ((groups[names.FILM_SUBSTRATE], groups[names.FILM_TOP], groups[names.CONTACT]) if air
                 else groups[names.FILM_SUBSTRATE])
    # The film's physical surfaces: under air its top is interior (in the interface measure);
    # the symmetry planes and lateral walls are mirror planes, not surfaces.
    top = None if air else top_measure(stack)
    return electromechanics.Domains(
        dx_film=dx(groups[names.FILM]), dx_rest=dx(groups[names.SUBSTRATE]),
        dx_air=dx(groups[names.AIR]) if air else None,
        ds=top, dS_interface=dS(interface), film_indicator=indicator)


def tip_facets(stack: StackMesh, radius: float) -> np.ndarray:
    """Facets of the film top within ``radius`` (length scale) of the tip axis: the contact."""
    msh = stack.msh
    x0, y0 = stack.geometry.contact_center
    top = stack.film_top_facets()
    inside = dolfinx.mesh.locate_entities(  # interior facets too, under an air layer
        msh, msh.topology.dim - 1,
        lambda x: (np.hypot(x[0] - x0, x[1] - y0) <= radius * (1 + 1e-9) + 1e-12) & np.isclose(x[2], 0.0))
    return np.intersect1d(top, inside).astype(np.int32)
