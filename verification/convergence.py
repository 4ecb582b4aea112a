"""Mesh convergence of any config: ``flexotip converge CONFIG --out DIR [--levels N] [--ratio r]``.

The config is run, as it is, at N levels (default 3) by the normal pipeline
(:func:`flexotip.pipeline.run.run`), each level in ``DIR/level_k`` on the full communicator.
Level 0 is the config as given (the level a user runs); level k divides every mesh length
by f = r**k:

* ``[mesh] contact_size``, ``far_size`` and ``surface_size`` (m) are divided by f;
* the size gradient ``[mesh] growth`` is divided by f too: the cell size is
  contact_size + growth·distance, so dividing both divides the cells by f everywhere;
* the ratio of neighbouring surface layers ``surface_growth`` g becomes g**(1/f), so that
  f thinner layers grow, together, as one layer did;
* ``surface_depth`` stays: it is a physical depth, not a cell size;
* with ``[solve] solver = "spectral"`` the grid's ``spectral_modes`` are multiplied by f.

Each level's config is validated again (:func:`refined_config`), so that a level the
config refuses is reported, naming the level and the key, before anything runs.

Every summary key that describes physics (:func:`is_physics_key`) and is a number at all
levels is then analysed (:func:`analyse_key`): its change between the last two levels,
relative or, for the surface-map densities (``delta_*``, ``s_*``), absolute; the observed
order p = log(|f1 − f0|/|f2 − f1|)/log(r) of the last three levels; the Richardson
estimate f2 + (f2 − f1)/(r**p − 1) of the limit; and whether the change is within the
tolerance. The report is written by :mod:`flexotip.verification.convergence_report`
(``convergence.json``, ``convergence.md``, ``convergence.png``).

The levels and the analysis are pure functions (no DOLFINx); :func:`run` imports the
pipeline when it runs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import numbers
import pathlib
import time
import tomllib

from mpi4py import MPI

from flexotip import config as config_module
from flexotip.config import Config

log = logging.getLogger(__name__)

DEFAULT_LEVELS = 3
DEFAULT_RATIO = 2.0
DEFAULT_RTOL = 0.02
"""Largest relative change between the last two levels of a converged key."""
DEFAULT_ATOL_DENSITY = 0.02
"""Largest absolute change of a converged surface-map density (s = c/c0 − 1, dimensionless)."""
TINY = 1e-300
"""Floor of the denominator of the relative change (a key that is zero at the last level)."""
ROUNDOFF = 1e-12
"""Round-off, relative to a key's scale: differences at or below it count as zero (see
:func:`analyse_key`)."""
UNIT_SUFFIXES = ("_V_per_m", "_C_per_m2", "_per_m3", "_Pa", "_N", "_m", "_V", "_s")
"""The SI unit at the end of a summary key's name (longest first); keys without are dimensionless."""

HEADLINE_KEYS = (
    "P_axis_max_C_per_m2", "Pz_axis_2nm_C_per_m2", "max_abs_P_inside_contact_C_per_m2",
    "Ez_below_tip_V_per_m", "Ez_contact_edge_V_per_m", "delta_axis", "delta_contact_mean",
    "delta_dec", "delta_inc", "enrichment_radius_m", "axis_displacement_m", "contact_radius_m",
    "max_pressure_Pa", "approach_m", "max_shear_stress_Pa", "max_shear_depth_m",
)
"""Keys listed first, and plotted, when a run has them (docs/outputs.md)."""
DENSITY_KEYS = ("delta_axis", "delta_contact_mean", "delta_dec", "delta_inc")
DENSITY_PREFIXES = ("delta_", "s_")
"""Surface-map densities: dimensionless, near zero, so their tolerance is absolute."""

