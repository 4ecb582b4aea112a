"""PointEvaluator: points on the boundary a round-off outside every cell are still found."""

from __future__ import annotations

from mpi4py import MPI

import dolfinx.fem
import dolfinx.mesh
import numpy as np

from flexotip.fem.postprocess import PointEvaluator


def test_a_corner_a_round_off_outside_thin_cells_is_found_and_a_far_point_is_not():
    """A layered mesh's film top at z ≈ −4e-16 nm under 0.02 nm layers: the corner is found.

    Unpadded bounding boxes have a tolerance relative to the cell (2e-16 there) and miss it.
    """
    layer = 0.02
    msh = dolfinx.mesh.create_box(MPI.COMM_WORLD, [[0.0, 0.0, -layer], [1.0, 1.0, 0.0]], [3, 3, 1],
                                  dolfinx.mesh.CellType.tetrahedron)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3,)))
    identity = dolfinx.fem.Function(V)
    identity.interpolate(lambda x: x)
    above = 4.4e-16
    points = np.array([[0.0, 0.0, above],          # a round-off above the corner
                       [0.5, 0.5, above],          # ... above the face
                       [0.5, 0.5, 1e-7],           # truly outside
                       [0.25, 0.5, -0.5 * layer]])  # inside
    values = PointEvaluator(msh, points)(identity)
    assert np.allclose(values[[0, 1, 3]], points[[0, 1, 3]], atol=1e-12)
    assert np.isnan(values[2]).all()
