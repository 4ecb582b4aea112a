"""Checks of a config across its keys, after each value has passed :mod:`flexotip.config_values`.

The schema (sections, keys, defaults, units, allowed values) is :mod:`flexotip.config`,
which calls :func:`resolve` with its parsed sections and its defaults: this module does not
import it (data flows one way). It fills the defaults that depend on other keys (the
contact radius, α1, the symmetry, the spectral modes) and checks the combinations. Every
problem is appended to one list of messages, which :func:`flexotip.config.from_dict` raises
together as a :class:`flexotip.config.ConfigError`; nothing here raises on bad input.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
import warnings

import numpy as np

from flexotip.analytic import hertz_contact_radius
from flexotip.materials import (
    CubicElasticity,
    ElectromechanicalMaterial,
    barrett_alpha1,
    contact_modulus,
    short_wavelength_stability,
)
from flexotip.tips import ProfileTip


def resolve(config: typing.Any, given: dict, errors: list[str], tip_radius: dict[str, float]) -> typing.Any:
    """Fill the defaults that depend on other keys and run the cross-key checks.

    Args:
        config: The parsed :class:`flexotip.config.Config`.
        given: The config as given (nested dicts), to tell set keys from defaults.
        errors: The messages so far; each problem found appends one.
        tip_radius: The default tip radius (m) of each shape without a radius.

    Returns:
        The config with those defaults filled.
    """
    material, film, tip, mesh = config.material, config.film, config.tip, config.mesh
    material_given = given.get("material", {})
    cubic = CubicElasticity(material.c11, material.c12, material.c44)
    cubic_keys = f"[material] c11 = {material.c11:g}, c12 = {material.c12:g}, c44 = {material.c44:g}"

    problem = cubic.stability_error()
    averaged = material.young is None or material.poisson is None
    if material.elasticity == "isotropic":
        if averaged:
            if problem:
                errors.append(f"{cubic_keys}: not positive definite ({problem}); elasticity = 'isotropic' "
                              "averages them (Voigt-Reuss-Hill) into the young and poisson not given")
            else:
                young, poisson = cubic.voigt_reuss_hill()
                material = dataclasses.replace(
                    material, young=material.young if material.young is not None else young,
                    poisson=material.poisson if material.poisson is not None else poisson)
    else:
        for key in ("young", "poisson"):
            if key in material_given:
                errors.append(f"[material] {key} = {material_given[key]!r}: applies only to "
                              "elasticity = 'isotropic' (the cubic model uses c11, c12, c44)")
        if problem:
            errors.append(f"{cubic_keys}: not positive definite ({problem})")
    elastic_ok = not problem or (material.elasticity == "isotropic" and not averaged)
    if material.alpha1 is None:
        alpha1 = barrett_alpha1(material.temperature)
        if not alpha1 > 0:
            errors.append(f"[material] temperature = {material.temperature!r}: the default alpha1 (Barrett) "
                          f"is {alpha1:.4g} J·m/C², not > 0, at or below 30 K; the film is modelled as a "
                          "paraelectric (alpha1 > 0): give temperature > 30 K, or alpha1 > 0")
        material = dataclasses.replace(material, alpha1=alpha1)
    # Unstable elastic constants (already reported) have no E*; any stand-in lets the
    # remaining checks run and report their own problems.
    modulus = _contact_modulus(material, errors) if elastic_ok else 3e11

    if config.physics.flexoelectric and not errors:
        c = material.elastic_constants()
        margin = _flexo_margin(material.f11, material.f12, material.f44, material.G11, material.G12,
                               material.G44, c.c11, c.c12, c.c44)
        coefficients = (f"[material] f11 = {material.f11:g}, f12 = {material.f12:g}, "
                        f"f44 = {material.f44:g} V with G11 = {material.G11:g}, G12 = {material.G12:g}, "
                        f"G44 = {material.G44:g} J·m³/C²")
        if not math.isfinite(margin):
            errors.append(f"{coefficients}: too large to check that the free energy has a minimum (the "
                          "short-wavelength stiffness overflows); give coefficients of physical size")
        elif margin < 0:
            errors.append(
                f"{coefficients}: "
                "the flexoelectric coupling outweighs the gradient energy at short wavelengths "
                f"(smallest stiffness {margin:.3g} J·m³/C² < 0; roughly, G must exceed f²/c), so "
                "the free energy has no minimum; raise G11/G44 or lower the f's")

    profile = None
    if tip.shape == "profile":
        if tip.profile is None:
            errors.append("[tip] shape = 'profile' needs [tip] profile = 'file' "
                          "(two columns: r (m), h(r) (m))")
        else:
            profile = _read_profile(tip.profile, errors)
        if tip.load != "contact":
            errors.append(f"[tip] shape = 'profile' with load = {tip.load!r}: a measured "
                          "profile needs load = 'contact'")
    elif tip.profile is not None:
        errors.append(f"[tip] profile = {given['tip']['profile']!r}: applies only to shape = 'profile' "
                      f"(this tip: shape = {tip.shape!r})")
    if tip.edge_radius > 0 and tip.shape != "flat":
        errors.append(f"[tip] edge_radius = {tip.edge_radius!r}: applies only to shape = 'flat'")
    elif tip.edge_radius > 0 and tip.load != "contact":
        errors.append(f"[tip] edge_radius = {tip.edge_radius!r}: a rounded punch edge needs "
                      "the solved contact, load = 'contact' (issue 3); Sneddon's pressure "
                      "(load = 'hertz') is for a sharp edge, edge_radius = 0.0")

    radius = tip.radius
    if radius is None:
        radius = tip_radius[tip.shape]
    if tip.shape == "flat" and tip.edge_radius >= radius:
        errors.append(f"[tip] edge_radius = {tip.edge_radius!r}: must be smaller than the "
                      f"punch radius {radius:g} m")
    contact_radius = tip.contact_radius
    if contact_radius is None and tip.shape != "flat" and tip.force == 0:
        # The sphere's radius, and the profile's, is Hertz's (of the apex curvature): 0.
        errors.append("[tip] force = 0: with no force there is no Hertz contact; give "
                      "[tip] contact_radius (m)")
        contact_radius = 1e-9
    if contact_radius is None and profile is not None:
        with np.errstate(all="ignore"):
            contact_radius = float(profile.predicted_contact_radius(tip.force, modulus))
    if contact_radius is None:
        contact_radius = radius if tip.shape == "flat" else hertz_contact_radius(tip.force, radius, modulus)
    tip = dataclasses.replace(tip, radius=radius, contact_radius=contact_radius)

    if config.scanning:
        tip, film = _check_scan(config, tip, film, contact_radius, given, errors)
    elif config.scan.end is not None:
        errors.append(f"[scan] end = {config.scan.end!r}: applies only to a scan; give [scan] start = [x, y] "
                      "(m) too (setting start makes the run a scan)")
    _check_initial_vacancies(config, given, errors)
    map_times = config.output.map_times
    if map_times and (config.solve.mode != "transient" or config.scanning or not config.physics.vacancies):
        errors.append(f"[output] map_times = {map_times!r}: applies to a vacancy transient ([solve] mode = "
                      "'transient', no [scan]: a scan saves [scan] frames)")
    elif map_times and config.solve.t_end is not None and map_times[-1] > config.solve.t_end:
        errors.append(f"[output] map_times = {map_times!r}: the last must not exceed [solve] t_end = "
                      f"{config.solve.t_end!r}")
    x0, y0 = tip.position
    if film.symmetry == "auto":
        film = dataclasses.replace(film, symmetry=auto_symmetry(x0, y0))
    if film.symmetry == "half" and x0 != 0.0:
        errors.append(f"[tip] position = {tip.position!r}: with [film] symmetry = 'half' the "
                      "tip must sit on the plane x = 0")
    if film.symmetry == "quarter" and (x0 != 0.0 or y0 != 0.0):
        errors.append(f"[tip] position = {tip.position!r}: with [film] symmetry = 'quarter' "
                      "the tip must sit on the axis x = y = 0")
    reach = max(abs(x0), abs(y0)) + contact_radius
    if reach >= film.half_width:
        errors.append(f"[tip] contact radius {contact_radius:.4g} m at position "
                      f"{tip.position!r} reaches {reach:.4g} m from the centre: must stay "
                      f"inside the domain, [film] half_width = {film.half_width:.4g} m")
    elif tip.load == "contact":
        # The mesh's contact disc is the refined band's outer circle (pipeline.parameters.stack_geometry);
        # one that crosses the box's wall makes a mesh DOLFINx cannot distribute.
        band = contact_radius * (1.0 + mesh.contact_band) + tip.edge_radius
        band_reach = max(abs(x0), abs(y0)) + band
        if band_reach >= film.half_width:
            errors.append(f"[mesh] contact_band = {mesh.contact_band!r}: the solved contact's refined band "
                          f"reaches r = {band:.4g} m (contact radius {contact_radius:.4g} m, plus the band, "
                          f"plus [tip] edge_radius = {tip.edge_radius!r}), {band_reach:.4g} m from the "
                          f"centre at position {tip.position!r}: must stay inside the domain, [film] "
                          f"half_width = {film.half_width:.4g} m")
    if mesh.contact_size >= film.thickness:
        errors.append(f"[mesh] contact_size = {mesh.contact_size!r}: must be smaller than "
                      f"the film thickness [film] thickness = {film.thickness:.4g} m")
    if mesh.contact_size > 0.5 * contact_radius:
        errors.append(f"[mesh] contact_size = {mesh.contact_size!r}: must be at most half "
                      f"the contact radius ({0.5 * contact_radius:.4g} m) to resolve the contact")
    if mesh.far_size < mesh.contact_size:
        errors.append(f"[mesh] far_size = {mesh.far_size!r}: must be ≥ contact_size = "
                      f"{mesh.contact_size!r}")
    if mesh.far_size > film.half_width:
        errors.append(f"[mesh] far_size = {mesh.far_size!r}: must not exceed [film] "
                      f"half_width = {film.half_width!r}")
    if mesh.surface_size > 0:
        sensing = config.vacancies.sensing_depth
        if mesh.surface_size > mesh.contact_size:
            errors.append(f"[mesh] surface_size = {mesh.surface_size!r}: must not exceed "
                          f"contact_size = {mesh.contact_size!r} (or 0 for no surface layers)")
        if not sensing < mesh.surface_depth < film.thickness:
            errors.append(f"[mesh] surface_depth = {mesh.surface_depth!r}: must lie between "
                          f"[vacancies] sensing_depth = {sensing!r} and the film thickness "
                          f"{film.thickness:.4g} m (the layers end one volume at the sensing depth)")
        if mesh.surface_size > sensing:
            errors.append(f"[mesh] surface_size = {mesh.surface_size!r}: must not exceed "
                          f"[vacancies] sensing_depth = {sensing!r}")
    if film.air_thickness > 0 and config.tip.load == "contact":
        errors.append(f"[film] air_thickness = {film.air_thickness!r}: the solved contact "
                      "with an air layer is not available yet; allowed with load = 'contact': 0.0 "
                      "(or use load = 'hertz')")
    if config.physics.electric_bc == "air-gap" and film.air_thickness <= 0:
        errors.append("[physics] electric_bc = 'air-gap' needs [film] air_thickness > 0 (m)")
    if config.solve.solver == "spectral":
        unsupported = [what for what, present in (
            ("[physics] flexoelectric = true", config.physics.flexoelectric),
            (f"[tip] bias = {config.tip.bias!r}", config.tip.bias != 0),
            (f"[tip] load = {config.tip.load!r}", config.tip.load != "hertz"),
            (f"[film] air_thickness = {film.air_thickness!r}", film.air_thickness > 0),
            (f"[solve] mode = {config.solve.mode!r}", config.solve.mode != "steady")) if present]
        if unsupported:
            errors.append("[solve] solver = 'spectral' solves, for now, the mechanics of a prescribed "
                          "tip pressure (flexoelectric = false, bias = 0, load = 'hertz', no air, "
                          "steady; the polarised film is a Python API, flexotip.spectral."
                          "film_dynamics, too costly for a run: see docs/performance.md); "
                          "this config has "
                          + ", ".join(unsupported))
    uniform = config.vacancies.initial == "uniform" or not config.physics.vacancies
    if (config.solve.mode == "transient" and not config.physics.flexoelectric and config.tip.bias == 0
            and uniform):
        errors.append("[solve] mode = 'transient': the time-dependent solve relaxes the "
                      "polarisation (TDGL) and moves the vacancies in its field, which needs "
                      "[physics] flexoelectric = true, a [tip] bias or non-uniform vacancies "
                      "([vacancies] initial)")
    solve = config.solve
    if solve.linear_solver == "auto":
        solve = dataclasses.replace(
            solve, linear_solver="direct" if mesh.surface_size > 0 else "iterative")
    if solve.spectral_modes is None:
        solve = dataclasses.replace(
            solve, spectral_modes=spectral_modes_for(contact_radius, film.half_width, film.symmetry))
    t_end, dt = config.solve.t_end, config.solve.dt
    if t_end is not None and dt is not None and dt > t_end:
        errors.append(f"[solve] dt = {config.solve.dt!r}: must not exceed t_end = {config.solve.t_end!r}")
    return dataclasses.replace(config, material=material, film=film, tip=tip, solve=solve)


def _contact_modulus(material: typing.Any, errors: list[str]) -> float:
    """E* of tip and film, Pa; a message and a stand-in when it is not a finite number > 0.

    Stable constants give E* > 0, but constants far out of range overflow or underflow.
    """
    try:
        modulus = contact_modulus(material.elastic_constants(), material.tip_young, material.tip_poisson)
    except ArithmeticError:
        modulus = math.nan
    if math.isfinite(modulus) and modulus > 0:
        return modulus
    if material.elasticity == "isotropic":
        film = f"young = {material.young:g}, poisson = {material.poisson:g}"
    else:
        film = f"c11 = {material.c11:g}, c12 = {material.c12:g}, c44 = {material.c44:g}"
    tip = "" if material.tip_young is None else (
        f", tip_young = {material.tip_young:g}, tip_poisson = {material.tip_poisson:g}")
    value = "cannot be computed" if math.isnan(modulus) else f"is {modulus:g} Pa, not a finite number > 0"
    errors.append(f"[material] {film}{tip}: the contact modulus E* of tip and film {value} (the moduli "
                  "overflow or underflow); give moduli of physical size (Pa)")
    return 3e11


@functools.lru_cache(maxsize=64)
def _flexo_margin(f11: float, f12: float, f44: float, G11: float, G12: float, G44: float,
                  c11: float, c12: float, c44: float) -> float:
    """:func:`short_wavelength_stability` of these constants; NaN where it overflows.

    It depends on the gradient (k²) terms only, not on α1. Cached: a study validates the
    same material once per member, and the check takes tens of milliseconds.
    """
    material = ElectromechanicalMaterial(alpha1=1.0, f11=f11, f12=f12, f44=f44, G11=G11, G12=G12, G44=G44)
    with np.errstate(all="ignore"):
        try:
            return short_wavelength_stability(material, CubicElasticity(c11, c12, c44).voigt())
        except np.linalg.LinAlgError:
            return math.nan


def _read_profile(path: str, errors: list[str]) -> ProfileTip | None:
    """The measured tip profile of ``[tip] profile``; None, and a message, if it cannot be read."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return ProfileTip.from_file(path)
    except (ValueError, IndexError, OSError) as error:
        reason = " ".join(str(error).split())  # numpy's may span lines
        errors.append(f"[tip] profile = {path!r}: not a readable tip profile ({reason}); needs two columns "
                      "r, h(r) in m (comma-separated; whitespace-separated in a .txt file), at least 3 rows, "
                      "r from 0 increasing, h from 0 not decreasing")
        return None


