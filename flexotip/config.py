"""Run configuration: TOML in SI units → one validated, frozen dataclass tree.

The section and key names, units and meanings (docs/configuration.md) are a public interface:
scripts outside this repository write these files. Keys are added, never renamed.

Loading validates every field before anything is meshed. Each problem gives one message
that names the key, the value and what is allowed; all problems of a file are reported
together in one :class:`ConfigError`. This module is the schema (sections, keys, defaults,
units, allowed values) and the TOML reading and writing; the checks themselves, per value
and across keys, are in :mod:`flexotip.config_values` and :mod:`flexotip.config_checks`.

Example::

    [tip]
    shape = "sphere"
    force = 4.0e-6        # N
    [mesh]
    contact_size = 0.5e-9 # m
"""

from __future__ import annotations

import dataclasses
import pathlib
import tomllib
import typing

from flexotip import config_checks, config_values
from flexotip.analytic import hertz_tip_radius
from flexotip.materials import CubicElasticity, ElectromechanicalMaterial, VacancyMaterial, contact_modulus


class ConfigError(ValueError):
    """One or more invalid config entries; ``messages`` holds one line per problem."""

    def __init__(self, messages: list[str], source: str = "config"):
        self.messages = messages
        self.source = source
        super().__init__(f"invalid {source}:\n" + "\n".join(f"  - {m}" for m in messages))


def _key(default, doc: str, unit: str = "", *, choices: tuple | None = None,
         low: float | None = None, high: float | None = None, open_low: bool = False,
         open_high: bool = False) -> typing.Any:
    """A config key: default, meaning, unit and allowed values, kept as field metadata."""
    metadata = {"doc": doc, "unit": unit, "choices": choices, "low": low, "high": high,
                "open_low": open_low, "open_high": open_high}
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


# Defaults for SrTiO3 at 300 K (docs/model.md, "Parameters and their sources");
# a = 0.3905 nm, 120 unit cells.
LATTICE_CONSTANT = 3.905e-10
FILM_THICKNESS = 120 * LATTICE_CONSTANT
PAPER_FORCE = 4.0e-6
PAPER_SPHERE_CONTACT_RADIUS = 8.0e-9
PAPER_BLUNT_CONTACT_RADIUS = 15.0e-9
FLEXO_DEFAULTS = (0.0226, -0.5988, -0.2757)
"""(f11, f12, f44), V, in the convention of fem/electromechanics.py: the ratios
0.1 : −2.65 : −1.22 (μ of Zubko et al. 2007/2008 as recalled, f = −μ/(ε0·χ); unverified)
scaled by 0.226 so that P_axis_max = 0.04 C/m² at the paper's sphere with the
``eps_grad_P`` form (studies/calibrate_flexo.py; quarter default domain, surface layers
from 0.05 nm, 0.25 nm edge cells, P1; docs/model.md, "Flexoelectric coefficients")."""
STO_ELASTICITY = CubicElasticity(3.36e11, 1.07e11, 1.27e11)
DEFAULT_SPHERE_RADIUS = round(hertz_tip_radius(
    PAPER_FORCE, PAPER_SPHERE_CONTACT_RADIUS, contact_modulus(STO_ELASTICITY)), 11)
"""Rigid sphere radius (m) whose Hertz contact radius on STO is 8 nm at 4 µN: 51.5 nm."""
DEFAULT_TIP_RADIUS = {"sphere": DEFAULT_SPHERE_RADIUS, "flat": PAPER_BLUNT_CONTACT_RADIUS,
                      "profile": DEFAULT_SPHERE_RADIUS}
"""[tip] radius (m) of each shape when the config gives none."""


