"""The gmsh stack: named groups, measures of regions and boundaries, the size field."""

from __future__ import annotations

import math

import dolfinx.fem
import numpy as np
import pytest
import ufl

from flexotip.fem.postprocess import assemble_scalar
from flexotip.geometry import names
from flexotip.geometry.mesh import build_mesh
from flexotip.geometry.stack import StackGeometry, mesh_size

FRACTION = {"full": 1.0, "half": 0.5, "quarter": 0.25}


def geometry(symmetry: str, air: float = 0.0, center=(0.0, 0.0), band=None) -> StackGeometry:
    return StackGeometry(film_thickness=10.0, substrate_thickness=20.0, air_thickness=air,
                         half_width=40.0, contact_radius=5.0, contact_center=center,
                         contact_size=0.5, far_size=10.0, growth=0.4, symmetry=symmetry,
                         edge_band=band)


@pytest.mark.parametrize("symmetry", ["full", "half", "quarter"])
def test_groups_and_measures(comm, symmetry):
    g = geometry(symmetry, air=2.0, band=0.5 if symmetry == "half" else None)
    stack = build_mesh(comm, g)
    lateral = {"full": {names.WALL_XMIN, names.WALL_XMAX, names.WALL_YMIN, names.WALL_YMAX},
               "half": {names.SYMMETRY_X, names.WALL_XMAX, names.WALL_YMIN, names.WALL_YMAX},
               "quarter": {names.SYMMETRY_X, names.WALL_XMAX, names.SYMMETRY_Y, names.WALL_YMAX}}
    expected = {names.FILM, names.SUBSTRATE, names.AIR, names.CONTACT, names.FILM_TOP,
                names.FILM_SUBSTRATE, names.SUBSTRATE_BOTTOM, names.AIR_TOP,
                names.CONTACT_EDGE} | lateral[symmetry]
    assert set(stack.groups) == expected
    msh = stack.msh
    dx = ufl.Measure("dx", domain=msh, subdomain_data=stack.cell_tags)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=stack.facet_tags)
    dS = ufl.Measure("dS", domain=msh, subdomain_data=stack.facet_tags)
    one = dolfinx.fem.Constant(msh, 1.0)
    share = FRACTION[symmetry]
    box_area = (2 * 40.0) ** 2 * share
    assert assemble_scalar(one * dx(stack.groups[names.FILM])) == pytest.approx(box_area * 10.0)
    assert assemble_scalar(one * dx(stack.groups[names.SUBSTRATE])) == pytest.approx(box_area * 20.0)
    assert assemble_scalar(one * dx(stack.groups[names.AIR])) == pytest.approx(box_area * 2.0)
    # With air on top, the film top is an interior surface.
    disc = assemble_scalar(one("+") * dS(stack.groups[names.CONTACT]))
    assert disc == pytest.approx(math.pi * 25.0 * share, rel=5e-3)  # polygonal circle
    top = assemble_scalar(one("+") * dS(stack.groups[names.FILM_TOP]))
    assert top + disc == pytest.approx(box_area)
    assert assemble_scalar(one * ds(stack.groups[names.SUBSTRATE_BOTTOM])) == pytest.approx(box_area)
    assert stack.report.min_quality > 0.1
    assert stack.report.h_min < 0.5 < 10.0 < stack.report.h_max * 2


def test_off_centre_tip(comm):
    stack = build_mesh(comm, geometry("full", center=(10.0, -5.0)))
    msh = stack.msh
    ds = ufl.Measure("ds", domain=msh, subdomain_data=stack.facet_tags)
    x = ufl.SpatialCoordinate(msh)
    disc = ds(stack.groups[names.CONTACT])
    area = assemble_scalar(dolfinx.fem.Constant(msh, 1.0) * disc)
    centroid = [assemble_scalar(x[i] * disc) / area for i in range(2)]
    assert centroid == pytest.approx([10.0, -5.0], abs=1e-2)


def test_size_field_is_finest_at_the_edge():
    g = geometry("full")
    assert mesh_size(g, 5.0, 0.0, 0.0) == pytest.approx(0.5)
    assert mesh_size(g, 0.0, 0.0, 0.0) == pytest.approx(1.0)  # disc interior: 2 × edge size
    sizes = [mesh_size(g, 5.0 + d, 0.0, -d) for d in (0.0, 1.0, 4.0, 16.0, 100.0)]
    assert sizes == sorted(sizes)
    assert sizes[-1] == pytest.approx(10.0)


def test_cached_mesh_is_the_generated_one(comm, outdir):
    """The second build reads the cache: the same coordinates, cells and tags on every rank."""
    g = geometry("quarter", air=2.0)
    cache = outdir / "cache"
    generated = build_mesh(comm, g, cache=cache)
    cached = build_mesh(comm, g, cache=cache)
    assert not generated.report.from_cache and cached.report.from_cache
    assert cached.report.n_cells == generated.report.n_cells
    assert cached.groups == generated.groups
    for a, b in ((generated.msh.geometry.x, cached.msh.geometry.x),
                 (generated.msh.geometry.dofmaps[0], cached.msh.geometry.dofmaps[0]),
                 (generated.cell_tags.values, cached.cell_tags.values),
                 (generated.facet_tags.indices, cached.facet_tags.indices),
                 (generated.facet_tags.values, cached.facet_tags.values)):
        assert np.array_equal(a, b)
    other = build_mesh(comm, geometry("quarter", air=2.5), cache=cache)  # another key: meshed anew
    assert not other.report.from_cache
    if comm.rank == 0:
        assert len(list(cache.glob("*.msh"))) == 2 and not list(cache.glob("*.tmp*"))
