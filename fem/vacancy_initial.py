"""Where the vacancies start: the step profile of a poled region beside a pristine one.

The initial states set ln(c/c0) on the potential's Lagrange space (scaled coordinates) in
the film and leave it 0 (c = c0, and no vacancies counted) off it. An earlier run's final
state is read back by :mod:`flexotip.fem.checkpoint`.
"""

from __future__ import annotations

import dataclasses

import dolfinx.fem
import numpy as np


@dataclasses.dataclass(frozen=True)
class StepProfile:
    """c/c0 = 1 + excess·exp(z/depth) where x < border (z ≤ 0 below the film top), else 1.

    The enriched side models a region poled by a negatively biased tip (the paper's −5 V),
    the other the pristine film; the border is sharp (one cell wide once interpolated).

    Attributes:
        border: x of the border, mesh length unit.
        excess: c/c0 − 1 at the top of the enriched side (> 0).
        depth: Decay length of the excess below the top, mesh length unit.
        film_thickness: Mesh length unit; below the film (the substrate) w stays 0.
    """

    border: float
    excess: float
    depth: float
    film_thickness: float

    def __call__(self, w: dolfinx.fem.Function) -> None:
        """Set ln(c/c0) of the profile on ``w``'s space."""
        # The interpolation points of one node differ by round-off (~1e-15) between the cells
        # that compute them, with either sign: the tests must not depend on it, or the state
        # depends on the partition (the film top, and a border through nodes, as at x = 0).
        round_off = 1e-12 * self.film_thickness

        def log_density(x: np.ndarray) -> np.ndarray:
            in_film = (x[2] <= round_off) & (x[2] >= -self.film_thickness - round_off)
            enriched = in_film & (x[0] < self.border - round_off)
            return np.where(enriched, np.log1p(self.excess * np.exp(np.minimum(x[2], 0.0) / self.depth)), 0.0)

        w.interpolate(log_density)
        w.x.scatter_forward()