@dataclasses.dataclass(frozen=True)
class MaterialConfig:
    """[material]: the film (and substrate) material and the tip's elastic constants."""

    name: str = _key("SrTiO3", "material of film and substrate", choices=("SrTiO3",))
    temperature: float = _key(300.0, "temperature", "K", low=0.0, high=2000.0, open_low=True)
    elasticity: str = _key("cubic", "elastic symmetry", choices=("cubic", "isotropic"))
    young: float | None = _key(None, "Young's modulus (isotropic only; default: the "
                               "Voigt-Reuss-Hill average of c11, c12, c44)", "Pa",
                               low=0.0, open_low=True)
    poisson: float | None = _key(None, "Poisson's ratio (isotropic only; default: "
                                 "Voigt-Reuss-Hill average)", low=-1.0, high=0.5,
                                 open_low=True, open_high=True)
    c11: float = _key(STO_ELASTICITY.c11, "cubic elastic constant C_1111", "Pa", low=0.0, open_low=True)
    c12: float = _key(STO_ELASTICITY.c12, "cubic elastic constant C_1122", "Pa")
    c44: float = _key(STO_ELASTICITY.c44, "cubic elastic constant C_1212", "Pa", low=0.0, open_low=True)
    lattice_constant: float = _key(LATTICE_CONSTANT, "pseudo-cubic lattice constant", "m",
                                   low=0.0, open_low=True)
    alpha1: float | None = _key(None, "Landau coefficient α1 (default: Barrett form "
                                "4.05e7·[coth(54/T) − coth(54/30)], > 0 above 30 K)", "J·m/C²",
                                low=0.0, open_low=True)
    alpha11: float = _key(1.70e9, "Landau coefficient α11", "J·m⁵/C⁴")
    alpha12: float = _key(1.37e9, "Landau coefficient α12", "J·m⁵/C⁴")
    Q11: float = _key(4.57e-2, "electrostriction Q11", "m⁴/C²")
    Q12: float = _key(-1.348e-2, "electrostriction Q12", "m⁴/C²")
    Q44: float = _key(0.957e-2, "electrostriction Q44 (tensor shear)", "m⁴/C²")
    f11: float = _key(FLEXO_DEFAULTS[0], "flexocoupling f_1111 (chosen, calibrated: see "
                      "docs/model.md, 'Flexoelectric coefficients')", "V")
    f12: float = _key(FLEXO_DEFAULTS[1], "flexocoupling f_1122 (chosen, calibrated)", "V")
    f44: float = _key(FLEXO_DEFAULTS[2], "flexocoupling f_1212 (chosen, calibrated)", "V")
    eps_background: float = _key(10.0, "background relative permittivity κ_b (chosen)",
                                 low=1.0)
    G11: float = _key(5e-11, "gradient coefficient G11 (chosen)", "J·m³/C²", low=0.0)
    G12: float = _key(0.0, "gradient coefficient G12 (chosen)", "J·m³/C²")
    G44: float = _key(5e-11, "gradient coefficient G44 (chosen)", "J·m³/C²", low=0.0)
    tip_young: float | None = _key(None, "Young's modulus of the tip; unset = rigid tip "
                                   "(Si<110>: 169e9)", "Pa", low=0.0, open_low=True)
    tip_poisson: float = _key(0.064, "Poisson's ratio of the tip (used with tip_young)",
                              low=-1.0, high=0.5, open_low=True, open_high=True)

    def elastic_constants(self) -> CubicElasticity:
        """The film's elastic constants (isotropic ones when elasticity = "isotropic")."""
        if self.elasticity == "isotropic":
            return CubicElasticity.isotropic(self.young, self.poisson)
        return CubicElasticity(self.c11, self.c12, self.c44)


@dataclasses.dataclass(frozen=True)
class FilmConfig:
    """[film]: the layered box (z up, film top at z = 0)."""

    thickness: float = _key(FILM_THICKNESS, "film thickness (120 unit cells)", "m",
                            low=0.0, open_low=True)
    substrate_thickness: float = _key(750e-9, "substrate thickness below the film", "m",
                                      low=0.0, open_low=True)
    air_thickness: float = _key(0.0, "air layer above the film (0: none)", "m", low=0.0)
    half_width: float = _key(800e-9, "half of the lateral box size", "m", low=0.0, open_low=True)
    symmetry: str = _key("auto", "part of the box that is meshed (half: x ≥ 0; quarter: "
                         "x, y ≥ 0; needs a tip on the symmetry planes; auto: quarter for a tip "
                         "on the axis x = y = 0, else full; the surface map is unfolded to the "
                         "full plane)",
                         choices=("auto", "full", "half", "quarter"))


