"""Benchmark: the spectral film solver's TDGL with electrostriction, and the FEM steady solve.

The paper's sphere (cubic STO, 4 µN, Hertz pressure of contact radius 8 nm, short
circuit, default calibrated f, ``flexo_form = "eps_grad_P"``, electrostriction on, linear
Landau, vacancies off) on the quarter of the default box (400 × 400 nm, film 46.86 nm on
350 nm of substrate).

* Spectral (:mod:`flexotip.spectral.film_dynamics`): n_x × n_y in-plane modes (the
  paper's 100 × 50 grid read as 100 × 50 modes) and graded degree-6 elements in z with
  ~500 nodes in the film (largest film element ``FILM_LARGEST``; the substrate's grow to
  ``SUBSTRATE_LARGEST``). Semi-implicit TDGL from P = 0 with Δt = ``DT_OVER_TAU``·τ,
  τ = 1/(2·L·α1) (L = ``[solve] tdgl_kinetic_coefficient``), stabilised after the first
  step by S = max(0, μ/2 − 1/(L·Δt)) with μ the explicit electrostrictive force's
  stiffening measured in that step (without it the 100 × 50 run diverged), until max|ΔP| of a step ≤
  1e-6·max|P| (max over the components on the in-plane grid at the film's Gauss points).
  max|P| in the table: the largest |P| at the film's z nodes on the in-plane grid (cell
  centres) and on the tip axis (which is not on that grid).
  Per-mode LU factors cached where they fit in memory, else factorised in every step.
* FEM: ``flexotip run`` of the same config (P1, two contact-edge cell sizes), one rank.

Every case runs in its own process (one after another; OMP_NUM_THREADS=1), so that its
peak resident memory (``resource.getrusage``) is its own. Writes
``benchmarks/results/spectral_film.json`` and the table in ``benchmarks/README.md``.

Run: ``python benchmarks/spectral_film.py`` (all cases; one process, not under mpiexec), or
one case:
``python benchmarks/spectral_film.py spectral NX NY cached|per-step MAX_STEPS [BUDGET_S [FILM_LARGEST_M]]``,
``python benchmarks/spectral_film.py fem CONTACT_SIZE [FOLDER]`` (each prints its JSON line last), then
``python benchmarks/spectral_film.py report FILE...`` with the files holding those lines.
``--smoke [--out DIR]``: a tiny spectral case and a coarse FEM case, the JSON (and the FEM
run) to DIR, README untouched.
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from flexotip import config as config_module
from flexotip.pipeline.spectral_run import film_box
from flexotip.spectral import grid
from flexotip.spectral.film_dynamics import FilmDynamics, to_grid
from flexotip.spectral.film_electromechanics import PARITY, FilmElectromechanics

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report
from report import plain_mesh_sections

SECTIONS = {
    "film": {"symmetry": "quarter"},
    "tip": {"shape": "sphere", "radius": 51.53e-9, "force": 4.0e-6, "load": "hertz"},
    "physics": {"flexo_form": "eps_grad_P", "electrostriction": True, "vacancies": False},
    "output": {"fields": []},
}
FILM_LARGEST = 0.6e-9
"""Largest z element in the film, m: 505 z nodes in the film at degree 6."""
SUBSTRATE_LARGEST = 10e-9
DT_OVER_TAU = 2.0
RTOL = 1e-6
SPECTRAL_CASES = ((25, 13, True, 400, np.inf, FILM_LARGEST), (50, 25, True, 400, np.inf, FILM_LARGEST),
                  (100, 50, True, 400, np.inf, 4e-9), (100, 50, False, 400, 400.0, FILM_LARGEST))
"""(n_x, n_y, cache the factors, most steps, wall-time budget of the steps s, largest film element m):
the paper's in-plane grid with 127 film z nodes runs to quasi-steady with cached factors
(13 GB); with 505 its factors (28 GB) do not fit, and it runs for the budget only."""
FEM_CASES = (0.5e-9, 0.35e-9, 0.25e-9)
"""Contact-edge cell sizes, m."""
SMOKE_SPECTRAL_CASES = ((8, 4, True, 5, np.inf, 4e-9),)
"""8 × 4 modes, coarse z elements, at most 5 steps: seconds."""
SMOKE_FEM_CASES = (1.0e-9,)


def paper_config(extra: dict | None = None) -> config_module.Config:
    """The benchmark's config (SI)."""
    sections = {key: dict(value) for key, value in SECTIONS.items()}
    for key, value in (extra or {}).items():
        sections.setdefault(key, {}).update(value)
    return config_module.from_dict(plain_mesh_sections(sections), source="benchmark")


