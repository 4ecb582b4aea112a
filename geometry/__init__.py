"""Geometry of the tip–film problem: the layered stack, the contact disc, gmsh meshing.

Only :mod:`flexotip.geometry.mesh` imports DOLFINx; the rest is plain gmsh and NumPy.
"""