@dataclasses.dataclass(frozen=True)
class TipConfig:
    """[tip]: shape, load and position of the SPM tip."""

    shape: str = _key("sphere", "tip shape", choices=("sphere", "flat", "profile"))
    radius: float | None = _key(None, "sphere radius, or flat-punch radius (default: "
                                f"{DEFAULT_SPHERE_RADIUS:.4g} m for the sphere, i.e. a Hertz "
                                "contact radius of 8 nm at 4 µN on STO; 15e-9 m for flat)",
                                "m", low=0.0, open_low=True)
    edge_radius: float = _key(0.0, "fillet radius of the flat punch's edge", "m", low=0.0)
    force: float = _key(PAPER_FORCE, "force pressing the tip on the film", "N", low=0.0)
    bias: float = _key(0.0, "electric potential of the tip", "V")
    position: list = _key([0.0, 0.0], "(x, y) of the tip axis", "m")
    load: str = _key("hertz", "how the tip load is modelled: prescribed Hertz/Sneddon "
                     "pressure, or solved contact", choices=("hertz", "contact"))
    contact_radius: float | None = _key(None, "contact radius (default: Hertz for the "
                                        "sphere, the punch radius for flat)", "m",
                                        low=0.0, open_low=True)
    profile: str | None = _key(None, "file with the measured tip profile (shape = "
                               "'profile'): two columns r, h(r)", "path")


@dataclasses.dataclass(frozen=True)
class MeshConfig:
    """[mesh]: cell sizes of the graded tetrahedral mesh."""

    contact_size: float = _key(0.5e-9, "cell size at the contact edge", "m", low=0.0, open_low=True)
    far_size: float = _key(50e-9, "largest cell size, far from the tip", "m", low=0.0, open_low=True)
    degree: int = _key(1, "polynomial degree of the displacement", choices=(1, 2))
    polarization_element: str = _key("lagrange", "element of P: Lagrange of the displacement's "
                                     "degree, or with interior bubbles (stable for non-smooth "
                                     "fields, much slower with MUMPS)",
                                     choices=("lagrange", "bubble"))
    growth: float = _key(0.1, "cell-size increase per unit distance from the contact",
                         low=0.0, high=1.0, open_low=True)
    contact_band: float = _key(0.25, "solved contact: half-width of the band of contact_size "
                               "cells around the predicted contact radius, as a fraction of it",
                               low=0.0, high=1.0)
    remesh: bool = _key(True, "solved contact: re-mesh once, centred on the computed contact "
                        "radius, if the contact edge falls outside the refined band")
    surface_size: float = _key(2.5e-11, "thickness of the first cell layer under the film top "
                               "(layers extruded from the top face, graded by surface_growth "
                               "down to surface_depth; docs/model.md, 'Surface layers'); 0: no "
                               "layers, isotropic cells up to the top", "m", low=0.0)
    surface_growth: float = _key(1.5, "thickness ratio of neighbouring surface layers (they "
                                 "stop growing at contact_size)", low=1.0, high=3.0,
                                 open_low=True)
    surface_depth: float = _key(3e-9, "depth of the layered region under the film top", "m",
                                low=0.0, open_low=True)
    cache: bool = _key(True, "reuse a mesh generated before for the same geometry (the mesh "
                       "cache, meshes/README.md); false: always run gmsh")