def peak_memory_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory so far, MB."""
    return resource.getrusage(who).ru_maxrss / 1024


def spectral_case(nx: int, ny: int, cache: bool, max_steps: int, budget: float = np.inf,
                  film_largest: float = FILM_LARGEST) -> dict:
    """Set up, factorise and relax one spectral case (for at most ``budget`` s); return its measurements.

    The first step runs without stabilisation; from its state the explicit force's
    stiffening μ is measured and the rest run with S = max(0, μ/2 − 1/(L·Δt)) (the balance
    of the stiffening and the softest modes, see ``FilmDynamics.relax``).
    """
    config = paper_config()
    box = film_box(config)
    a, force = config.contact_radius, config.tip.force
    pressure = grid.axisymmetric_coefficients(box, (nx, ny), lambda k: grid.hertz_transform(k, force, a), a,
                                              centre=tuple(config.tip.position))
    material = config.electromechanical_material()
    start = time.perf_counter()
    film = FilmElectromechanics(box, config.film.thickness, config.material.elastic_constants(), material,
                                largest=film_largest, substrate_largest=SUBSTRATE_LARGEST)
    solver = FilmDynamics(film, (nx, ny), cache_factors=cache)
    time_setup = time.perf_counter() - start
    mobility = config.solve.tdgl_kinetic_coefficient
    tau = 1.0 / (2 * mobility * material.alpha1)
    dt = DT_OVER_TAU * tau
    start = time.perf_counter()
    fields, first = FilmDynamics(film, (nx, ny), cache_factors=False).relax(pressure, mobility, dt, 1)
    time_first = time.perf_counter() - start
    stiffening = solver.stiffening(fields.amplitudes)
    stabilisation = max(0.0, stiffening / 2 - 1.0 / (mobility * dt))
    start = time.perf_counter()
    solver.factorise(mobility, dt, stabilisation)
    time_factor = time.perf_counter() - start
    # One step per call (the same steps as one call: u and φ are slaved, P carries the state),
    # to log progress and to stop at the wall-time budget.
    start = time.perf_counter()
    changes = [float(first[0])]
    while len(changes) < max_steps and time.perf_counter() - start < budget:
        fields, change = solver.relax(pressure, mobility, dt, 1, initial=fields, stabilisation=stabilisation)
        changes.append(float(change[0]))
        P_max = np.abs(solver.at_points(fields.amplitudes)[0]).max() * film.scales.polarization
        print(f"step {len(changes)}: max|ΔP| {changes[-1]:.3e} C/m² = {changes[-1] / P_max:.2e}·max|P|, "
              f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        if changes[-1] <= RTOL * P_max:
            break
    time_relax = time.perf_counter() - start + time_first
    changes = np.array(changes)
    P_points = solver.at_points(fields.amplitudes)[0]
    film_nodes = np.flatnonzero(film.mesh.nodes() >= -config.film.thickness / film.scales.length - 1e-12)
    nodal = np.moveaxis(fields.amplitudes[:, :, film_nodes, :], 2, 0)  # (nodes, nx, ny, 7)
    P_nodes = np.stack([to_grid(nodal[..., 3 + k], PARITY[3 + k]) for k in range(3)])
    depths = -film.mesh.nodes()[film_nodes] * film.scales.length
    axis = fields.profile_at(0.0, 0.0, depths)["polarization"]
    s = film.scales
    return {
        "kind": "spectral", "n_x": nx, "n_y": ny, "z_nodes_film": len(film_nodes),
        "z_nodes_total": film.mesh.n_nodes, "dofs_per_mode": film.n_dofs,
        "n_dofs": film.n_dofs * nx * ny, "bandwidth": film.bandwidth, "cached_factors": cache,
        "dt_s": dt, "dt_over_tau": DT_OVER_TAU, "time_setup_s": time_setup,
        "stiffening_J_m_per_C2": stiffening, "stabilisation_J_m_per_C2": stabilisation,
        "two_alpha1_J_m_per_C2": 2 * material.alpha1, "film_largest_m": film_largest,
        "final_stiffening_J_m_per_C2": solver.stiffening(fields.amplitudes),
        "time_factorise_s": time_factor, "time_relax_s": time_relax,
        "time_per_step_s": time_relax / len(changes), "steps": len(changes),
        "quasi_steady": bool(changes[-1] <= RTOL * np.abs(P_points).max() * s.polarization),
        "last_change_over_max_P": float(changes[-1] / (np.abs(P_points).max() * s.polarization)),
        "factor_memory_MB": solver.factor_bytes / 2**20, "peak_memory_MB": peak_memory_mb(),
        "time_total_s": time_setup + time_factor + time_relax,
        "P_axis_max_C_per_m2": float(np.linalg.norm(axis, axis=1).max()),
        "max_abs_P_C_per_m2": float(max(np.linalg.norm(P_nodes, axis=0).max() * s.polarization,
                                        np.linalg.norm(axis, axis=1).max())),
        "max_abs_P_gauss_C_per_m2": float(np.linalg.norm(P_points, axis=0).max() * s.polarization),
        "changes_C_per_m2": [float(c) for c in changes],
    }


def fem_case(contact_size: float, parent: str | None = None) -> dict:
    """``flexotip run`` of the benchmark config with P1 at ``contact_size`` (one rank).

    The run's folder is a new one in ``parent`` (default: the system's temporary folder).
    """
    config = paper_config({"mesh": {"contact_size": contact_size}})
    outdir = pathlib.Path(tempfile.mkdtemp(prefix="flexotip_spectral_film_fem_", dir=parent))
    toml = outdir / "benchmark.toml"
    toml.write_text(config_module.to_toml(config))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flexotip.cli", "run", str(toml), "--out", str(outdir / "run"),
                    "--quiet"], check=True)
    wall = time.perf_counter() - start
    summary = json.loads((outdir / "run" / "summary.json").read_text())
    return {
        "kind": "fem", "contact_size_m": contact_size, "degree": config.mesh.degree,
        "n_cells": summary.get("n_cells"), "n_dofs": summary.get("em_n_dofs"), "time_wall_s": wall,
        "time_mesh_s": summary.get("time_mesh_s"), "time_electromechanics_s": summary.get("time_em_s"),
        "newton_iterations": summary.get("em_newton_iterations"),
        "time_solve_s": summary.get("time_solve_s"), "time_total_s": summary.get("time_total_s"),
        "peak_memory_MB": peak_memory_mb(resource.RUSAGE_CHILDREN),
        "P_axis_max_C_per_m2": summary.get("P_axis_max_C_per_m2"),
        "max_abs_P_C_per_m2": summary.get("max_abs_P_C_per_m2"), "status": summary.get("status"),
    }


def run_in_process(arguments: list[str]) -> dict:
    """One case in a fresh Python process (its own peak memory); its JSON line."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True,
                            text=True, env=environment)
    return json.loads(result.stdout.strip().splitlines()[-1])


