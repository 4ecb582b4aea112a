# ---
# jupytext:
#   text_representation:
#     extension: .py
#     format_name: light
# ---

# # Hertz contact on SrTiO3: the elastic field under the tip
#
# A rigid sphere (R = 51.5 nm) pressed with F = 4 µN on a 46.86 nm STO film: Hertz contact
# radius a = (3FR/(4E*))^(1/3) = 8.0 nm with E* = 301.9 GPa, peak pressure
# p0 = 3F/(2πa²) = 29.8 GPa. We solve the cubic-elastic stack under the Hertz pressure
# and compare the surface displacement and the stresses on the axis with the isotropic
# half-space formulas (Johnson, *Contact Mechanics*, §3.4), using the [100] E, ν.
#
# Run: `python demos/hertz_profiles.py` (add `--short` for a coarse mesh, as CI does).

# +
import sys
import tempfile
from pathlib import Path

from mpi4py import MPI

import numpy as np

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import analytic
from flexotip import config as config_module
from flexotip.pipeline import run as pipeline

short = "--short" in sys.argv
comm = MPI.COMM_WORLD
outdir = Path(comm.bcast(tempfile.mkdtemp(prefix="flexotip-hertz-") if comm.rank == 0 else None))
# -

# A quarter domain is enough for a centred tip; P2 displacement resolves the stresses,
# on isotropic cells up to the film top (no surface layers: the mechanics does not need them).

# +
sections = {
    "film": {"symmetry": "quarter"},
    "mesh": {"degree": 2, "surface_size": 0.0, "contact_size": 1.0e-9 if short else 0.5e-9,
             "growth": 0.2 if short else 0.12},
    "output": {"fields": ["displacement"]},
}
config = config_module.from_dict(sections, source="demo")
summary = pipeline.run(comm, config, outdir)
# -

# Profiles written by the run, and the half-space references.

# +
surface = np.genfromtxt(outdir / "surface_profile.csv", delimiter=",", names=True)
axis = np.genfromtxt(outdir / "axis_profile.csv", delimiter=",", names=True)
a, F, modulus = config.contact_radius, config.tip.force, config.contact_modulus
p0 = analytic.hertz_peak_pressure(F, a)
young, poisson = config.material.elastic_constants().uniaxial_100()
zeta = axis["depth_m"] / a
sigma_z_ref = -p0 / (1 + zeta**2)
with np.errstate(divide="ignore", invalid="ignore"):
    sigma_r_ref = p0 * (-(1 + poisson) * (1 - zeta * np.arctan(1 / zeta)) + 0.5 / (1 + zeta**2))
sigma_r_ref[0] = -p0 * (1 + 2 * poisson) / 2
uz_ref = analytic.hertz_surface_displacement(surface["r_m"], F, a, modulus)
if comm.rank == 0:
    print(f"axis displacement {-summary['axis_displacement_m'] * 1e9:.4f} nm, "
          f"half-space {uz_ref[0] * 1e9:.4f} nm")
# -

# Plot (optional: needs matplotlib).

# +
try:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt
except ModuleNotFoundError:
    plt = None

if plt is not None and comm.rank == 0:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(surface["r_m"] / a, -surface["u_z_m"] * 1e9, "o", ms=3, label="flexotip (cubic STO)")
    left.plot(surface["r_m"] / a, uz_ref * 1e9, "-", label="Hertz half-space, E*[100]")
    left.set(xlabel="r / a", ylabel="−u_z (nm)", title="surface displacement")
    left.legend()
    right.plot(zeta, -axis["sigma_zz_Pa"] / p0, "o", ms=3, label="−σ_zz (flexotip)")
    right.plot(zeta, -sigma_z_ref / p0, "-", label="−σ_z (Hertz)")
    right.plot(zeta, -axis["sigma_xx_Pa"] / p0, "s", ms=3, label="−σ_xx (flexotip)")
    right.plot(zeta, -sigma_r_ref / p0, "--", label="−σ_r (Hertz)")
    right.plot(zeta, axis["max_shear_Pa"] / p0, "^", ms=3, label="max shear (flexotip)")
    right.set(xlabel="depth / a", ylabel="stress / p0", title="stresses on the tip axis")
    right.legend()
    fig.tight_layout()
    figure = Path("results") / "hertz_profiles.png"
    figure.parent.mkdir(exist_ok=True)
    fig.savefig(figure, dpi=120)
    print(f"figure: {figure}")
# -