@dataclasses.dataclass(frozen=True)
class PhysicsConfig:
    """[physics]: which couplings are on."""

    flexoelectric: bool = _key(True, "flexoelectric coupling")
    electrostriction: bool = _key(True, "electrostrictive eigenstrain")
    flexo_form: str = _key("eps_grad_P", "flexoelectric energy: −∫f·ε·∂P with no surface term "
                           "(eps_grad_P; P has the surface flux G·∂P/∂n = f:ε·n; converges under "
                           "surface refinement), or ∫f·P·∂ε with its surface term (P_grad_eps: its "
                           "surface values do not converge); see docs/model.md, 'Flexoelectric form'",
                           choices=("P_grad_eps", "eps_grad_P"))
    landau: str = _key("linear", "Landau energy", choices=("linear", "full"))
    electric_bc: str = _key("short-circuit", "electric boundary condition on the film top "
                            "(short-circuit: φ = 0; open: zero normal D on the film top or the "
                            "air's top; air-gap: φ = 0 on the air's top); the contact disc is "
                            "always at the tip bias",
                            choices=("short-circuit", "air-gap", "open"))
    vacancies: bool = _key(True, "oxygen-vacancy transport")


@dataclasses.dataclass(frozen=True)
class VacanciesConfig:
    """[vacancies]: oxygen-vacancy transport parameters."""

    c0: float = _key(3.66e20, "initial (uniform) vacancy density", "1/m³", low=0.0, open_low=True)
    diffusivity: float = _key(1.23e-19, "vacancy diffusivity", "m²/s", low=0.0, open_low=True)
    charge: int = _key(2, "vacancy charge number", "e", low=1.0, high=2.0)
    surface: str = _key("blocking", "film-top condition", choices=("blocking", "fixed"))
    sensing_depth: float = _key(1e-9, "depth over which the surface map averages c/c0", "m",
                                low=0.0, open_low=True)
    first_step: float | None = _key(None, "transient: first time step (default: a tenth of the "
                                    "diffusion time across the smallest cell), then adaptive", "s",
                                    low=0.0, open_low=True)
    time_tolerance: float = _key(1e-3, "transient: largest estimated error of ln c per step "
                                 "(the step size follows it)", low=0.0, high=1.0, open_low=True)
    quasi_steady_rtol: float = _key(1e-6, "transient: quasi-steady when max|Δc| per step ≤ this "
                                    "× max c", low=0.0, high=1.0, open_low=True, open_high=True)
    max_steps: int = _key(1000, "transient: largest number of accepted steps", low=1.0)
    initial: str = _key("uniform", "transient and scan: the vacancies at t = 0: uniform c0; a step "
                        "(x < step_x enriched near the top: a poled region beside a pristine one); or "
                        "from_run, the final vacancies of an earlier run read from its checkpoint",
                        choices=("uniform", "step", "from_run"))
    step_x: float = _key(0.0, "initial = 'step': x of the border between the enriched (x < step_x) and "
                         "the pristine film; also the border the scan's summary keys split the film at", "m")
    step_excess: float = _key(1.0, "initial = 'step': excess c/c0 − 1 at the film top of the enriched "
                              "side", low=0.0, high=100.0, open_low=True)
    step_depth: float = _key(2e-9, "initial = 'step': depth over which the excess decays, "
                             "c/c0 = 1 + step_excess·exp(z/step_depth) (z ≤ 0 below the top)", "m",
                             low=0.0, open_low=True)
    initial_run: str | None = _key(None, "initial = 'from_run': output folder of an earlier run whose "
                                   "final vacancies (its checkpoint.h5) start this one, on the same mesh "
                                   "or interpolated onto this run's (total restored)", "path")


