"""The film/substrate(/air) stack with the tip's contact disc, built in gmsh.

All lengths here are in the model's length unit (``Scales.length`` metres, 1 nm by
default): gmsh's geometry kernel has absolute tolerances of order 1e-8 and cannot
work in metres at nanometre sizes. This module never imports DOLFINx.

The builder follows the gmsh idiom ``add_film_stack(model, geometry) -> model``: it
adds entities and named physical groups to a model and returns it. Meshing and the
hand-over to DOLFINx happen in :mod:`flexotip.geometry.mesh`.
"""

from __future__ import annotations

import dataclasses
import math
import typing

from flexotip.geometry import names

if typing.TYPE_CHECKING:
    import gmsh

SYMMETRIES = ("full", "half", "quarter")


@dataclasses.dataclass(frozen=True)
class StackGeometry:
    """Dimensions of the layered box and of the refinement around the contact.

    Attributes:
        film_thickness: Film thickness (z from -film_thickness to 0).
        substrate_thickness: Substrate thickness below the film.
        air_thickness: Air layer above the film; 0 for none.
        half_width: Half of the lateral box size; the box spans [-half_width, half_width]
            in x and y (the kept part of it for half/quarter symmetry).
        contact_radius: Radius of the contact disc on the film top.
        contact_center: (x, y) of the tip axis.
        contact_size: Target cell size at the contact edge (r = contact_radius).
        far_size: Largest cell size, reached far from the contact.
        growth: Increase of the cell size per unit distance from the contact
            (dimensionless); smaller values grade the mesh more gently.
        symmetry: "full", "half" (keep x >= 0) or "quarter" (keep x >= 0, y >= 0).
        edge_band: Width of a band inside the contact edge bounded by an extra circle at
            r = contact_radius - edge_band, so that a load regularised over that band
            is smooth inside every cell; None for no band.
        refine_band: (inner, outer) radii of the annulus on the film top that gets
            ``contact_size`` cells, for a contact edge that is only predicted (solved
            contact); None refines the circle r = contact_radius only.
        surface_size: Thickness of the first cell layer under the film top; 0 for no
            layers (isotropic cells up to the top).
        surface_growth: Thickness ratio of neighbouring layers (> 1); the layers stop
            growing at ``contact_size``.
        surface_depth: Depth of the layered region.
        sensing_depth: Depth at which one layered volume ends exactly (the surface
            map's sensing depth), 0 < sensing_depth < surface_depth.
        scan_lines: The lines ((x0, y0), (x1, y1)) a scanning tip's axis moves along: every
            point within ``contact_radius`` of them gets ``contact_size`` cells (the contact
            edge passes everywhere there); empty for a tip that stays at ``contact_center``.

    All lengths are in the model's length unit.
    """

    film_thickness: float
    substrate_thickness: float
    air_thickness: float
    half_width: float
    contact_radius: float
    contact_center: tuple[float, float]
    contact_size: float
    far_size: float
    growth: float = 0.2
    symmetry: str = "full"
    edge_band: float | None = None
    refine_band: tuple[float, float] | None = None
    surface_size: float = 0.0
    surface_growth: float = 1.3
    surface_depth: float = 0.0
    sensing_depth: float = 0.0
    scan_lines: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = ()

    @property
    def bottom(self) -> float:
        """Z of the substrate bottom."""
        return -(self.film_thickness + self.substrate_thickness)

    @property
    def lateral_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((xmin, xmax), (ymin, ymax)) of the kept part of the box."""
        w = self.half_width
        x_lo = -w if self.symmetry == "full" else 0.0
        y_lo = 0.0 if self.symmetry == "quarter" else -w
        return (x_lo, w), (y_lo, w)

    @property
    def layered(self) -> bool:
        """Whether the film top is resolved by extruded surface layers."""
        return self.surface_size > 0.0


def surface_layers(geometry: StackGeometry) -> tuple[list[float], list[float]]:
    """Thicknesses of the surface layers above and below the sensing depth, top down.

    The thicknesses grow geometrically from ``surface_size`` by ``surface_growth`` and stop
    growing at ``contact_size``. The layer boundary nearest to the sensing depth is moved
    onto it, and the last one onto ``surface_depth``, by scaling each group of layers
    (so neighbouring ratios stay within a few per cent of ``surface_growth``).

    Returns:
        (layers from 0 down to -sensing_depth, layers from -sensing_depth down to
        -surface_depth), model length unit.
    """
    sizes, depth = [], 0.0
    while depth < geometry.surface_depth * (1.0 - 1e-12):
        size = min(geometry.surface_size * geometry.surface_growth ** len(sizes), geometry.contact_size)
        sizes.append(size)
        depth += size
    bottoms = [sum(sizes[: k + 1]) for k in range(len(sizes))]
    split = 1 + min(range(len(sizes) - 1), key=lambda k: abs(bottoms[k] - geometry.sensing_depth))
    end = 1 + min(range(split, len(sizes)), key=lambda k: abs(bottoms[k] - geometry.surface_depth))
    upper, lower = sizes[:split], sizes[split:end]
    scale_upper = geometry.sensing_depth / sum(upper)
    scale_lower = (geometry.surface_depth - geometry.sensing_depth) / sum(lower)
    return [h * scale_upper for h in upper], [h * scale_lower for h in lower]


def mesh_size(geometry: StackGeometry, x: float, y: float, z: float) -> float:
    """Target cell size at a point: finest at the contact edge, graded away from it.

    Three graded sizes are combined by their minimum: one grows with the distance from
    the contact edge circle, or from the refined band around it (starting at
    ``contact_size``), one grows with the distance
    from the contact disc (starting at twice ``contact_size``, so that the region under
    the tip is resolved as well as its edge), and ``far_size`` caps both.

    Args:
        geometry: The stack and its refinement parameters.
        x: Point coordinate, model length unit.
        y: Point coordinate, model length unit.
        z: Point coordinate, model length unit.

    Returns:
        The cell size at (x, y, z), model length unit.
    """
    x0, y0 = geometry.contact_center
    if geometry.layered and z < 0.0:
        # The layers copy the top face's triangles down to -surface_depth: below them,
        # the sizes grow from there.
        z = min(0.0, z + geometry.surface_depth)
    rho = math.hypot(x - x0, y - y0)
    inner, outer = geometry.refine_band or (geometry.contact_radius, geometry.contact_radius)
    if geometry.scan_lines:  # the contact edge sweeps the whole band around the path
        rho = min(rho, *(_distance_to_segment(x, y, *line) for line in geometry.scan_lines))
        inner = 0.0
    distance_edge = math.hypot(max(inner - rho, rho - outer, 0.0), z)
    distance_disc = math.hypot(max(rho - geometry.contact_radius, 0.0), z)
    h_edge = geometry.contact_size + geometry.growth * distance_edge
    h_disc = 2.0 * geometry.contact_size + geometry.growth * distance_disc
    return min(h_edge, h_disc, geometry.far_size)


def _distance_to_segment(x: float, y: float, start: tuple[float, float], end: tuple[float, float]) -> float:
    """Distance in the plane from (x, y) to the segment from start to end."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    t = min(max(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0), 1.0)
    return math.hypot(x - x0 - t * dx, y - y0 - t * dy)