def markdown_table(results: list[dict]) -> str:
    """The measurements as Markdown tables (spectral, FEM)."""
    lines = ["| spectral modes | z nodes (film / all) | dofs (per mode / all) | LU factors | setup (s) "
             "| factorise (s) | s/step | μ, S (GJ·m/C²) | steps to 1e-6 | total (s) | factors MB | peak MB "
             "| P_axis_max (C/m²) | max\\|P\\| (C/m²) |",
             "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in (r for r in results if r["kind"] == "spectral"):
        ratio = r["last_change_over_max_P"]
        steps = str(r["steps"]) if r["quasi_steady"] else f"stopped at {r['steps']} ({ratio:.0e})"
        factors = "cached" if r["cached_factors"] else "every step"
        lines.append(
            f"| {r['n_x']} × {r['n_y']} | {r['z_nodes_film']} / {r['z_nodes_total']} "
            f"| {r['dofs_per_mode']:,} / {r['n_dofs']:,} | {factors} "
            f"| {r['time_setup_s']:.1f} | {r['time_factorise_s']:.1f} | {r['time_per_step_s']:.2f} "
            f"| {r['stiffening_J_m_per_C2'] / 1e9:.2f}, {r['stabilisation_J_m_per_C2'] / 1e9:.2f} | {steps} "
            f"| {r['time_total_s']:.0f} | {r['factor_memory_MB']:.0f} | {r['peak_memory_MB']:.0f} "
            f"| {r['P_axis_max_C_per_m2']:.4f} | {r['max_abs_P_C_per_m2']:.3f} |")
    lines += ["", "| FEM edge cells (nm) | dofs (u, P, φ) | Newton | solve (s) | total (s) | peak MB "
              "| P_axis_max (C/m²) | max\\|P\\| (C/m²) |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in (r for r in results if r["kind"] == "fem"):
        lines.append(f"| {r['contact_size_m'] * 1e9:.2f} | {r['n_dofs']:,} | {r['newton_iterations']} "
                     f"| {r['time_solve_s']:.1f} "
                     f"| {r['time_total_s']:.1f} | {r['peak_memory_MB']:.0f} "
                     f"| {r['P_axis_max_C_per_m2']:.4f} | {r['max_abs_P_C_per_m2']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    """One case (arguments) or all of them, one process each; then the JSON and the README table."""
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        kind, *arguments = sys.argv[1:]
        if kind == "report":  # collect the JSON lines of cases run one by one
            results = [json.loads(pathlib.Path(name).read_text().strip().splitlines()[-1])
                       for name in arguments]
            report.write("spectral_film", 1, "cases", results, markdown_table(results))
            return
        if kind == "spectral":
            nx, ny, cache, steps, *rest = arguments
            result = spectral_case(int(nx), int(ny), cache == "cached", int(steps),
                                   *(float(value) for value in rest))
        else:
            result = fem_case(float(arguments[0]), *arguments[1:])
        print(json.dumps(result))
        return
    args = report.arguments(__doc__)
    spectral_cases, fem_cases = ((SMOKE_SPECTRAL_CASES, SMOKE_FEM_CASES) if args.smoke
                                 else (SPECTRAL_CASES, FEM_CASES))
    smoke_dir = None
    if args.smoke:  # the FEM runs' folders go there too
        smoke_dir = args.out or pathlib.Path(tempfile.mkdtemp(prefix="flexotip_benchmark_spectral_film_"))
        smoke_dir.mkdir(parents=True, exist_ok=True)
    results = [run_in_process(["spectral", str(nx), str(ny), "cached" if cache else "per-step", str(steps),
                               str(budget), str(largest)])
               for nx, ny, cache, steps, budget, largest in spectral_cases]
    results += [run_in_process(["fem", repr(size), *([str(smoke_dir)] if smoke_dir else [])])
                for size in fem_cases]
    report.write("spectral_film", 1, "cases", results, markdown_table(results), smoke_dir=smoke_dir,
                 smoke=args.smoke)


if __name__ == "__main__":
    main()