@dataclasses.dataclass(frozen=True)
class ScanConfig:
    """[scan]: a tip moving over the film (a run with ``start`` set is a scan)."""

    start: list | None = _key(None, "(x, y) where the first line starts (setting it makes the run a "
                              "scan: the tip moves from start to end at speed, pressing with [tip] force)",
                              "m")
    end: list | None = _key(None, "(x, y) where the first line ends", "m")
    speed: float = _key(1e-6, "tip speed along a line", "m/s", low=0.0, open_low=True)
    passes: str = _key("trace", "per line: trace (start → end) or trace-retrace (and back)",
                       choices=("trace", "trace-retrace"))
    lines: int = _key(1, "lines of the raster; line k is the first shifted by k·line_spacing to the "
                      "left of its direction", low=1.0, high=1000.0)
    line_spacing: float = _key(0.0, "distance between neighbouring lines (needed when lines > 1)", "m",
                               low=0.0)
    force_on: str = _key("both", "when the tip presses: on the trace and the retrace (both), or on the "
                         "trace only (lifted on the retrace, as in the paper's extra experiments)",
                         choices=("both", "trace"))
    step_fraction: float = _key(0.25, "largest tip displacement per vacancy time step, in contact "
                                "radii (the error control may take smaller steps)", low=0.0, high=1.0,
                                open_low=True)
    frames: int = _key(11, "surface maps saved along the scan, evenly spaced in time (the first at "
                       "t = 0, the last at the end)", low=2.0, high=1000.0)
    reference: bool = _key(False, "also run the scan's time with the tip lifted, from the same start, and "
                           "report the tip's own effect against it (keys *_tip): the start relaxes on its "
                           "own meanwhile, which the keys against the start include")


@dataclasses.dataclass(frozen=True)
class SolveConfig:
    """[solve]: what is solved and how."""

    mode: str = _key("steady", "steady state or time-dependent", choices=("steady", "transient"))
    solver: str = _key("fem", "finite elements or the FFT reference (spectral: for now the "
                       "mechanics of a prescribed tip pressure)", choices=("fem", "spectral"))
    spectral_modes: int | None = _key(None, "solver = 'spectral': cosine modes per in-plane "
                                      "direction (the grid's cells; default: the power of two "
                                      "that gives cells of at most a quarter of the contact "
                                      "radius, at least 256 and at most 1024)",
                                      low=8.0, high=4096.0)
    t_end: float | None = _key(None, "end time (transient: of the TDGL relaxation, and of the "
                               "vacancy transport when it is on; default: run until quasi-steady)", "s",
                               low=0.0, open_low=True)
    dt: float | None = _key(None, "first time step of the polarisation's TDGL relaxation "
                            "(transient; default: a tenth of its relaxation time), then adaptive; "
                            "the vacancies' is [vacancies] first_step", "s", low=0.0, open_low=True)
    polarization_dynamics: str = _key(
        "tdgl", "transient: how P follows the load: tdgl relaxes it from P = 0 by the TDGL "
        "(relaxation time ~1 ps), quasi_static solves its steady state directly (what the "
        "TDGL reaches after a few ps, and all the vacancies see on their ms–s time scale; "
        "the vacancy transient then starts without the TDGL's em solves)",
        choices=("tdgl", "quasi_static"))
    electromechanics_solver: str = _key(
        "direct", "linear solver of the (u, P, φ) Newton steps: MUMPS, or FGMRES with a block "
        "preconditioner (GAMG on u, Schur factorisation of the (P, φ) pair with GAMG on P and on "
        "the potential's Schur complement)", choices=("direct", "block"))
    tdgl_kinetic_coefficient: float = _key(
        2.7e3, "kinetic coefficient L of the TDGL ∂P/∂t = −L·δF/δP (chosen: relaxation time "
        "1/(2·α1·L) = 1 ps at 300 K; the paper's is unknown)", "C/(V·m·s)", low=0.0, open_low=True)
    quasi_steady_rtol: float = _key(1e-9, "transient: stop when max|ΔP| per step ≤ this × max|P|",
                                    low=0.0, high=1.0, open_low=True, open_high=True)
    linear_solver: str = _key("auto", "linear solver of the elastic and contact problems: CG + "
                              "GAMG, or LU with MUMPS (auto: direct on a mesh with surface layers, "
                              "where GAMG's set-up stalls on the thin cells; iterative otherwise)",
                              choices=("auto", "iterative", "direct"))
    contact_gamma: float = _key(100.0, "Nitsche parameter γ0 of the solved contact "
                                "(γ = γ0·E*/h); results do not depend on it", low=0.0, open_low=True)
    contact_theta: int = _key(1, "Nitsche variant: 1 symmetric, 0, −1 skew-symmetric",
                              choices=(1, 0, -1))
    contact_force_rtol: float = _key(1e-6, "relative tolerance of the force control |F/F_tip − 1|",
                                     low=0.0, high=0.1, open_low=True)
    petsc_options: dict = _key({}, "PETSc options overlaid on the defaults; a sub-table "
                               "named after a solver ([solve.petsc_options.mech], .contact, .em "
                               "or .np) applies to that solver only")