def _contact_disc(model: gmsh.model, geometry: StackGeometry, radius: float, z: float = 0.0) -> list:
    """Add the (symmetry-cut) disc of a radius around the tip axis at height z; return dimtags."""
    occ = model.occ
    x0, y0 = geometry.contact_center
    disc = [(2, occ.addDisk(x0, y0, z, radius, radius))]
    if geometry.symmetry == "full":
        return disc
    (x_lo, x_hi), (y_lo, y_hi) = geometry.lateral_range
    rectangle = [(2, occ.addRectangle(x_lo, y_lo, z, x_hi - x_lo, y_hi - y_lo))]
    kept, _ = occ.intersect(disc, rectangle)
    return kept


def _extrude_surface_layers(model: gmsh.model, geometry: StackGeometry) -> None:
    """Extrude the plane z = -surface_depth up to the film top in layers, then the air.

    The faces of that plane (cut by the contact discs) are extruded up to -sensing_depth
    and on to the film top in layers of the thicknesses of :func:`surface_layers`,
    thinnest at the top (``recombine=False``: gmsh copies the plane's triangles into every
    layer and cuts each prism into three tetrahedra), and the top faces on, unstructured,
    through the air. No Boolean operation may follow an extrusion (gmsh would lose the
    layered meshes), and the layered columns end at -surface_depth, where cells are still
    as fine as the contact edge.
    """
    occ = model.occ
    depth = geometry.surface_depth
    tolerance = 1e-6 * geometry.film_thickness
    faces = [(2, tag) for _, tag in occ.getEntities(2)
             if all(abs(z + depth) < tolerance for z in occ.getBoundingBox(2, tag)[2::3])]
    upper, lower = surface_layers(geometry)
    for thicknesses in (lower[::-1], upper[::-1]):  # bottom up
        height = sum(thicknesses)
        heights = [sum(thicknesses[: k + 1]) / height for k in range(len(thicknesses))]
        extruded = occ.extrude(faces, 0.0, 0.0, height, numElements=[1] * len(thicknesses),
                               heights=heights, recombine=False)
        # For each face: [its translated copy, the volume, the lateral faces...].
        faces = [extruded[k - 1] for k, dimtag in enumerate(extruded) if dimtag[0] == 3]
    if geometry.air_thickness > 0.0:
        occ.extrude(faces, 0.0, 0.0, geometry.air_thickness)


