# ---
# jupytext:
#   text_representation:
#     extension: .py
#     format_name: light
# ---

# # The spectral reference: Hertz load on the cubic STO film box
#
# The paper's configuration (46.86 nm STO film on 350 nm of Nb:STO, a box 800 nm wide,
# F = 4 µN, Hertz contact radius a = 8 nm) solved with the FFT/spectral reference solver
# (`flexotip.spectral`), without any mesh: the roller walls are mirror planes, so the
# displacement is a cosine/sine series whose depth profiles are exact. Cubic symmetry
# shows in the surface: the dimple is not round, it is deeper along [100] than along
# [110] at the same distance. We compare the surface and the axis stresses with the
# isotropic half-space formulas (Johnson, *Contact Mechanics*, §3.4) with the [100] E, ν.
#
# Run: `python demos/spectral_film.py` (add `--short` for a coarse grid, as CI does).

# +
import sys
import time
from pathlib import Path

import numpy as np

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import analytic
from flexotip import config as config_module
from flexotip.spectral import elasticity, grid, layer

short = "--short" in sys.argv
config = config_module.from_dict({"film": {"symmetry": "quarter"}}, source="demo")
film = config.film
box = grid.FilmBox.quarter(film.half_width, film.thickness + film.substrate_thickness)
material = config.material.elastic_constants()
a, F = config.contact_radius, config.tip.force
n = 128 if short else 512
# -

# The Hertz pressure enters through its exact cosine amplitudes (from its 2D Fourier
# transform), so the only approximation is the truncation of the series at n² modes.

# +
start = time.perf_counter()
modes = grid.axisymmetric_coefficients(box, (n, n), lambda K: grid.hertz_transform(K, F, a), a)
solution = elasticity.solve_modes(material, box, modes)
r = np.linspace(0.0, 4 * a, 81)
along_100 = -solution.displacement_at(r, 0 * r)[:, 2]
along_110 = -solution.displacement_at(r / np.sqrt(2), r / np.sqrt(2))[:, 2]
depth = np.linspace(0.05 * a, 3 * a, 12)
axis_stress = np.array([solution.stress_at([0.0], [0.0], -d)[0] for d in depth])
elapsed = time.perf_counter() - start
# -

# Half-space references with the [100] Young's modulus and Poisson's ratio of STO, and
# with the exact indentation modulus of the cubic (001) surface (the harmonic mean over
# in-plane directions of the half-space's surface stiffness, Vlassak & Nix 1994).

# +
young, poisson = material.uniaxial_100()
indentation = layer.indentation_modulus(material)
p0 = analytic.hertz_peak_pressure(F, a)
half_space = analytic.hertz_surface_displacement(r, F, a, config.contact_modulus)
zeta = depth / a
sigma_z_ref = -p0 / (1 + zeta**2)
sigma_r_ref = p0 * (-(1 + poisson) * (1 - zeta * np.arctan(1 / zeta)) + 0.5 / (1 + zeta**2))
print(f"{n}² modes (dx = {box.lengths[0] / n * 1e9:.3f} nm, a/dx = {a * n / box.lengths[0]:.1f}) in "
      f"{elapsed:.1f} s; force in the quarter box {solution.force:.4e} N (F/4 = {F / 4:.4e} N)")
exact_half_space = analytic.hertz_surface_displacement(0.0, F, a, indentation)
print(f"axis displacement {along_100[0] * 1e9:.4f} nm; half-space with E*[100] = "
      f"{config.contact_modulus / 1e9:.1f} GPa: {half_space[0] * 1e9:.4f} nm, with the (001) "
      f"indentation modulus {indentation / 1e9:.1f} GPa: {exact_half_space * 1e9:.4f} nm")
i = np.searchsorted(r, 2 * a)
print(f"at r = 2a: u_z along [100] {along_100[i] * 1e9:.4f} nm, along [110] {along_110[i] * 1e9:.4f} nm "
      f"({along_100[i] / along_110[i] - 1:+.2%})")
print("depth/a   σ_zz/p0 (spectral, half-space)   σ_xx/p0 (spectral, half-space)")
for d, s, sz, sr in zip(zeta, axis_stress, sigma_z_ref, sigma_r_ref, strict=True):
    print(f"{d:7.3f}   {s[2] / p0:8.4f} {sz / p0:8.4f}            {s[0] / p0:8.4f} {sr / p0:8.4f}")
# -

# Plot (optional: needs matplotlib).

# +
try:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt
except ModuleNotFoundError:
    plt = None

if plt is not None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(r / a, along_100 * 1e9, "-", label="spectral, along [100]")
    left.plot(r / a, along_110 * 1e9, "--", label="spectral, along [110]")
    left.plot(r / a, half_space * 1e9, ":", label="Hertz half-space, E*[100]")
    left.set(xlabel="r / a", ylabel="−u_z (nm)", title="surface displacement")
    left.legend()
    right.plot(zeta, -axis_stress[:, 2] / p0, "o", ms=3, label="−σ_zz (spectral)")
    right.plot(zeta, -sigma_z_ref / p0, "-", label="−σ_z (Hertz)")
    right.plot(zeta, -axis_stress[:, 0] / p0, "s", ms=3, label="−σ_xx (spectral)")
    right.plot(zeta, -sigma_r_ref / p0, "--", label="−σ_r (Hertz)")
    right.set(xlabel="depth / a", ylabel="stress / p0", title="stresses on the tip axis")
    right.legend()
    fig.tight_layout()
    figure = Path("results") / "spectral_film.png"
    figure.parent.mkdir(exist_ok=True)
    fig.savefig(figure, dpi=120)
    print(f"figure: {figure}")
# -