@dataclasses.dataclass(frozen=True)
class OutputConfig:
    """[output]: fields written for ParaView."""

    fields: list = _key(["displacement", "stress", "strain", "strain_gradient", "contact_pressure",
                         "polarization", "potential", "electric_field", "flexo_field", "vacancies"],
                        "fields to write (contact_pressure: solved contact only; the electric "
                        "ones when the electromechanics is solved; vacancies: c and c/c0)",
                        choices=("displacement", "stress", "strain", "strain_gradient",
                                 "contact_pressure", "polarization", "potential",
                                 "electric_field", "flexo_field", "vacancies"))
    map_times: list = _key([], "transient: times at which the surface map is also kept, with t = 0, in "
                           "surface_maps.npz (the series flexotip analyse-decay fits)", "s")
    checkpoint_interval: float = _key(600.0, "transient: wall-clock time between checkpoints of the whole "
                                      "state (checkpoint.h5, which `flexotip run --resume` continues "
                                      "from); 0: only at the end and on SIGTERM/SIGINT", "s", low=0.0)
    checkpoint_steps: int = _key(0, "transient: also a checkpoint every this many accepted steps "
                                 "(0: by wall-clock time only)", low=0.0)
    format: str = _key("vtx", "field file format (vtx: ADIOS2 .bp folders, any degree; xdmf: XDMF + "
                       "HDF5, degree 1; vtkhdf: VTK's HDF5 format, one file per field, degree 1; which "
                       "reader opens which: docs/outputs.md)", choices=("vtx", "xdmf", "vtkhdf"))


@dataclasses.dataclass(frozen=True)
class Config:
    """The whole validated configuration (SI units)."""

    material: MaterialConfig = dataclasses.field(default_factory=MaterialConfig)
    film: FilmConfig = dataclasses.field(default_factory=FilmConfig)
    tip: TipConfig = dataclasses.field(default_factory=TipConfig)
    mesh: MeshConfig = dataclasses.field(default_factory=MeshConfig)
    physics: PhysicsConfig = dataclasses.field(default_factory=PhysicsConfig)
    vacancies: VacanciesConfig = dataclasses.field(default_factory=VacanciesConfig)
    solve: SolveConfig = dataclasses.field(default_factory=SolveConfig)
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)
    scan: ScanConfig = dataclasses.field(default_factory=ScanConfig)

    @property
    def scanning(self) -> bool:
        """Whether the run is a scan ([scan] start is set)."""
        return self.scan.start is not None

    @property
    def contact_modulus(self) -> float:
        """Effective contact modulus E* of tip and film, Pa (see ``contact_modulus``)."""
        return contact_modulus(self.material.elastic_constants(), self.material.tip_young,
                               self.material.tip_poisson)

    @property
    def contact_radius(self) -> float:
        """Contact radius a, m: given, or Hertz for the sphere, the punch radius for flat."""
        return self.tip.contact_radius

    @property
    def symmetry_fraction(self) -> float:
        """Fraction of the tip's footprint inside the meshed domain (1, 1/2 or 1/4)."""
        return {"full": 1.0, "half": 0.5, "quarter": 0.25}[self.film.symmetry]

    def electromechanical_material(self) -> ElectromechanicalMaterial:
        """The film's electromechanical constants (SI), with the couplings of [physics]."""
        m, physics = self.material, self.physics
        return ElectromechanicalMaterial(
            alpha1=m.alpha1, alpha11=m.alpha11, alpha12=m.alpha12, Q11=m.Q11, Q12=m.Q12, Q44=m.Q44,
            f11=m.f11, f12=m.f12, f44=m.f44, G11=m.G11, G12=m.G12, G44=m.G44,
            eps_background=m.eps_background, landau=physics.landau,
            flexoelectric=physics.flexoelectric, electrostriction=physics.electrostriction,
            flexo_form=physics.flexo_form)

    def vacancy_material(self) -> VacancyMaterial:
        """The oxygen vacancies' constants (SI)."""
        v = self.vacancies
        return VacancyMaterial(c0=v.c0, diffusivity=v.diffusivity, charge=v.charge,
                               temperature=self.material.temperature)


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}
_SECTION_TYPES = {
    "material": MaterialConfig, "film": FilmConfig, "tip": TipConfig, "mesh": MeshConfig,
    "physics": PhysicsConfig, "vacancies": VacanciesConfig, "solve": SolveConfig,
    "output": OutputConfig, "scan": ScanConfig,
}



