"""The shared test helpers (tests/helpers.py) give the values they promise, on every rank alike."""

from __future__ import annotations

import math

from mpi4py import MPI

import dolfinx.mesh
import numpy as np
import pytest
import ufl
from helpers import error_H1, error_L2, fitted_rate, observed_rates, relative_difference


def test_error_norms_of_known_fields():
    """On the unit square: ‖xy‖ = 1/3, |xy|_H1 = √(2/3); ‖(x, 2y)‖ = √(5/3), |(x, 2y)|_H1 = √5."""
    msh = dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 6, 5)
    x = ufl.SpatialCoordinate(msh)
    dx = ufl.Measure("dx", msh, metadata={"quadrature_degree": 4})
    scalar, vector = x[0] * x[1], ufl.as_vector([x[0], 2 * x[1]])
    assert error_L2(scalar, dx) == pytest.approx(1 / 3, rel=1e-12)
    assert error_H1(scalar, dx) == pytest.approx(math.sqrt(2 / 3), rel=1e-12)
    assert error_L2(vector, dx) == pytest.approx(math.sqrt(5 / 3), rel=1e-12)
    assert error_H1(vector, dx) == pytest.approx(math.sqrt(5), rel=1e-12)


def test_rates_of_a_power_law():
    """A power law C·h^p gives the rate p, pairwise and fitted, also for refinement ratios other than 2."""
    h = np.array([0.5, 0.25, 0.125])
    assert observed_rates(h, 3 * h**2) == pytest.approx([2.0, 2.0], rel=1e-12)
    assert fitted_rate(h, 3 * h**2) == pytest.approx(2.0, rel=1e-12)
    h = np.array([0.3, 0.1, 0.07])
    assert observed_rates(h, 0.2 * h**1.5) == pytest.approx([1.5, 1.5], rel=1e-12)
    assert fitted_rate(list(h), list(0.2 * h**1.5)) == pytest.approx(1.5, rel=1e-12)
    noisy = 3 * h**2 * np.array([1.0, 1.1, 1.0])
    assert observed_rates(h, noisy)[0] < 2.0 < observed_rates(h, noisy)[1]


def test_relative_difference_is_on_the_scale_of_the_reference():
    assert relative_difference(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])) == 0.25
    assert relative_difference(np.array([-4.0, 0.0]), np.array([-2.0, 1.0])) == 1.0
