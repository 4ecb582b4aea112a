"""Validation: as v → 0, a scan's map at its end tends to the static tip's steady state there.

The steady state (Poisson–Boltzmann on the scan's own mesh, the pressure centred on the
end point) is the limit of a slow scan; the scan's lag behind it falls like v. Two scans of
8 nm on the coarse 12 nm film of tests/test_scan.py, at v·a/D = 0.1 and 0.01, take ~80 s on
one core, too long for every ``make test``; this script runs them, prints the lags and
writes ``slow_scan.json``. docs/scanning.md records its numbers (24 % and 3.8 %, ×6.4).

    python -m flexotip.verification.slow_scan --out results/slow_scan
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib

from mpi4py import MPI

import numpy as np

from flexotip import config as config_module

COARSE = {
    "film": {"half_width": 40e-9, "thickness": 12e-9, "substrate_thickness": 20e-9},
    "mesh": {"contact_size": 3e-9, "far_size": 12e-9, "surface_size": 0.0, "growth": 0.4},
    "output": {"fields": []},
    "vacancies": {"time_tolerance": 1e-2},
}
"""The coarse film of the scan tests; a tolerance at which the stepping error is below the lag."""
LINE = {"start": [-4e-9, 0.0], "end": [4e-9, 0.0], "passes": "trace", "frames": 2}
PECLET = (0.1, 0.01)
"""v·a/D of the two scans."""


def run(comm: MPI.Comm, outdir: pathlib.Path) -> dict:
    """Both scans and the static steady state; returns (and writes) max|s_scan − s_static|/max|s_static|."""
    from flexotip.exports.surface_map import SurfaceMap
    from flexotip.fem.tip_problem import solve_prescribed
    from flexotip.fem.vacancy_problem import solve_with_vacancies
    from flexotip.pipeline import parameters, scan_run
    from flexotip.pipeline.meshing import mesh
    from flexotip.units import Scales

    scales, maps = Scales(), {}
    diffusivity, radius = config_module.from_dict(COARSE).vacancies.diffusivity, 8e-9
    for peclet in PECLET:
        config = config_module.from_dict(COARSE | {"scan": LINE | {"speed": peclet * diffusivity / radius}})
        scan_run.run(comm, config, outdir / f"peclet_{peclet:g}")
        maps[peclet] = dict(np.load(outdir / f"peclet_{peclet:g}" / "scan_maps.npz"))
    if comm.rank == 0:
        (outdir / "static").mkdir(parents=True, exist_ok=True)
    comm.Barrier()
    stack = mesh(comm, config, outdir / "static", scales)
    solution = solve_prescribed(stack, parameters.tip_problem(config), scales)
    solution.prescribed.center.value[:] = np.array(LINE["end"]) / scales.length
    steady = dataclasses.replace(parameters.vacancy_problem(config), transient=False)
    _, static = solve_with_vacancies(stack, steady, parameters.electromechanical_problem(config), scales,
                                     solution, config.contact_radius / scales.length)
    grid = maps[PECLET[0]]
    sampler = SurfaceMap(stack.msh, grid["x_m"] / scales.length, grid["y_m"] / scales.length,
                         config.vacancies.sensing_depth / scales.length)
    limit = sampler(static.w)
    scale = float(np.nanmax(np.abs(limit)))
    lags = {f"{p:g}": float(np.nanmax(np.abs(m["s"][-1] - limit)) / scale) for p, m in maps.items()}
    result = {"peclet": list(PECLET), "lag": lags, "max_abs_s_static": scale,
              "lag_ratio": lags[f"{PECLET[0]:g}"] / lags[f"{PECLET[1]:g}"]}
    if comm.rank == 0:
        (outdir / "slow_scan.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    """``python -m flexotip.verification.slow_scan --out DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, required=True, help="output folder")
    args = parser.parse_args()
    result = run(MPI.COMM_WORLD, args.out)
    if MPI.COMM_WORLD.rank == 0:
        print("max|s_scan − s_static| / max|s_static|: " + ", ".join(
            f"{lag:.3g} at v·a/D = {p}" for p, lag in result["lag"].items())
            + f" (×{result['lag_ratio']:.3g})")


if __name__ == "__main__":
    main()