NOT_PHYSICS_PREFIXES = ("time_", "n_", "failure_", "flexo_f")
NOT_PHYSICS_SUFFIXES = ("_version", "_iterations", "_steps", "_rounds", "_solves", "_updates")
NOT_PHYSICS_KEYS = frozenset({
    # the mesh itself
    "h_min_m", "h_max_m", "mesh_min_quality", "max_dihedral_angle_deg", "max_aspect_ratio",
    "surface_layers_max_dihedral_angle_deg", "surface_layers_max_aspect_ratio", "surface_size_m",
    "contact_band_inner_m", "contact_band_outer_m",
    "spectral_modes",
    # the config echoed back (the same at every level)
    "force_N", "tip_radius_m", "contact_modulus_Pa", "susceptibility", "tip_bias_V", "sensing_depth_m",
    "contact_gamma", "contact_theta", "vacancy_debye_length_m", "vacancy_thermal_voltage_V",
    "tdgl_relaxation_time_s", "t_final_s", "vacancy_t_final_s",
    # solver residuals and round-off, not values that converge to a limit
    "force_balance_error", "load_force_relative_error", "vacancies_relative_change",
    # a discretisation error that goes to 0 (reported per level, not converged to a limit)
    "surface_map_roughness",
})
"""Numeric summary keys that are not physics results: sizes, counts, inputs, residuals."""


# -- levels -------------------------------------------------------------------------------
def refined_config(config: Config, factor: float, *, source: str = "refined config") -> Config:
    """The config with every mesh length divided by ``factor``, validated again.

    Divides ``[mesh] contact_size``, ``far_size``, ``surface_size`` (m) and ``growth``
    by ``factor``, raises ``surface_growth`` to the power 1/``factor``, keeps
    ``surface_depth``, and multiplies ``[solve] spectral_modes`` by ``factor`` (rounded)
    when the solver is spectral. The result goes through the TOML round trip and
    :func:`flexotip.config.from_dict`, so every check of a config file applies to it.

    Args:
        config: A validated config.
        factor: Refinement factor f > 0 (f > 1 refines; 1 gives the config back).
        source: Name of the refined config in error messages (e.g. "level 2 of case.toml").

    Raises:
        ValueError: If ``factor`` is not a finite number > 0.
        flexotip.config.ConfigError: If the refined config is invalid, naming ``source``
            and each key.
    """
    if not (isinstance(factor, numbers.Real) and math.isfinite(factor) and factor > 0):
        raise ValueError(f"factor = {factor!r}: must be a finite number > 0")
    mesh = config.mesh
    refined = dataclasses.replace(
        config,
        mesh=dataclasses.replace(mesh, contact_size=mesh.contact_size / factor,
                                 far_size=mesh.far_size / factor, growth=mesh.growth / factor,
                                 surface_size=mesh.surface_size / factor,
                                 surface_growth=mesh.surface_growth ** (1.0 / factor)))
    if config.solve.solver == "spectral":
        refined = dataclasses.replace(refined, solve=dataclasses.replace(
            config.solve, spectral_modes=round(config.solve.spectral_modes * factor)))
    return config_module.from_dict(tomllib.loads(config_module.to_toml(refined)), source=source)


def level_configs(config: Config, n_levels: int, ratio: float, name: str = "config") -> list[Config]:
    """The configs of levels 0 … n_levels − 1, level k with mesh lengths divided by ratio**k.

    Args:
        config: The config of level 0, as given.
        n_levels: Number of levels, ≥ 2.
        ratio: Refinement ratio between neighbouring levels, > 1.
        name: The config's name in error messages (its file name).

    Raises:
        ValueError: If ``n_levels`` < 2 or ``ratio`` ≤ 1.
        flexotip.config.ConfigError: For the first level the config refuses, naming the
            level and the keys.
    """
    if isinstance(n_levels, bool) or not isinstance(n_levels, numbers.Integral) or n_levels < 2:
        raise ValueError(f"levels = {n_levels!r}: must be an integer ≥ 2")
    if not (isinstance(ratio, numbers.Real) and math.isfinite(ratio) and ratio > 1):
        raise ValueError(f"ratio = {ratio!r}: must be a finite number > 1")
    return [config] + [refined_config(config, ratio**k, source=f"level {k} of {name} (mesh lengths "
                                      f"/ {ratio**k:g})") for k in range(1, n_levels)]