def from_dict(data: dict, *, source: str = "config", base: pathlib.Path | None = None) -> Config:
    """Validate a config given as nested dicts (as parsed from TOML).

    Args:
        data: {section: {key: value}}; missing keys take their defaults.
        source: Name of the config in error messages (e.g. the file name).
        base: Directory against which relative file paths are resolved.

    Raises:
        ConfigError: Listing every invalid entry.
    """
    errors: list[str] = []
    base = base or pathlib.Path.cwd()
    sections = {}
    for name, table in data.items():
        if name not in _SECTION_TYPES:
            errors.append(f"[{name}]: unknown section; allowed sections: {', '.join(_SECTION_TYPES)}")
            continue
        sections[name] = config_values.parse_section(name, _SECTION_TYPES[name], table, errors, base)
    config = Config(**sections)
    if not errors:
        config = config_checks.resolve(config, data, errors, DEFAULT_TIP_RADIUS)
    if errors:
        raise ConfigError(errors, source)
    return config


def load(path: str | pathlib.Path | None) -> Config:
    """Read and validate a TOML config file; None gives the built-in defaults.

    Raises:
        ConfigError: If the file is missing, is not valid TOML, or has invalid entries.
    """
    if path is None:
        return from_dict({}, source="built-in defaults")
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError([f"config file not found: {path}"], str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([f"cannot read the file as UTF-8 text: {error}"], str(path)) from None
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as error:  # TOMLDecodeError, or an integer of > 4300 digits
        raise ConfigError([f"not valid TOML: {error}"], str(path)) from None
    return from_dict(data, source=str(path), base=path.parent)


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\"} | {
    chr(c): f"\\u{c:04x}" for c in (*range(0x09), *range(0x0a, 0x20), 0x7f)}
"""Characters a TOML basic string must escape (the tab may stand as it is)."""


def _toml_value(value: typing.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(_TOML_ESCAPES.get(c, c) for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to TOML")


def to_toml(config: Config) -> str:
    """The resolved config as TOML, with every key's unit and meaning as a comment.

    Keys that are unset (None) are written as comments, so the file loads back to the
    same config.
    """
    lines = ["# flexotip configuration, resolved (SI units)"]
    for section in dataclasses.fields(config):
        lines.append(f"\n[{section.name}]")
        table = getattr(config, section.name)
        for field in dataclasses.fields(table):
            value = getattr(table, field.name)
            unit = f" [{field.metadata['unit']}]" if field.metadata["unit"] else ""
            comment = f"  # {field.metadata['doc']}{unit}"
            if value is None:
                lines.append(f"# {field.name} = (not set){comment}")
            else:
                lines.append(f"{field.name} = {_toml_value(value)}{comment}")
    return "\n".join(lines) + "\n"
