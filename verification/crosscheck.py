"""FEM ↔ spectral cross-check: the same problem by both solvers, compared on one grid.

``flexotip crosscheck CASE --out DIR`` builds one problem for the finite-element model
(:mod:`flexotip.fem`) and for the spectral reference (:mod:`flexotip.spectral`), which
share only the material parameters, solves it with both at three resolutions (both
refined together), samples both on a common grid and writes, per level and field, the
relative L2 difference ‖a − b‖/‖b‖ (b the spectral field, the sums over the grid
points and the components) and the largest difference over max |b|:

* ``crosscheck.json``: the numbers, the sizes (dofs, modes) and the wall times;
* ``crosscheck.md``: the same as a table;
* ``crosscheck.png``: the differences against the level, and one profile of each solver.

Cases (all SI, STO at 300 K with the default parameters):

``eigenstrain``
    Elasticity alone in a box with mirror walls on all faces (rollers), driven by a
    Gaussian dilatation ε⁰ = e(x)·I (a chemical expansion, as vacancies cause), centred
    on the corner at the origin: fields u.
``electromechanics``
    The same box and dilatation with the full (u, P, φ) problem: flexoelectricity,
    electrostriction, gradient energy, open-circuit walls (P_n = 0, zero normal D) and a
    Gaussian space charge: fields u, P, φ (φ with zero mean).
``nernst-planck``
    Vacancies relaxing from c = c0 in a fixed Gaussian potential (3·V_T deep), zero-flux
    walls, in a slab uniform along z: c/c0 at t = 200 s and the steady state. Both step
    with the same Δt, halved with the mesh (2, 1, 0.5 s): the FEM's backward Euler and the
    spectral semi-implicit step differ at O(Δt), which is most of the difference at 200 s.
``gaussian-film`` / ``hertz-film``
    The film/substrate stack (quarter box W = H = 100 nm, clamped bottom, roller walls)
    under a Gaussian (s = 4 nm) or the Hertz (a = 8 nm) pressure of 4 µN: the surface
    displacement on a grid over r ≤ 4a, and σ_zz, σ_xx on the axis down to 4a.
``film-electromechanics``
    The polarised film under the Gaussian pressure (linear, ``eps_grad_P``, short
    circuit, a gradient coefficient whose surface layer the FEM resolves): P and φ on the
    axis, u on the surface. The film cases are in :mod:`flexotip.verification.crosscheck_film`.

The pass criterion of the issue is a relative L2 difference below ``TOLERANCE`` for
every field at the default (middle) level, falling under refinement.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import pathlib
import time
from collections.abc import Callable

from mpi4py import MPI

import numpy as np

from flexotip import config as config_module
from flexotip.materials import VacancyMaterial
from flexotip.spectral import transport
from flexotip.spectral.box_electromechanics import BoxElectromechanics
from flexotip.spectral.series import Box
from flexotip.verification import box_fem, box_fem_vacancies
from flexotip.verification.box_fem import GaussianBump
from flexotip.verification.comparison import Level, relative_differences
from flexotip.verification.crosscheck_film import run_film_electromechanics, run_gaussian_film, run_hertz_film

log = logging.getLogger(__name__)

TOLERANCE = 1e-2
"""Largest relative L2 difference of any field at the default level."""
DEFAULT_LEVEL = 1


@dataclasses.dataclass(frozen=True)
class Case:
    """A cross-check case: what it is, its levels (coarse, default, fine) and its runner."""

    description: str
    levels: tuple[Level, Level, Level]
    run: Callable


def _defaults():
    config = config_module.from_dict({}, source="crosscheck")
    return config, config.material.elastic_constants(), config.electromechanical_material()


# -- box cases ----------------------------------------------------------------------------
BOX_LENGTHS = (16e-9, 16e-9, 20e-9)
"""Box of the eigenstrain and electromechanics cases, m: unequal sides, unequal spacing."""
UNITS = {"displacement": "m", "polarization": "C/m²", "potential": "V"}
DILATATION = GaussianBump(1e-2, (0.0, 0.0, 0.0), 3e-9)
CHARGE = GaussianBump(2e7, (0.0, 0.0, 0.0), 3e-9)
"""Space charge of the electromechanics case, C/m³ (its mean is removed: a neutral box)."""


def _box_shape(n: int, lengths: tuple[float, float, float]) -> tuple[int, int, int]:
    """Cells per axis with the spacing of L_x/n (rounded)."""
    return tuple(max(2, round(n * length / lengths[0])) for length in lengths)


def _on_grid(box: Box, bump: GaussianBump) -> np.ndarray:
    """The bump at the cell centres of the box, shape ``box.shape``."""
    return bump(box.points()).reshape(box.shape)


def _run_box(comm: MPI.Comm, level: Level, coupled: bool) -> dict:
    _, elasticity, material = _defaults()
    box = Box(BOX_LENGTHS, _box_shape(level.spectral, BOX_LENGTHS))
    start = time.perf_counter()
    solver = BoxElectromechanics(box, elasticity, material if coupled else None)
    charge = _on_grid(box, CHARGE) - _on_grid(box, CHARGE).mean() if coupled else None
    spectral = solver.solve(_on_grid(box, DILATATION), charge).on_grid()
    spectral_time = time.perf_counter() - start
    cells, degree = level.fem
    fem = box_fem.solve_box_electromechanics(comm, BOX_LENGTHS, _box_shape(cells, BOX_LENGTHS), degree,
                                             elasticity, material if coupled else None, DILATATION,
                                             CHARGE if coupled else None, box.points())
    n_points = len(box.points())
    fields = {"displacement": (fem.displacement, spectral["displacement"])}
    if coupled:
        fields |= {"polarization": (fem.polarization, spectral["polarization"]),
                   "potential": (fem.potential, spectral["potential"])}
    # Both as (components, points), the points in the C order of the grid.
    fields = {name: (np.reshape(f, (n_points, -1)).T, np.reshape(s, (-1, n_points)))
              for name, (f, s) in fields.items()}
    differences = {name: relative_differences(*pair) for name, pair in fields.items()}
    points = box.points()
    on_x = np.flatnonzero((points[:, 1] == points[0, 1]) & (points[:, 2] == points[0, 2]))
    name = "polarization" if coupled else "displacement"
    profile = {"x_m": points[on_x, 0], "fem": fields[name][0][0, on_x], "spectral": fields[name][1][0, on_x],
               "label": f"{name} x component ({UNITS[name]}) along x, at the first cell centre in y and z"}
    return {"differences": differences, "spectral_modes": list(box.shape), "spectral_time_s": spectral_time,
            "fem": fem.stats, "profile": profile}


def run_eigenstrain(comm: MPI.Comm, level: Level) -> dict:
    """Elasticity alone: a Gaussian dilatation in the mirror-walled box."""
    return _run_box(comm, level, coupled=False)


def run_electromechanics(comm: MPI.Comm, level: Level) -> dict:
    """The coupled (u, P, φ) problem in the mirror-walled box."""
    return _run_box(comm, level, coupled=True)


SLAB_LENGTHS = (16e-9, 16e-9, 2e-9)
"""Box of the Nernst–Planck case, m: a slab, the potential uniform along z."""
NP_TIME = 200.0
"""Compared time of the Nernst–Planck case, s (its step, per level, is the third FEM parameter)."""


def run_nernst_planck(comm: MPI.Comm, level: Level) -> dict:
    """Vacancies relaxing in a fixed Gaussian potential: c/c0 at ``NP_TIME`` and at steady state."""
    config, _, _ = _defaults()
    v = config.vacancies
    material = VacancyMaterial(v.c0, v.diffusivity, v.charge, config.material.temperature)
    potential = GaussianBump(-3 * material.thermal_voltage, (0.0, 0.0, 0.0), 4e-9, axes=(True, True, False))
    n = level.spectral
    box = Box(SLAB_LENGTHS, (n, n, 2))
    start = time.perf_counter()
    psi = _on_grid(box, potential) / material.thermal_voltage
    cells, degree, dt = level.fem
    relaxed = transport.relax(box, material.diffusivity, psi, np.ones(box.shape), dt, round(NP_TIME / dt))
    steady = transport.boltzmann(psi, 1.0)
    spectral_time = time.perf_counter() - start
    fem = box_fem_vacancies.solve_box_nernst_planck(comm, SLAB_LENGTHS, (cells, cells, 1), degree, material,
                                                    potential, [NP_TIME], dt, box.points())
    change_at_t = relative_differences(fem.density[0] - 1, relaxed.density.ravel() - 1)
    differences = {f"c_at_{NP_TIME:g}_s": change_at_t,
                   "c_steady": relative_differences(fem.steady, steady.ravel())}
    points = box.points()
    on_x = np.flatnonzero((points[:, 1] == points[0, 1]) & (points[:, 2] == points[0, 2]))
    profile = {"x_m": points[on_x, 0], "fem": fem.density[0][on_x],
               "spectral": relaxed.density.ravel()[on_x], "label": f"c/c0 at t = {NP_TIME:g} s along x"}
    return {"differences": differences, "spectral_modes": list(box.shape), "spectral_time_s": spectral_time,
            "fem": fem.stats, "profile": profile,
            "notes": "c_at_t compares c/c0 − 1 (the change), c_steady compares c/c0"}


CASES = {
    "eigenstrain": Case("elasticity, Gaussian dilatation in a mirror-walled box",
                        (Level(16, (6, 2)), Level(24, (10, 2)), Level(32, (14, 2))), run_eigenstrain),
    "electromechanics": Case("flexoelectric (u, P, φ), Gaussian dilatation and charge, mirror-walled box",
                             (Level(16, (6, 2)), Level(24, (10, 2)), Level(32, (14, 2))),
                             run_electromechanics),
    "nernst-planck": Case("vacancies relaxing in a Gaussian potential, zero-flux slab",
                          (Level(16, (8, 2, 2.0)), Level(32, (16, 2, 1.0)), Level(48, (32, 2, 0.5))),
                          run_nernst_planck),
    "gaussian-film": Case("film/substrate stack under a Gaussian pressure",
                          (Level(128, (1.0e-9, 0.3)), Level(256, (0.5e-9, 0.2)), Level(512, (0.35e-9, 0.12))),
                          run_gaussian_film),
    "film-electromechanics": Case("polarised film under a Gaussian pressure (linear, eps_grad_P, G = 2e-9)",
                                  (Level(48, (1.0e-9, 0.3)), Level(48, (0.5e-9, 0.2)),
                                   Level(64, (0.35e-9, 0.12))), run_film_electromechanics),
    "hertz-film": Case("film/substrate stack under the Hertz pressure",
                       (Level(128, (1.0e-9, 0.3)), Level(256, (0.5e-9, 0.2)), Level(512, (0.35e-9, 0.12))),
                       run_hertz_film),
}


# -- driver and report --------------------------------------------------------------------
def run(comm: MPI.Comm, case: str, outdir: pathlib.Path, levels: tuple[int, ...] = (0, 1, 2)) -> dict:
    """Run ``case`` at ``levels`` (0 coarse, 1 default, 2 fine) and write the report (collective).

    ``crosscheck.json`` is rewritten after every level with ``status`` "running", then
    "complete"; a level that fails leaves "failed" and the error there, and re-raises.

    Raises:
        ValueError: On an unknown case or level, before anything is solved.
    """
    if case not in CASES:
        raise ValueError(f"case = {case!r}: must be one of {tuple(CASES)}")
    for level in levels:
        if level not in (0, 1, 2):
            raise ValueError(f"level = {level!r}: must be 0 (coarse), 1 (default) or 2 (fine)")
    spec = CASES[case]
    rows, profiles = [], []
    report = _summarise(case, spec, rows, "running")
    for index in levels:
        level = spec.levels[index]
        log.info("crosscheck %s, level %d: spectral %d, FEM %s", case, index, level.spectral, level.fem)
        start = time.perf_counter()
        try:
            result = spec.run(comm, level)
        except Exception as error:
            report = _summarise(case, spec, rows, "failed") | {"error": f"level {index}: {error}"}
            _write(comm, outdir, report, profiles)
            raise
        profiles.append(result.pop("profile"))
        rows.append(result | {"level": index, "fem_parameters": list(level.fem),
                              "time_s": time.perf_counter() - start})
        for field, numbers in result["differences"].items():
            log.info("  %-22s relative L2 %.3e, max %.3e", field, numbers["relative_l2"],
                     numbers["relative_max"])
        report = _summarise(case, spec, rows, "running")
        _write(comm, outdir, report, profiles)
    report = _summarise(case, spec, rows, "complete")
    _write(comm, outdir, report, profiles)
    if comm.rank == 0:
        print(_table(report), flush=True)
    return report


def _write(comm: MPI.Comm, outdir: pathlib.Path, report: dict, profiles: list[dict]) -> None:
    """crosscheck.json, .md and .png from rank 0 (collective)."""
    if comm.rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / "crosscheck.json").write_text(json.dumps(report, indent=2, default=_jsonable) + "\n")
        if report["levels"]:
            (outdir / "crosscheck.md").write_text(_table(report))
            _plot(outdir / "crosscheck.png", report, profiles)
    comm.Barrier()


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _summarise(case: str, spec: Case, rows: list[dict], status: str) -> dict:
    fields = list(rows[0]["differences"]) if rows else []
    default = [row for row in rows if row["level"] == DEFAULT_LEVEL]
    below = all(row["differences"][f]["relative_l2"] < TOLERANCE for row in default for f in fields)
    falling = all(all(a["differences"][f]["relative_l2"] > b["differences"][f]["relative_l2"]
                      for a, b in itertools.pairwise(rows)) for f in fields)
    return {"status": status, "case": case, "description": spec.description, "tolerance": TOLERANCE,
            "default_level": DEFAULT_LEVEL, "below_tolerance_at_default": below if default else None,
            "falls_under_refinement": falling if len(rows) > 1 else None, "levels": list(rows),
            "n_ranks": MPI.COMM_WORLD.size}


def _fem_dofs(stats: dict) -> int:
    """All FEM dofs of a run (summed over the fields)."""
    return stats.get("n_dofs") or sum(v for k, v in stats.items() if k.startswith("n_dofs"))


def _table(report: dict) -> str:
    fields = list(report["levels"][0]["differences"])
    lines = [f"# Cross-check `{report['case']}`: {report['description']}", "",
             "Relative L2 difference ‖FEM − spectral‖/‖spectral‖ on the common grid (in brackets: the "
             "largest difference over max |spectral|).", "",
             "| level | spectral modes | FEM mesh | FEM dofs | " + " | ".join(fields)
             + " | spectral [s] | FEM [s] |",
             "|" + "---|" * (6 + len(fields))]
    for row in report["levels"]:
        cells = [f"{d['relative_l2']:.2e} ({d['relative_max']:.1e})" for d in row["differences"].values()]
        mesh = ", ".join(f"{p:g}" for p in row["fem_parameters"])
        lines.append(f"| {row['level']} | {'×'.join(map(str, row['spectral_modes']))} | {mesh} | "
                     f"{_fem_dofs(row['fem'])} | " + " | ".join(cells)
                     + f" | {row['spectral_time_s']:.2f} | {row['fem'].get('time_s', float('nan')):.2f} |")
    lines += ["", f"Below {report['tolerance']:g} at the default level: "
              f"{report['below_tolerance_at_default']}; falling under refinement: "
              f"{report['falls_under_refinement']}.", ""]
    return "\n".join(lines)


def _plot(path: pathlib.Path, report: dict, profiles: list[dict]) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    levels = [row["level"] for row in report["levels"]]
    for field in report["levels"][0]["differences"]:
        left.semilogy(levels, [row["differences"][field]["relative_l2"] for row in report["levels"]], "o-",
                      label=field)
    left.axhline(report["tolerance"], color="grey", linestyle=":", label="tolerance")
    left.set_xlabel("level (both solvers refined)")
    left.set_ylabel("relative L2 difference")
    left.set_xticks(levels)
    left.legend(fontsize=8)
    profile = profiles[-1]
    right.plot(np.asarray(profile["x_m"]) * 1e9, profile["spectral"], "-", label="spectral")
    right.plot(np.asarray(profile["x_m"]) * 1e9, profile["fem"], "o", markersize=3, label="FEM")
    right.set_xlabel(profile.get("abscissa", "x (nm)"))
    right.set_title(profile["label"], fontsize=9)
    right.legend(fontsize=8)
    figure.suptitle(f"crosscheck {report['case']}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