def add_film_stack(model: gmsh.model, geometry: StackGeometry) -> gmsh.model:
    """Add the layered box, the contact disc and all named physical groups to a model.

    Volumes: ``film``, ``substrate`` and (if air_thickness > 0) ``air``. Surfaces:
    ``contact``, ``film_top``, ``film_substrate``, ``substrate_bottom``, ``air_top`` and
    the lateral ``wall_*`` / ``symmetry_*`` planes. Curve: ``contact_edge``. See
    :mod:`flexotip.geometry.names`.

    Args:
        model: A gmsh model (``gmsh.model``) on the rank that meshes.
        geometry: Dimensions, in the model's length unit.

    Returns:
        The same model, synchronised, with the physical groups defined.
    """
    occ = model.occ
    (x_lo, x_hi), (y_lo, y_hi) = geometry.lateral_range
    dx, dy = x_hi - x_lo, y_hi - y_lo
    t_film, t_air = geometry.film_thickness, geometry.air_thickness
    # With surface layers, the boxes and the contact disc(s) end at z = -surface_depth
    # and the layers are extruded from there (no Boolean operation may follow).
    depth = geometry.surface_depth if geometry.layered else 0.0
    layers = [
        (3, occ.addBox(x_lo, y_lo, geometry.bottom, dx, dy, geometry.substrate_thickness)),
        (3, occ.addBox(x_lo, y_lo, -t_film, dx, dy, t_film - depth)),
    ]
    if t_air > 0.0 and not geometry.layered:
        layers.append((3, occ.addBox(x_lo, y_lo, 0.0, dx, dy, t_air)))
    discs = _contact_disc(model, geometry, geometry.contact_radius, -depth)
    if geometry.edge_band is not None:
        discs += _contact_disc(model, geometry, geometry.contact_radius - geometry.edge_band, -depth)
    occ.fragment(layers, discs)
    occ.removeAllDuplicates()
    if geometry.layered:
        _extrude_surface_layers(model, geometry)
    occ.synchronize()

    groups: dict[str, list[int]] = {}
    for _, tag in model.getEntities(3):
        z = model.occ.getCenterOfMass(3, tag)[2]
        name = names.AIR if z > 0.0 else names.FILM if z > -t_film else names.SUBSTRATE
        groups.setdefault(name, []).append(tag)

    eps = 1e-6 * max(geometry.half_width, geometry.film_thickness + geometry.substrate_thickness)
    x0, y0 = geometry.contact_center
    a = geometry.contact_radius
    for _, tag in model.getEntities(2):
        xmin, ymin, zmin, xmax, ymax, zmax = model.getBoundingBox(2, tag)
        name = None
        if abs(zmax - zmin) < eps:
            if abs(zmin) < eps:
                inside_disc = (
                    xmin > x0 - a - eps and xmax < x0 + a + eps
                    and ymin > y0 - a - eps and ymax < y0 + a + eps
                )
                name = names.CONTACT if inside_disc else names.FILM_TOP
            elif abs(zmin + t_film) < eps:
                name = names.FILM_SUBSTRATE
            elif abs(zmin - geometry.bottom) < eps:
                name = names.SUBSTRATE_BOTTOM
            elif abs(zmin - t_air) < eps:
                name = names.AIR_TOP
        elif abs(xmax - xmin) < eps:
            if abs(xmin - x_hi) < eps:
                name = names.WALL_XMAX
            elif abs(xmin - x_lo) < eps:
                name = names.WALL_XMIN if geometry.symmetry == "full" else names.SYMMETRY_X
        elif abs(ymax - ymin) < eps:
            if abs(ymin - y_hi) < eps:
                name = names.WALL_YMAX
            elif abs(ymin - y_lo) < eps:
                name = names.SYMMETRY_Y if geometry.symmetry == "quarter" else names.WALL_YMIN
        if name is None and len(model.getAdjacencies(2, tag)[0]) == 2:
            continue  # an interior face of the layered film top: no boundary
        if name is None:
            raise RuntimeError(f"gmsh surface {tag} with bounding box "
                               f"{(xmin, ymin, zmin, xmax, ymax, zmax)} matches no boundary")
        groups.setdefault(name, []).append(tag)

    for _, tag in model.getEntities(1):
        lower, upper = model.getParametrizationBounds(1, tag)
        samples = [model.getValue(1, tag, [t]) for t in (lower[0], 0.5 * (lower[0] + upper[0]), upper[0])]
        on_edge = all(abs(p[2]) < eps and abs(math.hypot(p[0] - x0, p[1] - y0) - a) < eps for p in samples)
        if on_edge:
            groups.setdefault(names.CONTACT_EDGE, []).append(tag)

    dims = {name: 3 for name in names.VOLUMES} | {names.CONTACT_EDGE: 1}
    for name, tags in groups.items():
        model.addPhysicalGroup(dims.get(name, 2), sorted(tags), name=name)
    return model
