"""flexotip: finite-element model of a scanning-probe tip pressing a SrTiO3 film.

The mechanics of the tip load, flexoelectric polarisation, the depolarisation field and
oxygen-vacancy transport, solved with DOLFINx and PETSc (``flexotip.fem``) on gmsh
meshes (``flexotip.geometry``), with studies (``flexotip.studies``) on top.
"""

try:  # The pip wheel of DOLFINx must load MPI before any compiled module.
    import dolfinx_solver  # noqa: F401
except ModuleNotFoundError:  # conda-forge installs need no such step.
    pass

__version__ = "0.1.0"
