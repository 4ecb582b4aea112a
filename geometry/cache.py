"""The cache of generated meshes: a study member or a repeated run skips gmsh.

A mesh is stored as a binary gmsh file (exact coordinates) with its report, under a key
that hashes everything the mesh depends on: the :class:`~flexotip.geometry.stack.StackGeometry`,
the gmsh version and the source of the geometry package's meshing code (so that a change of
:mod:`flexotip.geometry.stack` or :mod:`flexotip.geometry.mesh` never serves a stale mesh).
Reading the file back gives the same DOLFINx mesh as the generated model, node for node.

Where the cache lives (:func:`default_directory`): ``$FLEXOTIP_MESH_CACHE`` if set (empty or
``off`` switches the cache off); else ``meshes/cache`` of the source checkout flexotip runs
from (git-ignored); else ``$XDG_CACHE_HOME/flexotip/meshes``. Only rank 0 touches it, and
entries are written under a temporary name and renamed, so concurrent runs never read a
half-written mesh. Deleting the folder is always safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib

from flexotip.geometry.stack import StackGeometry

PACKAGE = pathlib.Path(__file__).resolve().parent
"""The geometry package: its meshing source is part of every key."""

SOURCES = ("stack.py", "mesh.py", "names.py", "quality.py")
"""Files of this package whose text a cached mesh depends on."""


def default_directory() -> pathlib.Path | None:
    """The cache folder (see the module docstring), or None when the cache is off."""
    setting = os.environ.get("FLEXOTIP_MESH_CACHE")
    if setting is not None:
        return None if setting.strip().lower() in ("", "off", "0", "false", "no") else pathlib.Path(setting)
    checkout = PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "meshes").is_dir():
        return checkout / "meshes" / "cache"
    base = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
    return base / "flexotip" / "meshes"


def key(geometry: StackGeometry) -> str:
    """The cache key of a geometry: a SHA-256 of its fields, gmsh's version and the meshing code."""
    import gmsh

    digest = hashlib.sha256()
    digest.update(json.dumps(dataclasses.asdict(geometry), sort_keys=True).encode())
    digest.update(gmsh.__version__.encode())
    for name in SOURCES:
        digest.update((PACKAGE / name).read_bytes())
    return digest.hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class CacheEntry:
    """One cached mesh: ``<key>.msh`` (binary gmsh) and ``<key>.json`` (its report, its geometry)."""

    directory: pathlib.Path
    key: str

    @property
    def msh(self) -> pathlib.Path:
        """The gmsh file."""
        return self.directory / f"{self.key}.msh"

    @property
    def record(self) -> pathlib.Path:
        """The JSON record: the mesh report and the geometry it was built from."""
        return self.directory / f"{self.key}.json"

    def exists(self) -> bool:
        """Whether both files are there (the record is written last)."""
        return self.msh.is_file() and self.record.is_file()

    def read_report(self) -> dict:
        """The stored mesh report (fields of :class:`~flexotip.geometry.mesh.MeshReport`)."""
        return json.loads(self.record.read_text())["report"]

    def store(self, report: dict, geometry: StackGeometry) -> None:
        """Write the current gmsh model and its record, each under a temporary name first."""
        import gmsh

        self.directory.mkdir(parents=True, exist_ok=True)
        suffix = f".{os.getpid()}.tmp"
        binary = gmsh.option.getNumber("Mesh.Binary")
        gmsh.option.setNumber("Mesh.Binary", 1)
        try:
            gmsh.write(str(self.msh) + suffix + ".msh")
        finally:
            gmsh.option.setNumber("Mesh.Binary", binary)
        os.replace(str(self.msh) + suffix + ".msh", self.msh)
        record = {"report": report, "geometry": dataclasses.asdict(geometry)}
        temporary = pathlib.Path(str(self.record) + suffix)
        temporary.write_text(json.dumps(record, indent=1))
        os.replace(temporary, self.record)
