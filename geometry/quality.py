"""Shape measures of tetrahedra that matter for thin, aligned cells (NumPy only).

Thin cells are accurate for boundary layers as long as their largest angle stays bounded
(Babuška–Aziz; Apel, *Anisotropic Finite Elements*): a tetrahedron cut from a right prism
over a good triangle keeps every dihedral angle ≤ the triangle's largest angle or 90°,
however thin the prism. The measures here say whether a mesh keeps that promise:
the largest dihedral angle (degrees; 70.5° for a regular tetrahedron, → 180° for a
sliver or a needle with a flat face) and the aspect ratio (longest over shortest edge; 1
for a regular tetrahedron, about in-plane size / layer thickness for a layered cell).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

_EDGES = tuple(itertools.combinations(range(4), 2))
"""The six edges (i, j) of a tetrahedron; the dihedral angle of edge (i, j) is between
the two faces that share it, i.e. the faces opposite to the two other vertices."""


@dataclasses.dataclass(frozen=True)
class CellShape:
    """Worst shape measures of a set of tetrahedra.

    Attributes:
        max_dihedral_angle_deg: Largest dihedral angle over all cells, degrees.
        max_aspect_ratio: Largest ratio of a cell's longest to its shortest edge.
    """

    max_dihedral_angle_deg: float
    max_aspect_ratio: float


def dihedral_angles(points: np.ndarray) -> np.ndarray:
    """Interior dihedral angles (radians) of tetrahedra, shape (n, 6), one per edge.

    Args:
        points: Vertex coordinates, shape (n, 4, 3).
    """
    angles = np.empty((points.shape[0], 6))
    for column, (i, j) in enumerate(_EDGES):
        k, m = (v for v in range(4) if v not in (i, j))
        edge = points[:, j] - points[:, i]
        edge /= np.linalg.norm(edge, axis=1)[:, None]
        # Components of the two other vertices normal to the shared edge: the angle
        # between them is the dihedral angle at that edge.
        a = points[:, k] - points[:, i]
        b = points[:, m] - points[:, i]
        a -= np.sum(a * edge, axis=1)[:, None] * edge
        b -= np.sum(b * edge, axis=1)[:, None] * edge
        cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        angles[:, column] = np.arccos(np.clip(cosine, -1.0, 1.0))
    return angles


def edge_aspect_ratios(points: np.ndarray) -> np.ndarray:
    """Longest over shortest edge of each tetrahedron, shape (n,); points (n, 4, 3)."""
    lengths = np.stack([np.linalg.norm(points[:, j] - points[:, i], axis=1) for i, j in _EDGES], axis=1)
    return lengths.max(axis=1) / lengths.min(axis=1)


def cell_shape(coordinates: np.ndarray, cells: np.ndarray) -> CellShape:
    """The worst dihedral angle and aspect ratio of a tetrahedral mesh.

    Args:
        coordinates: Vertex coordinates, shape (n_vertices, 3).
        cells: Vertex indices of each tetrahedron, shape (n_cells, 4).
    """
    if cells.size == 0:
        return CellShape(0.0, 0.0)
    points = coordinates[cells]
    return CellShape(
        max_dihedral_angle_deg=float(np.degrees(dihedral_angles(points).max())),
        max_aspect_ratio=float(edge_aspect_ratios(points).max()),
    )