def mesh_lengths(config: Config) -> dict:
    """The [mesh] keys a level changes (m, or dimensionless), and the spectral grid if used."""
    mesh = config.mesh
    lengths = {"contact_size": mesh.contact_size, "far_size": mesh.far_size, "growth": mesh.growth,
               "surface_size": mesh.surface_size, "surface_growth": mesh.surface_growth,
               "surface_depth": mesh.surface_depth}
    if config.solve.solver == "spectral":
        lengths["spectral_modes"] = config.solve.spectral_modes
    return lengths


# -- analysis -----------------------------------------------------------------------------
def _is_float(value) -> bool:
    """A real number that is not an integer (counts are integers in summary.json)."""
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)


def is_physics_key(key: str, values: list) -> bool:
    """Whether a summary key is a physics result to analyse: a float at every level.

    Integers (cell, dof and iteration counts), booleans, strings, lists and None are not;
    nor are the timings, the mesh's own sizes, the config echoed back and the solver
    residuals (``NOT_PHYSICS_*``).
    """
    if key in NOT_PHYSICS_KEYS or key.startswith(NOT_PHYSICS_PREFIXES) or key.endswith(NOT_PHYSICS_SUFFIXES):
        return False
    return bool(values) and all(_is_float(value) for value in values)


def is_density_key(key: str) -> bool:
    """Whether a key is a surface-map density (absolute tolerance)."""
    return key in DENSITY_KEYS or key.startswith(DENSITY_PREFIXES)


def unit_of(key: str) -> str:
    """The unit suffix of a key's name (``UNIT_SUFFIXES``), or "" for a dimensionless key."""
    return next((suffix for suffix in UNIT_SUFFIXES if key.endswith(suffix)), "")


def observed_order(values: list[float], ratio: float, roundoff: float = 0.0) -> float | None:
    """Observed order p = log(|f1 − f0|/|f2 − f1|)/log(r) of the last three values.

    None with fewer than three values, a difference that is zero (at most ``roundoff``,
    in the values' unit) or not finite, or differences of opposite sign (not monotone). A
    negative p means the differences grow.
    """
    if len(values) < 3:
        return None
    f0, f1, f2 = values[-3:]
    coarse, fine = f1 - f0, f2 - f1
    if not (math.isfinite(coarse) and math.isfinite(fine)) or min(abs(coarse), abs(fine)) <= roundoff:
        return None
    if (coarse > 0) != (fine > 0):
        return None
    return math.log(abs(coarse) / abs(fine)) / math.log(ratio)


def richardson(values: list[float], ratio: float, order: float | None) -> float | None:
    """Richardson estimate f_last + (f_last − f_prev)/(r**p − 1) of the limit; None unless p > 0."""
    if order is None or order <= 0 or len(values) < 2:
        return None
    return values[-1] + (values[-1] - values[-2]) / (ratio**order - 1.0)


@dataclasses.dataclass(frozen=True)
class KeyConvergence:
    """One summary key over the levels.

    Attributes:
        key: The summary key (its unit is in its name).
        values: Its value at each level, coarse to fine (the key's unit).
        relative_change: |f_last − f_prev|/max(|f_last|, roundoff, ``TINY``); None with one level.
        absolute_change: |f_last − f_prev| (the key's unit); None with one level.
        observed_order: See :func:`observed_order`.
        richardson: See :func:`richardson` (the key's unit).
        tolerance_kind: "relative", or "absolute" for the surface-map densities.
        tolerance: The tolerance on that change.
        converged: Whether the change is within the tolerance; None with one level.
        headline: Whether the key is one of ``HEADLINE_KEYS``.
        roundoff: ``ROUNDOFF`` times the key's scale (the key's unit): values and
            differences at or below it count as zero.
    """

    key: str
    values: tuple[float, ...]
    relative_change: float | None
    absolute_change: float | None
    observed_order: float | None
    richardson: float | None
    tolerance_kind: str
    tolerance: float
    converged: bool | None
    headline: bool
    roundoff: float


