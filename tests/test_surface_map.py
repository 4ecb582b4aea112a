"""The surface map's depth average: a composite Gauss–Legendre rule over the surface layers.

On a layered mesh the discrete density has a kink in z at every layer face. One
Gauss–Legendre rule over the whole sensing depth integrates across those kinks and is
only approximately the mean; the composite rule over the layers is the integral of the
discrete field over the tagged sensing layer (to the rule's order inside each layer).
"""

from __future__ import annotations

from mpi4py import MPI

import dolfinx.fem
import dolfinx.mesh
import numpy as np

from flexotip.exports.surface_map import SurfaceMap

KINK = 0.3
"""Depth of the vertex plane where ln c has its kink (mesh length unit)."""


def _mean_density(layers):
    """The map of c = exp(|z + KINK|) over the depth [−1, 0], and the exact mean."""
    msh = dolfinx.mesh.create_box(MPI.COMM_WORLD, [[-1.0, -1.0, -1.0], [1.0, 1.0, 0.0]], [2, 2, 10],
                                  dolfinx.mesh.CellType.tetrahedron)
    space = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    log_density = dolfinx.fem.Function(space)
    log_density.interpolate(lambda x: np.abs(x[2] + KINK))  # P1-exact: the kink is a vertex plane
    surface_map = SurfaceMap.square(msh, (0.0, 0.0), 0.5, 3, 1.0, layers=layers)
    values = surface_map(log_density) + 1.0
    # ∫_{−1}^{0} exp(|z + k|) dz = (e^k − 1) + (e^{1−k} − 1)
    exact = np.expm1(KINK) + np.expm1(1.0 - KINK)
    return values, exact


def test_composite_rule_is_the_integral_over_the_layers():
    """Layers at the kink: the mean to 1e-9; one interval across it: off by more than 1e-4."""
    composite, exact = _mean_density([KINK, 1.0 - KINK])
    single, _ = _mean_density(None)
    assert np.all(np.isfinite(composite))
    assert np.max(np.abs(composite / exact - 1.0)) < 1e-9
    assert np.min(np.abs(single / exact - 1.0)) > 1e-4


def test_roughness_sees_speckle_and_not_a_smooth_peak():
    """A Gaussian bump of 4 nm is smooth (< 2 %); the same with cell-scale noise is not."""
    from flexotip.exports.surface_map import roughness

    spacing = 0.5e-9
    axis = np.arange(-64, 65) * spacing
    x, y = np.meshgrid(axis, axis, indexing="ij")
    radius = np.hypot(x, y)
    bump = 3.0 * np.exp(-(radius / 4e-9) ** 2)
    speckle = 0.3 * np.where((np.arange(129)[:, None] + np.arange(129)[None, :]) % 2 == 0, 1.0, -1.0)
    smooth, rough = (roughness(m, spacing, radius, 16e-9) for m in (bump, bump + speckle))
    print(f"\nroughness: smooth bump {smooth:.4f}, with a ±10 % checkerboard {rough:.4f}")
    assert smooth < 0.02 < rough
    assert np.isnan(roughness(np.where(radius > 30e-9, np.nan, bump), spacing, radius, 16e-9))
