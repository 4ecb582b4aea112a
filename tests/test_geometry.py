"""The gmsh stack: named groups, measures of regions and boundaries, the size field."""

from __future__ import annotations

import math

import dolfinx.fem
import numpy as np
import pytest
import ufl

from flexotip.fem.postprocess import assemble_scalar
from flexotip.geometry import names, quality
from flexotip.geometry.mesh import build_mesh
from flexotip.geometry.stack import StackGeometry, mesh_size, surface_layers

FRACTION = {"full": 1.0, "half": 0.5, "quarter": 0.25}


def geometry(symmetry: str, air: float = 0.0, center=(0.0, 0.0), band=None,
             surface_size: float = 0.0) -> StackGeometry:
    return StackGeometry(film_thickness=10.0, substrate_thickness=20.0, air_thickness=air,
                         half_width=40.0, contact_radius=5.0, contact_center=center,
                         contact_size=0.5, far_size=10.0, growth=0.4, symmetry=symmetry,
                         edge_band=band, surface_size=surface_size, surface_growth=1.3,
                         surface_depth=2.0 if surface_size else 0.0,
                         sensing_depth=1.0 if surface_size else 0.0)


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


def test_surface_layers_grade_and_end_on_the_sensing_and_surface_depths():
    g = geometry("full", surface_size=0.05)
    upper, lower = surface_layers(g)
    assert sum(upper) == pytest.approx(1.0, rel=1e-14) and sum(lower) == pytest.approx(1.0, rel=1e-14)
    thicknesses = np.array(upper + lower)
    assert thicknesses[0] == pytest.approx(0.05, rel=0.2)  # the groups are rescaled to fit
    ratios = thicknesses[1:] / thicknesses[:-1]
    assert np.all(ratios[: len(upper) - 1] == pytest.approx(1.3))
    assert np.all(ratios < 1.3 * 1.2) and thicknesses.max() <= 0.5 * 1.2  # capped near contact_size


def test_cell_shape_measures():
    regular = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)
    corner = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    assert np.degrees(quality.dihedral_angles(regular[None])) == pytest.approx(
        np.full((1, 6), 70.5288), abs=1e-4)
    assert sorted(np.degrees(quality.dihedral_angles(corner[None]))[0]) == pytest.approx(
        [54.7356] * 3 + [90.0] * 3, abs=1e-4)
    thin = corner * [1.0, 1.0, 1e-3]  # a flat corner tetrahedron: thin, its largest angle still 90°
    shape = quality.cell_shape(thin, np.array([[0, 1, 2, 3]]))
    assert shape.max_dihedral_angle_deg == pytest.approx(90.0) and shape.max_aspect_ratio == pytest.approx(
        math.sqrt(2) / 1e-3, rel=1e-6)
    sliver = np.array([[0, 0, 0], [1, 1, 0], [1, 0, 1e-3], [0, 1, 1e-3]], dtype=float)
    assert quality.cell_shape(sliver, np.array([[0, 1, 2, 3]])).max_dihedral_angle_deg > 179.0


@pytest.mark.parametrize(("symmetry", "air", "band"), [("full", 0.0, None), ("half", 2.0, 0.5),
                                                       ("quarter", 2.0, None)])
def test_layered_film_top(comm, symmetry, air, band):
    """Layers under the film top: exact volumes, planes at their depths, bounded angles."""
    g = geometry(symmetry, air=air, band=band, surface_size=0.05)
    stack = build_mesh(comm, g)
    plain = {names.FILM, names.SUBSTRATE, names.CONTACT, names.FILM_TOP, names.FILM_SUBSTRATE,
             names.SUBSTRATE_BOTTOM, names.CONTACT_EDGE}
    assert plain <= set(stack.groups)
    msh = stack.msh
    dx = ufl.Measure("dx", domain=msh, subdomain_data=stack.cell_tags)
    one = dolfinx.fem.Constant(msh, 1.0)
    box_area = (2 * 40.0) ** 2 * FRACTION[symmetry]
    assert assemble_scalar(one * dx(stack.groups[names.FILM])) == pytest.approx(box_area * 10.0)
    assert assemble_scalar(one * dx(stack.groups[names.SUBSTRATE])) == pytest.approx(box_area * 20.0)
    facet = "+" if air else None
    ds = ufl.Measure("dS" if air else "ds", domain=msh, subdomain_data=stack.facet_tags)
    one_side = one(facet) if facet else one
    disc = assemble_scalar(one_side * ds(stack.groups[names.CONTACT]))
    assert disc == pytest.approx(math.pi * 25.0 * FRACTION[symmetry], rel=5e-3)
    # Every vertex of the graded region sits on one of the layer planes, among them
    # z = -sensing_depth and z = -surface_depth exactly.
    upper, lower = surface_layers(g)
    planes = -np.cumsum([0.0, *upper, *lower])
    z = msh.geometry.x[:, 2]
    graded = z[(z <= 0.0) & (z >= -g.surface_depth - 1e-9)]
    assert np.min(np.abs(graded[:, None] - planes[None, :]), axis=1).max() < 1e-9
    found = np.unique(np.concatenate(comm.allgather(np.round(graded, 9))))
    assert found == pytest.approx(np.sort(np.round(planes, 9)), abs=1e-9)
    report = stack.report
    assert report.n_surface_layers == len(planes) - 1
    assert report.layers_max_aspect_ratio > 20.0  # thin cells under coarse triangles
    assert report.layers_max_dihedral_angle_deg < 140.0  # prisms over good triangles
    assert 0.0 < report.max_dihedral_angle_deg < 180.0
