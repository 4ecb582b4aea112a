"""gmsh → DOLFINx hand-over: mesh the stack on one rank and distribute it.

This is the only module of :mod:`flexotip.geometry` that imports DOLFINx. gmsh runs on
rank 0 only; the mesh, its cell/facet/ridge tags and the physical-group names reach
every rank through :func:`dolfinx.io.gmsh.model_to_mesh`. With a cache folder
(:mod:`flexotip.geometry.cache`) rank 0 reads a mesh generated before for the same
geometry instead of meshing again.
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib
import time

from mpi4py import MPI

import dolfinx.io.gmsh
import dolfinx.mesh
import numpy as np

from flexotip.geometry import cache as mesh_cache
from flexotip.geometry import names, quality
from flexotip.geometry.stack import StackGeometry, add_film_stack, mesh_size, surface_layers

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class MeshReport:
    """Size and quality of a generated mesh (model length unit).

    Attributes:
        n_cells: Number of tetrahedra.
        n_vertices: Number of mesh vertices.
        h_min: Shortest cell edge.
        h_max: Longest cell edge.
        min_quality: Worst cell quality (gmsh's minimum scaled Jacobian, SICN: 1 for a
            regular tetrahedron, <= 0 for an inverted one).
        time_s: Wall time of geometry + meshing (or of reading the cached mesh), s.
        from_cache: Whether the mesh was read from the cache instead of generated.
        max_dihedral_angle_deg: Largest dihedral angle of any cell, degrees.
        max_aspect_ratio: Largest longest-over-shortest edge ratio of any cell.
        layers_max_dihedral_angle_deg: The same over the cells of the surface layers
            (0 without layers).
        layers_max_aspect_ratio: The same over the cells of the surface layers.
        n_surface_layers: Number of cell layers above the surface depth (0: none).
    """

    n_cells: int
    n_vertices: int
    h_min: float
    h_max: float
    min_quality: float
    time_s: float
    from_cache: bool = False
    max_dihedral_angle_deg: float = 0.0
    max_aspect_ratio: float = 0.0
    layers_max_dihedral_angle_deg: float = 0.0
    layers_max_aspect_ratio: float = 0.0
    n_surface_layers: int = 0


@dataclasses.dataclass
class StackMesh:
    """A distributed DOLFINx mesh of the stack, with its tags looked up by name.

    Attributes:
        msh: The DOLFINx mesh (coordinates in the model length unit).
        cell_tags: Cell tags (film, substrate, air).
        facet_tags: Facet tags (contact, film_top, walls, ...).
        ridge_tags: Edge tags (contact_edge), or None.
        groups: Physical-group name → integer tag (e.g. ``groups["contact"]``).
        report: Size and quality report (identical on every rank).
        geometry: The geometry the mesh was built from.
    """

    msh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    facet_tags: dolfinx.mesh.MeshTags
    ridge_tags: dolfinx.mesh.MeshTags | None
    groups: dict[str, int]
    report: MeshReport
    geometry: StackGeometry

    def facets(self, name: str) -> np.ndarray:
        """Local indices of the facets of a named boundary (empty if absent)."""
        if name not in self.groups:
            return np.empty(0, dtype=np.int32)
        return self.facet_tags.find(self.groups[name])

    def film_top_facets(self) -> np.ndarray:
        """Local indices of the facets of the film top, the contact disc included."""
        return np.concatenate([self.facets(names.FILM_TOP), self.facets(names.CONTACT)])

    def cells(self, name: str) -> np.ndarray:
        """Local indices of the cells of a named region (empty if absent)."""
        if name not in self.groups:
            return np.empty(0, dtype=np.int32)
        return self.cell_tags.find(self.groups[name])


def _generate(model, geometry: StackGeometry) -> MeshReport:
    """Mesh the model in 3D with the graded size field and measure the result."""
    import gmsh

    start = time.perf_counter()
    add_film_stack(model, geometry)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.Algorithm3D", 10)
    model.mesh.setSizeCallback(lambda dim, tag, x, y, z, lc: mesh_size(geometry, x, y, z))
    log.info("gmsh: meshing surfaces")
    model.mesh.generate(2)
    log.info("gmsh: meshing volumes")
    model.mesh.generate(3)
    log.info("gmsh: optimising")
    model.mesh.optimize("")
    _, element_tags, _ = model.mesh.getElements(3)
    cells = np.concatenate(element_tags)
    quality = model.mesh.getElementQualities(cells, "minSICN")
    edge_min = model.mesh.getElementQualities(cells, "minEdge")
    edge_max = model.mesh.getElementQualities(cells, "maxEdge")
    node_tags, _, _ = model.mesh.getNodes()
    shape_all, shape_layers = _cell_shapes(model, geometry)
    return MeshReport(
        n_cells=int(cells.size),
        n_vertices=int(node_tags.size),
        h_min=float(edge_min.min()),
        h_max=float(edge_max.max()),
        min_quality=float(quality.min()),
        time_s=time.perf_counter() - start,
        max_dihedral_angle_deg=shape_all.max_dihedral_angle_deg,
        max_aspect_ratio=shape_all.max_aspect_ratio,
        layers_max_dihedral_angle_deg=shape_layers.max_dihedral_angle_deg,
        layers_max_aspect_ratio=shape_layers.max_aspect_ratio,
        n_surface_layers=sum(map(len, surface_layers(geometry))) if geometry.layered else 0,
    )


def _cell_shapes(model, geometry: StackGeometry) -> tuple[quality.CellShape, quality.CellShape]:
    """Worst dihedral angle and aspect ratio of all cells and of the surface layers' cells."""
    node_tags, coordinates, _ = model.mesh.getNodes()
    index = np.zeros(int(node_tags.max()) + 1, dtype=np.int64)
    index[node_tags.astype(np.int64)] = np.arange(node_tags.size)
    coordinates = coordinates.reshape(-1, 3)
    every, layered = [], []
    eps = 1e-6 * geometry.film_thickness
    for _, tag in model.getEntities(3):
        _, _, nodes = model.mesh.getElements(3, tag)
        cells = index[np.concatenate(nodes).astype(np.int64)].reshape(-1, 4)
        every.append(cells)
        z_low, z_high = model.getBoundingBox(3, tag)[2::3]
        if geometry.layered and z_high < eps and z_low > -geometry.surface_depth - eps:
            layered.append(cells)
    shape = quality.cell_shape(coordinates, np.concatenate(every))
    if not layered:
        return shape, quality.CellShape(0.0, 0.0)
    layers = quality.cell_shape(coordinates, np.concatenate(layered))
    return shape, layers


