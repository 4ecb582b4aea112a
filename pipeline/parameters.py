"""From a validated config to the typed parameters of the geometry and of each fem problem.

This is the one place that reads a :class:`~flexotip.config.Config` on behalf of the
finite-element problems: :mod:`flexotip.geometry` and :mod:`flexotip.fem` receive the
objects built here (SI units), never the config itself.
"""

from __future__ import annotations

import pathlib

from flexotip import config_checks, tips
from flexotip.config import Config
from flexotip.fem.electromechanical_problem import ElectromechanicalParameters
from flexotip.fem.scan_problem import ScanPath
from flexotip.fem.tip_problem import TipProblemParameters
from flexotip.fem.vacancy_initial import StepProfile
from flexotip.fem.vacancy_problem import VacancyParameters
from flexotip.geometry.stack import StackGeometry
from flexotip.units import Scales


def user_options(config: Config, solver: str) -> dict:
    """The user's PETSc options for one solver: the flat ones, then its own sub-table.

    ``solver`` is the sub-table's name: "mech", "contact", "em", "phi" or "np".
    """
    options = config.solve.petsc_options
    flat = {k: v for k, v in options.items() if not isinstance(v, dict)}
    return {**flat, **options.get(solver, {})}


def stack_geometry(config: Config, scales: Scales, contact_radius: float | None = None) -> StackGeometry:
    """The scaled gmsh geometry described by a config.

    A prescribed flat-punch pressure gets an extra circle one contact-edge cell inside
    its edge, so that the regularised pressure (:mod:`flexotip.fem.loads`) is smooth in
    every cell. A solved contact gets a refined band of ``contact_band`` relative
    half-width around the predicted contact radius (extended outwards by a punch's
    fillet radius), since its edge is not known before the solve.

    Args:
        config: The run's config.
        scales: Unit scales.
        contact_radius: Centre of the refined band (m) instead of the predicted radius
            (used by the re-mesh).
    """
    L = scales.length
    film, mesh = config.film, config.mesh
    radius = (contact_radius or config.contact_radius) / L
    solved = config.tip.load == "contact"
    punch = config.tip.shape == "flat" and not solved
    band = None
    if solved:
        # The contact disc then spans the whole band, so that no mesh circle sits at the
        # predicted edge for the computed edge to lock onto.
        width = mesh.contact_band * radius
        band = (radius - width, radius + width + config.tip.edge_radius / L)
        radius = band[1]
    return StackGeometry(
        film_thickness=film.thickness / L,
        substrate_thickness=film.substrate_thickness / L,
        air_thickness=film.air_thickness / L,
        half_width=film.half_width / L,
        contact_radius=radius,
        contact_center=(config.tip.position[0] / L, config.tip.position[1] / L),
        contact_size=mesh.contact_size / L,
        far_size=mesh.far_size / L,
        growth=mesh.growth,
        symmetry=film.symmetry,
        edge_band=mesh.contact_size / L if punch else None,
        refine_band=band,
        surface_size=mesh.surface_size / L,
        surface_growth=mesh.surface_growth,
        surface_depth=mesh.surface_depth / L if mesh.surface_size > 0 else 0.0,
        sensing_depth=config.vacancies.sensing_depth / L if mesh.surface_size > 0 else 0.0,
        scan_lines=tuple((tuple(c / L for c in start), tuple(c / L for c in end))
                         for start, end in scan_lines(config)),
    )


def scan_lines(config: Config) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The scan's lines (start, end), m; none for a tip that stays put."""
    if not config.scanning:
        return []
    scan = config.scan
    return config_checks.scan_lines(tuple(scan.start), tuple(scan.end), scan.lines, scan.line_spacing)


def tip_shape(config: Config) -> tips.Tip:
    """The rigid tip of a config, m."""
    tip = config.tip
    if tip.shape == "sphere":
        return tips.SphereTip(tip.radius)
    if tip.shape == "flat":
        return tips.FlatTip(tip.radius, tip.edge_radius)
    return tips.ProfileTip.from_file(tip.profile)


