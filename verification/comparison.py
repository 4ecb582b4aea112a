"""The terms of the FEM ↔ spectral cross-check: a resolution level, and how far apart two samplings are."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Level:
    """One resolution of a case: spectral modes per axis and the FEM's mesh parameters."""

    spectral: int
    fem: tuple


def relative_differences(fem: np.ndarray, spectral: np.ndarray) -> dict:
    """Relative L2 and max differences of a field sampled by both solvers (same shape)."""
    fem, spectral = np.asarray(fem, dtype=float), np.asarray(spectral, dtype=float)
    if np.any(~np.isfinite(fem)):
        raise RuntimeError("crosscheck: FEM samples contain NaN (a point outside the mesh)")
    scale_l2, scale_max = np.linalg.norm(spectral), np.abs(spectral).max()
    return {"relative_l2": float(np.linalg.norm(fem - spectral) / scale_l2),
            "relative_max": float(np.abs(fem - spectral).max() / scale_max),
            "spectral_max": float(scale_max)}