def analyse_key(key: str, values: list[float], ratio: float, rtol: float = DEFAULT_RTOL,
                atol_density: float = DEFAULT_ATOL_DENSITY, scale: float = 0.0) -> KeyConvergence:
    """The change, observed order, Richardson estimate and verdict of one key.

    The key's scale is the largest of |values| and ``scale``; ``ROUNDOFF`` times it is the
    round-off below which a value or a difference counts as zero. A key that is zero up to
    round-off (φ on a grounded top, ~1e-17 V beside potentials of 0.1 V) then has a
    relative change of that order, not of one, and differences at round-off give no order.

    Args:
        key: The summary key.
        values: Its values, level 0 first.
        ratio: Refinement ratio between neighbouring levels.
        rtol: Tolerance on the relative change.
        atol_density: Tolerance on the absolute change of a density key.
        scale: The scale of the key's unit in the run (:func:`unit_scales`), in that unit.
    """
    values = [float(value) for value in values]
    density = is_density_key(key)
    kind, tolerance = ("absolute", atol_density) if density else ("relative", rtol)
    finite = [abs(value) for value in values if math.isfinite(value)]
    roundoff = ROUNDOFF * max([scale, *finite])
    relative = absolute = converged = None
    if len(values) >= 2:
        absolute = abs(values[-1] - values[-2])
        relative = absolute / max(abs(values[-1]), roundoff, TINY)
        converged = bool((absolute if density else relative) <= tolerance)
    order = observed_order(values, ratio, roundoff)
    return KeyConvergence(key, tuple(values), relative, absolute, order, richardson(values, ratio, order),
                          kind, tolerance, converged, key in HEADLINE_KEYS, roundoff)


def unit_scales(summaries: list[dict], keys: list[str]) -> dict[str, float]:
    """The largest finite |value| of any of ``keys`` per unit (:func:`unit_of`), over the levels."""
    scales: dict[str, float] = {}
    for key in keys:
        finite = [abs(summary[key]) for summary in summaries if math.isfinite(summary[key])]
        scales[unit_of(key)] = max([scales.get(unit_of(key), 0.0), *finite])
    return scales


def analyse(summaries: list[dict], ratio: float, rtol: float = DEFAULT_RTOL,
            atol_density: float = DEFAULT_ATOL_DENSITY) -> list[KeyConvergence]:
    """Every physics key present at all levels, the headline keys first (in their order).

    Each key's round-off is set by the largest value of its unit in the run (``scale`` of
    :func:`analyse_key`).

    Args:
        summaries: The summary of each level, level 0 first.
        ratio: Refinement ratio between neighbouring levels.
        rtol: Tolerance on the relative change.
        atol_density: Tolerance on the absolute change of a density key.
    """
    if not summaries:
        return []
    common = [key for key in summaries[0] if all(key in summary for summary in summaries)]
    keys = [key for key in common if is_physics_key(key, [summary[key] for summary in summaries])]
    ordered = [key for key in HEADLINE_KEYS if key in keys]
    ordered += [key for key in keys if key not in HEADLINE_KEYS]
    scales = unit_scales(summaries, keys)
    return [analyse_key(key, [summary[key] for summary in summaries], ratio, rtol, atol_density,
                        scales[unit_of(key)]) for key in ordered]


# -- the report and the driver ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Settings:
    """What a convergence study was asked for.

    Attributes:
        name: The config's name (its path, or "built-in defaults").
        ratio: Refinement ratio between neighbouring levels.
        rtol: Tolerance on the relative change.
        atol_density: Tolerance on the absolute change of a surface-map density.
        command: The command line, as the report quotes it.
    """

    name: str
    ratio: float = DEFAULT_RATIO
    rtol: float = DEFAULT_RTOL
    atol_density: float = DEFAULT_ATOL_DENSITY
    command: str = ""


