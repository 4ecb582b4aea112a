"""Finite-element physics of flexotip: UFL forms per physics, PETSc solvers, I/O."""