def auto_symmetry(x0: float, y0: float) -> str:
    """``[film] symmetry = "auto"``: quarter for a tip on the axis x = y = 0, else full.

    The cubic film's (100) and (010) mirror planes through the tip axis are symmetry planes
    of every field when the tip is axisymmetric (sphere, flat, measured profile), so the
    quarter box gives the full box's fields at a quarter of the cost.
    """
    return "quarter" if x0 == 0.0 and y0 == 0.0 else "full"


SPECTRAL_CELLS_PER_CONTACT_RADIUS = 4.0
"""Default spectral grid: cells of at most a/4 (docs/validation.md, 'The default mesh')."""
SPECTRAL_MODES_RANGE = (256, 1024)


def spectral_modes_for(contact_radius: float, half_width: float, symmetry: str) -> int:
    """Default ``[solve] spectral_modes``: the power of two giving cells ≤ a/4, in [256, 1024].

    The grid spans the box's longest in-plane side (2·half_width, or half_width for the
    quarter box) with that many cosine modes.
    """
    extent = half_width if symmetry == "quarter" else 2.0 * half_width
    wanted = SPECTRAL_CELLS_PER_CONTACT_RADIUS * extent / contact_radius if contact_radius > 0 else math.inf
    low, high = SPECTRAL_MODES_RANGE
    if not wanted > low:  # also NaN: a contact radius out of range is reported by the checks
        return low
    if not wanted < high:
        return high
    return 2 ** math.ceil(math.log2(wanted))