def tip_problem(config: Config) -> TipProblemParameters:
    """The tip load and how it is solved."""
    tip, solve = config.tip, config.solve
    return TipProblemParameters(
        elasticity=config.material.elastic_constants(), degree=config.mesh.degree,
        shape=tip.shape, load=tip.load, tip=tip_shape(config), tip_radius=tip.radius, force=tip.force,
        symmetry_fraction=config.symmetry_fraction, contact_radius=config.contact_radius,
        contact_modulus=config.contact_modulus, cell_size=config.mesh.contact_size,
        linear_solver=solve.linear_solver, contact_gamma=solve.contact_gamma,
        contact_theta=solve.contact_theta, contact_force_rtol=solve.contact_force_rtol,
        mechanics_options=user_options(config, "mech"), contact_options=user_options(config, "contact"),
        moving=config.scanning)


def needs_electromechanics(config: Config) -> bool:
    """Whether a run solves (u, P, φ): flexoelectricity on, a biased tip, or charged vacancies.

    Vacancies that start non-uniform carry a space charge, whose field needs φ.
    """
    charged = config.physics.vacancies and config.vacancies.initial != "uniform"
    return config.physics.flexoelectric or config.tip.bias != 0.0 or charged


def electromechanical_problem(config: Config) -> ElectromechanicalParameters:
    """The (u, P, φ) material, discretisation and solver."""
    solve = config.solve
    return ElectromechanicalParameters(
        material=config.electromechanical_material(), degree=config.mesh.degree,
        bubbles=config.mesh.polarization_element == "bubble", bias=config.tip.bias,
        electric_bc=config.physics.electric_bc, block_solver=solve.electromechanics_solver == "block",
        options=user_options(config, "em"), applied_options=user_options(config, "phi"),
        transient=(solve.mode == "transient" and solve.polarization_dynamics == "tdgl"
                   and not config.scanning),
        kinetic_coefficient=solve.tdgl_kinetic_coefficient,
        first_step=solve.dt, t_end=solve.t_end, quasi_steady_rtol=solve.quasi_steady_rtol)


def scan_path(config: Config) -> ScanPath:
    """The scanning tip's motion (SI)."""
    scan = config.scan
    return ScanPath.raster(scan_lines(config), scan.speed, scan.passes, scan.force_on, config.contact_radius,
                           scan.step_fraction)


def initial_vacancies(config: Config, stack, scales: Scales):
    """What sets ln(c/c0) at t = 0, or None for uniform vacancies."""
    v, L = config.vacancies, scales.length
    if v.initial == "step":
        return StepProfile(v.step_x / L, v.step_excess, v.step_depth / L, config.film.thickness / L)
    if v.initial == "from_run":
        from flexotip.fem import checkpoint

        return checkpoint.InitialFromRun(pathlib.Path(v.initial_run), stack, v.c0, L,
                                         config.symmetry_fraction)
    return None


def vacancy_problem(config: Config, stops: tuple[float, ...] = ()) -> VacancyParameters:
    """The oxygen vacancies' material and solve; a scan's runs over its path, ending on ``stops`` too."""
    v = config.vacancies
    scan = {"stops": tuple(sorted(stops))}
    if config.scanning:
        path = scan_path(config)
        scan = {"t_end": path.duration, "max_step": path.max_step, "until_steady": False,
                "stops": tuple(sorted(set(path.turns[:-1]) | set(stops)))}
    return VacancyParameters(
        material=config.vacancy_material(), degree=config.mesh.degree,
        transient=config.solve.mode == "transient" or config.scanning, surface=v.surface,
        relative_permittivity=(config.material.eps_background
                               + config.electromechanical_material().susceptibility),
        first_step=v.first_step, time_tolerance=v.time_tolerance, quasi_steady_rtol=v.quasi_steady_rtol,
        max_steps=v.max_steps, options=user_options(config, "np"), **({"t_end": config.solve.t_end} | scan))
