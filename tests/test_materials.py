"""The DOLFINx-free core: the material model, its one Voigt table, and the layering it promises."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from helpers import STO

from flexotip import config as config_module
from flexotip.materials import (
    VOIGT_INDEX,
    VOIGT_PAIRS,
    ElectromechanicalMaterial,
    barrett_alpha1,
    cubic_tensor,
    short_wavelength_stability,
    voigt_to_tensor,
)


def test_voigt_table_is_one_order_both_ways():
    for position, (i, j) in enumerate(VOIGT_PAIRS):
        assert VOIGT_INDEX[i, j] == VOIGT_INDEX[j, i] == position


def test_voigt_matrix_and_cubic_formula_give_the_same_tensor():
    """C_ijkl through the Voigt table equals the cubic formula, with all its symmetries."""
    from_voigt = voigt_to_tensor(STO.voigt())
    formula = cubic_tensor(STO.c11, STO.c12, STO.c44)
    assert np.array_equal(from_voigt, formula)
    assert np.array_equal(formula, formula.transpose(1, 0, 2, 3))
    assert np.array_equal(formula, formula.transpose(2, 3, 0, 1))
    assert formula[0, 0, 0, 0] == STO.c11 and formula[0, 0, 1, 1] == STO.c12
    assert formula[0, 1, 0, 1] == STO.c44 and formula[0, 1, 1, 0] == STO.c44


def test_stability_without_flexo_is_the_smallest_gradient_coefficient():
    """With f = 0 and G12 = 0 the gradient tensor along n has eigenvalues G11·n_i² + G44·(1 − n_i²)."""
    material = ElectromechanicalMaterial(alpha1=barrett_alpha1(300.0), G11=3e-11, G44=5e-11,
                                         flexoelectric=False)
    margin = short_wavelength_stability(material, STO.voigt())
    assert margin == pytest.approx(3e-11, rel=1e-3)
    assert margin >= 3e-11 * (1 - 1e-12)


def test_default_flexocoupling_is_stable_and_a_tenfold_one_is_not():
    material = config_module.from_dict({}).electromechanical_material()
    assert short_wavelength_stability(material, STO.voigt()) > 0
    strong = dataclasses.replace(material, f11=10 * material.f11, f12=10 * material.f12,
                                 f44=10 * material.f44)
    assert short_wavelength_stability(strong, STO.voigt()) < 0


def test_config_materials_carry_every_key():
    config = config_module.from_dict({"material": {"f11": 0.5, "G12": 1e-12, "temperature": 250.0},
                                      "physics": {"landau": "full", "electrostriction": False},
                                      "vacancies": {"c0": 1e21, "charge": 1}})
    material = config.electromechanical_material()
    assert (material.f11, material.G12, material.landau, material.electrostriction) == (
        0.5, 1e-12, "full", False)
    assert material.alpha1 == barrett_alpha1(250.0)
    vacancies = config.vacancy_material()
    assert (vacancies.c0, vacancies.charge, vacancies.temperature) == (1e21, 1, 250.0)


@pytest.mark.serial
@pytest.mark.parametrize("module", ["flexotip.config", "flexotip.config_checks", "flexotip.config_values",
                                    "flexotip.materials",
                                    "flexotip.spectral.box_electromechanics",
                                    "flexotip.spectral.film_dynamics", "flexotip.spectral.elasticity"])
def test_core_and_spectral_load_no_dolfinx(module):
    """The core and the spectral reference import neither DOLFINx nor UFL, basix, PETSc or gmsh."""
    code = (f"import sys, {module}; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'dolfinx', 'ufl', 'basix', 'ffcx', 'petsc4py', 'gmsh'}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
