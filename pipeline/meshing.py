"""The mesh of a run: the config's stack geometry, from the cache or gmsh, written with its tags."""

from __future__ import annotations

import logging
import pathlib

from mpi4py import MPI

from flexotip import interrupt
from flexotip.config import Config
from flexotip.fem import io
from flexotip.geometry import cache as mesh_cache
from flexotip.geometry.mesh import StackMesh, build_mesh
from flexotip.pipeline import parameters
from flexotip.units import Scales

log = logging.getLogger(__name__)


def mesh(comm: MPI.Comm, config: Config, outdir: pathlib.Path, scales: Scales,
         contact_radius: float | None = None) -> StackMesh:
    """Build the mesh of a config and write it with its tags (``mesh.xdmf``, ``mesh.msh``).

    ``contact_radius`` (m) re-centres the refinement of a solved contact (re-mesh).
    """
    log.info("meshing: film %.4g nm on %.4g nm substrate, %s domain of half-width %.4g nm, "
             "contact radius %.4g nm, edge cells %.3g nm",
             config.film.thickness * 1e9, config.film.substrate_thickness * 1e9,
             config.film.symmetry, config.film.half_width * 1e9,
             (contact_radius or config.contact_radius) * 1e9, config.mesh.contact_size * 1e9)
    geometry = parameters.stack_geometry(config, scales, contact_radius)
    cache = mesh_cache.default_directory() if config.mesh.cache else None
    stack = build_mesh(comm, geometry, msh_file=outdir / "mesh.msh", cache=cache)
    interrupt.reassert()  # gmsh puts its own C signal handlers in place of ours
    io.write_mesh_tags(outdir / "mesh.xdmf", stack, scales.length)
    return stack
