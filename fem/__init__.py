"""Finite-element physics of flexotip: UFL forms per physics, the problems that solve them, PETSc solvers."""
