"""Benchmark: the vacancies' direct steady solve against time stepping to the same state.

The paper's sphere (4 µN, Hertz pressure, short circuit, default coefficients) on the default
box with quarter symmetry, P1, at two contact-edge cell sizes. For each mesh: the
Poisson–Boltzmann Newton solve (``mode = "steady"``), and the adaptive backward-Euler
transient from c = c0 run to quasi-steady (max|Δc| ≤ 1e-6·max c per step) at two step
tolerances. Records the vacancy dofs, steps, Newton iterations, the wall time of the vacancy
part (after the first electromechanical solve, which both share), peak memory, the surface
map's extremes and the largest relative difference of the surface c between the transient's
end state and the steady solve. Writes ``benchmarks/results/vacancies.json`` and the table in
``benchmarks/README.md``. Goal (issue 5): the steady solver ≥ 20× faster than time stepping
to the same accuracy.

Run: ``mpiexec -n 2 python benchmarks/vacancies.py``; ``--smoke [--out DIR]``: the steady
solve and one transient on a coarse mesh, the JSON to DIR, README untouched.
"""

from __future__ import annotations

import pathlib
import sys

from mpi4py import MPI

import numpy as np

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip import config as config_module
from flexotip.exports.surface_map import VacancyMap
from flexotip.fem.tip_problem import solve_prescribed
from flexotip.fem.vacancy_problem import solve_with_vacancies
from flexotip.geometry.mesh import build_mesh
from flexotip.pipeline import parameters
from flexotip.units import Scales

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report
from elastic_tip import peak_memory_mb
from report import plain_mesh_sections

LEVELS = ((0.5e-9, 0.15), (0.35e-9, 0.075))
"""(contact-edge cell size m, growth per unit distance), as in the electromechanics benchmark."""
CASES = (("steady", None), ("transient", 1e-3), ("transient", 1e-2))
"""(mode, [vacancies] time_tolerance)."""
SMOKE_LEVELS = ((1.0e-9, 0.4),)
SMOKE_CASES = (("steady", None), ("transient", 1e-1))
"""A coarse mesh, and the transient at a loose tolerance: seconds."""


def run_case(comm: MPI.Comm, contact_size: float, growth: float, mode: str,
             tolerance: float | None) -> tuple[dict, np.ndarray]:
    """One vacancy solve on one mesh; the measurements and the surface c/c0 map."""
    vacancies = {} if tolerance is None else {"time_tolerance": tolerance}
    config = config_module.from_dict(plain_mesh_sections({
        "film": {"symmetry": "quarter"},
        "mesh": {"contact_size": contact_size, "growth": growth},
        "solve": {"mode": mode}, "vacancies": vacancies,
    }), source="benchmark")
    scales = Scales()
    stack = build_mesh(comm, parameters.stack_geometry(config, scales))
    tip = solve_prescribed(stack, parameters.tip_problem(config), scales)
    radius = stack.geometry.contact_radius
    vac_params = parameters.vacancy_problem(config)
    em, vac = solve_with_vacancies(stack, vac_params, parameters.electromechanical_problem(config), scales,
                                   tip, radius)
    surface_map = VacancyMap(stack, scales, radius, config.vacancies.sensing_depth, config.symmetry_fraction,
                             vac_params.surface).sampler
    values = surface_map(vac.w)
    extremes = surface_map.extremes(values, radius)
    max_rank, total = peak_memory_mb(comm)
    s = vac.report.summary()
    return {
        "mode": mode, "time_tolerance": tolerance, "contact_size_m": contact_size, "growth": growth,
        "n_cells": stack.report.n_cells,
        "n_dofs_vacancies": comm.allreduce(len(vac.film_dofs), op=MPI.SUM),
        "steps": s.get("vacancy_steps"), "rejected_steps": s.get("vacancy_rejected_steps"),
        "rounds": s.get("vacancy_rounds"), "newton_iterations": s.get("vacancy_newton_iterations"),
        "em_updates": s["vacancy_em_updates"], "t_quasi_steady_s": s.get("t_quasi_steady_s"),
        "time_vacancies_s": s["time_vacancies_s"], "time_em_s": em.report.time_em_s,
        "peak_memory_per_rank_MB": max_rank, "peak_memory_total_MB": total,
        "total_relative_change": vac.total_final / vac.total_initial - 1,
        **{k: extremes[k] for k in ("delta_dec", "delta_inc", "delta_axis")},
    }, values + 1.0


def markdown_table(results: list[dict]) -> str:
    """The measurements as a Markdown table."""
    lines = ["| edge cells (nm) | vacancy dofs | solve | steps (rejected) | Newton | t quasi-steady (s) "
             "| vacancy time (s) | × steady | max rel. diff. of surface c | total change | peak MB/rank "
             "| Δdec | Δinc |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        solve = ("Poisson–Boltzmann Newton" if r["mode"] == "steady"
                 else f"transient, tolerance {r['time_tolerance']:g}")
        steps = f"{r['steps']} ({r['rejected_steps']})" if r["steps"] is not None else f"{r['rounds']} rounds"
        t_qs = f"{r['t_quasi_steady_s']:.3g}" if r["t_quasi_steady_s"] else "—"
        lines.append(
            f"| {r['contact_size_m'] * 1e9:.2f} | {r['n_dofs_vacancies']:,} | {solve} | {steps} "
            f"| {r['newton_iterations'] if r['newton_iterations'] is not None else '—'} | {t_qs} "
            f"| {r['time_vacancies_s']:.2f} | {r['time_ratio']:.0f} | {r['difference_from_steady']:.1e} "
            f"| {r['total_relative_change']:.1e} | {r['peak_memory_per_rank_MB']:.0f} "
            f"| {r['delta_dec']:+.4f} | {r['delta_inc']:+.4f} |")
    return "\n".join(lines)


def main() -> None:
    """Run the cases (or the smoke cases), write JSON and the README table (rank 0)."""
    args = report.arguments(__doc__)
    comm = MPI.COMM_WORLD
    results = []
    for size, growth in SMOKE_LEVELS if args.smoke else LEVELS:
        reference = None
        for mode, tolerance in SMOKE_CASES if args.smoke else CASES:
            row, surface = run_case(comm, size, growth, mode, tolerance)
            if reference is None:
                reference, steady_time = surface, row["time_vacancies_s"]
            row["difference_from_steady"] = float(np.nanmax(np.abs(surface / reference - 1.0)))
            row["time_ratio"] = row["time_vacancies_s"] / steady_time
            results.append(row)
    if comm.rank == 0:
        report.write("vacancies", comm.size, "cases", results, markdown_table(results),
                     smoke_dir=args.out, smoke=args.smoke)


if __name__ == "__main__":
    main()