def scan_lines(start: tuple[float, float], end: tuple[float, float], lines: int,
               spacing: float) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The raster's lines (start, end), m: line k is the first shifted by k·spacing to its left."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    return [((x0 + k * spacing * nx, y0 + k * spacing * ny), (x1 + k * spacing * nx, y1 + k * spacing * ny))
            for k in range(lines)]


def _check_scan(config, tip, film, contact_radius: float, given: dict, errors: list[str]):
    """The [scan] section against the tip, the box and the solve; returns (tip, film) resolved.

    The tip starts at [scan] start (so [tip] position must not be given), the mesh is
    refined along the path, and the symmetry is full unless every line runs along x = 0
    (then half).
    """
    scan = config.scan
    if scan.end is None:
        errors.append("[scan] start is set but end is not: give end = [x, y] (m), where the first line ends")
        return tip, film
    if math.hypot(scan.end[0] - scan.start[0], scan.end[1] - scan.start[1]) <= 0.0:
        errors.append(f"[scan] end = {scan.end!r}: must differ from start = {scan.start!r}")
        return tip, film
    if "position" in given.get("tip", {}) and list(tip.position) != list(scan.start):
        errors.append(f"[tip] position = {tip.position!r}: a scan starts at [scan] start = "
                      f"{scan.start!r}; leave [tip] position out (or equal to start)")
    if scan.lines > 1 and scan.line_spacing <= 0.0:
        errors.append(f"[scan] line_spacing = {scan.line_spacing!r}: lines = {scan.lines} needs a "
                      "spacing > 0 (m)")
    if tip.load != "hertz":
        errors.append(f"[tip] load = {tip.load!r}: a scan moves the prescribed Hertz/Sneddon pressure; "
                      "the solved contact at every position is not available; allowed: 'hertz'")
    if tip.bias != 0.0:
        errors.append(f"[tip] bias = {tip.bias!r}: a scanning tip is grounded for now (its moving "
                      "electrode is not available); allowed: 0.0")
    if config.physics.electric_bc != "short-circuit":
        errors.append(f"[physics] electric_bc = {config.physics.electric_bc!r}: a scan needs the "
                      "grounded film top, 'short-circuit' (the tip is part of it)")
    if config.solve.solver != "fem":
        errors.append("[solve] solver = 'spectral': a scan needs solver = 'fem'")
    if config.solve.t_end is not None:
        errors.append(f"[solve] t_end = {config.solve.t_end!r}: a scan ends when the tip does "
                      "(its duration is the path length over [scan] speed); leave t_end out")
    if not config.physics.vacancies:
        errors.append("[physics] vacancies = false: a scan moves the vacancies; set it true")
    lines = scan_lines(tuple(scan.start), tuple(scan.end), scan.lines, scan.line_spacing)
    along_axis = scan.lines == 1 and scan.start[0] == 0.0 and scan.end[0] == 0.0
    if film.symmetry == "auto":
        film = dataclasses.replace(film, symmetry="half" if along_axis else "full")
    elif film.symmetry == "quarter" or (film.symmetry == "half" and not along_axis):
        errors.append(f"[film] symmetry = {film.symmetry!r}: a scan keeps the full box ('full'), or "
                      "half of it for one line along x = 0 ('half')")
    reach = max(max(abs(c) for c in point) for line in lines for point in line) + contact_radius
    if reach >= film.half_width:
        errors.append(f"[scan] the path with the contact radius {contact_radius:.4g} m reaches "
                      f"{reach:.4g} m from the centre: must stay inside the domain, [film] "
                      f"half_width = {film.half_width:.4g} m")
    return dataclasses.replace(tip, position=list(scan.start)), film


def _check_initial_vacancies(config, given: dict, errors: list[str]) -> None:
    """[vacancies] initial and its keys: a non-uniform start needs time to evolve in."""
    v = config.vacancies
    if v.initial != "uniform" and config.solve.mode != "transient" and not config.scanning:
        errors.append(f"[vacancies] initial = {v.initial!r}: a steady state does not depend on where "
                      "the vacancies start; needs [solve] mode = 'transient' or a [scan]")
    if v.initial == "from_run" and v.initial_run is None:
        errors.append("[vacancies] initial = 'from_run' needs [vacancies] initial_run = 'DIR' (the "
                      "output folder of an earlier run)")
    vacancies_given = given.get("vacancies", {})
    if v.initial != "from_run" and "initial_run" in vacancies_given:
        errors.append(f"[vacancies] initial_run = {vacancies_given['initial_run']!r}: applies only "
                      "to initial = 'from_run'")