def _model_on_rank_zero(geometry: StackGeometry, cache: pathlib.Path | None) -> MeshReport:
    """Generate the stack's mesh in the current gmsh model, or read it from the cache (rank 0)."""
    import gmsh

    entry = mesh_cache.CacheEntry(cache, mesh_cache.key(geometry)) if cache is not None else None
    if entry is not None and entry.exists():
        start = time.perf_counter()
        gmsh.open(str(entry.msh))
        stored = entry.read_report() | {"time_s": time.perf_counter() - start, "from_cache": True}
        log.info("gmsh: mesh read from the cache, %s", entry.msh)
        return MeshReport(**stored)
    model = gmsh.model()
    model.add("flexotip_stack")
    report = _generate(model, geometry)
    if entry is not None:
        try:
            entry.store(dataclasses.asdict(report), geometry)
        except OSError as error:  # a read-only or full disk costs the cache, not the run
            log.warning("mesh cache not written (%s): %s", entry.directory, error)
    return report


def build_mesh(comm: MPI.Comm, geometry: StackGeometry, msh_file: str | None = None,
               cache: pathlib.Path | None = None) -> StackMesh:
    """Build the stack in gmsh on rank 0, mesh it, and distribute it over ``comm``.

    Args:
        comm: Communicator over which the mesh is distributed.
        geometry: Dimensions and refinement, model length unit.
        msh_file: Optional path; if given, rank 0 also writes the gmsh mesh there.
        cache: Folder of the mesh cache (:mod:`flexotip.geometry.cache`), or None to always
            mesh.

    Returns:
        The distributed mesh with its tags and report.
    """
    import gmsh

    report = None
    if comm.rank == 0:
        gmsh.initialize(interruptible=False)
        gmsh.option.setNumber("General.Terminal", 0)
        try:
            report = _model_on_rank_zero(geometry, cache)
            if msh_file is not None:
                gmsh.write(str(msh_file))
        except Exception as error:
            gmsh.finalize()
            report = error
    report = comm.bcast(report, root=0)
    if isinstance(report, Exception):
        raise RuntimeError(f"gmsh failed to mesh the stack: {report}") from None
    log.info("distributing the mesh over %d rank(s)", comm.size)
    try:
        # Interior-facet integrals (the film/substrate interface) need the cells on both
        # sides of every facet: ghost the cells that share a facet with owned ones.
        partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet, 2)
        model = gmsh.model if comm.rank == 0 else None
        data = dolfinx.io.gmsh.model_to_mesh(model, comm, 0, gdim=3, partitioner=partitioner)
    finally:
        if comm.rank == 0:
            gmsh.finalize()
    groups = {name: group.tag for name, group in data.physical_groups.items()}
    msh = data.mesh
    msh.topology.create_connectivity(2, 3)
    log.info(
        "mesh: %d cells, %d vertices, edge %.3g–%.3g, worst quality (SICN) %.3f, %.1f s%s",
        report.n_cells, report.n_vertices, report.h_min, report.h_max,
        report.min_quality, report.time_s, " (cached)" if report.from_cache else "",
    )
    return StackMesh(msh, data.cell_tags, data.facet_tags, data.ridge_tags, groups, report, geometry)