def level_record(k: int, config: Config, settings: Settings, summary: dict | None = None,
                 seconds: float | None = None, error: Exception | None = None) -> dict:
    """A level of convergence.json: its mesh lengths, outcome, cells, dofs and wall time (s).

    Without a summary the level is "not run" (a coarser level failed), with an error "failed".
    """
    summary = summary or {}
    record = {"level": k, "factor": settings.ratio**k, "folder": f"level_{k}",
              "status": "failed" if error is not None else summary.get("status", "not run"),
              "mesh": mesh_lengths(config), "n_cells": summary.get("n_cells"),
              "n_dofs": summary.get("n_dofs"), "time_s": seconds}
    if error is not None:
        record["error"] = str(error)
    return record


def build_report(settings: Settings, levels: list[dict], summaries: list[dict], status: str,
                 n_ranks: int = 1) -> dict:
    """convergence.json as a dict: the settings, the levels, and every key's analysis.

    Args:
        settings: The study's ratio, tolerances and names.
        levels: One :func:`level_record` per level, run or not.
        summaries: The summaries of the levels that completed, level 0 first.
        status: "running", "complete" or "failed".
        n_ranks: MPI ranks every level ran on.
    """
    analysed = analyse(summaries, settings.ratio, settings.rtol, settings.atol_density)
    not_converged = [item.key for item in analysed if item.converged is False]
    verdict = None if len(summaries) < 2 or status != "complete" else not not_converged
    return {"status": status, "config": settings.name, "command": settings.command,
            "n_levels": len(levels), "ratio": settings.ratio, "rtol": settings.rtol,
            "atol_density": settings.atol_density, "n_ranks": n_ranks,
            "all_converged": verdict, "not_converged": not_converged,
            "levels": levels, "keys": {item.key: dataclasses.asdict(item) for item in analysed}}


def run(comm: MPI.Comm, configs: list[Config], outdir: pathlib.Path, settings: Settings) -> dict:
    """Run every level in turn on ``comm`` and write the report (collective); return it.

    Level k runs in ``outdir/level_k``. convergence.json is rewritten after every level
    with ``status`` "running"; at the end the three files are written with "complete",
    or with "failed" when a level's solver fails (the finer levels are then not run).

    Args:
        comm: The communicator every level runs on.
        configs: The validated config of each level (:func:`level_configs`).
        outdir: The output folder.
        settings: The ratio, tolerances and names of the study.
    """
    from flexotip.errors import SolverError
    from flexotip.fem.contact import ApproachNotFoundError
    from flexotip.pipeline import run as pipeline
    from flexotip.verification import convergence_report

    outdir = pathlib.Path(outdir)
    levels, summaries, status = [], [], "complete"
    for k, config in enumerate(configs):
        log.info("convergence: level %d of 0–%d, mesh lengths / %g (contact_size %.4g m)", k,
                 len(configs) - 1, settings.ratio**k, config.mesh.contact_size)
        start = time.perf_counter()
        try:
            summary = comm.bcast(pipeline.run(comm, config, outdir / f"level_{k}"), root=0)
        except (SolverError, ApproachNotFoundError) as error:
            levels.append(level_record(k, config, settings, _failed_summary(comm, outdir / f"level_{k}"),
                                       time.perf_counter() - start, error))
            log.error("convergence level %d failed: %s", k, error)
            levels += [level_record(j, configs[j], settings) for j in range(k + 1, len(configs))]
            status = "failed"
            break
        summaries.append(summary)
        levels.append(level_record(k, config, settings, summary, time.perf_counter() - start))
        pending = [level_record(j, configs[j], settings) for j in range(k + 1, len(configs))]
        convergence_report.write_json(comm, outdir, build_report(settings, levels + pending, summaries,
                                                                 "running", comm.size))
    report = build_report(settings, levels, summaries, status, comm.size)
    convergence_report.write(comm, outdir, report)
    return report


def _failed_summary(comm: MPI.Comm, folder: pathlib.Path) -> dict | None:
    """The summary.json a failed level left (its mesh keys), read on rank 0 and shared."""
    summary = None
    if comm.rank == 0 and (folder / "summary.json").is_file():
        summary = json.loads((folder / "summary.json").read_text())
    return comm.bcast(summary, root=0)
