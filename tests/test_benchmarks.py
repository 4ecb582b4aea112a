"""Every benchmark script runs in its smoke mode and writes a complete JSON record.

Each script runs in its own process on one rank (``--smoke --out DIR``: its smallest case,
seconds); the test checks its exit status, that each measurement it wrote has the keys of
its table with finite values, and that neither benchmarks/README.md nor
benchmarks/results/ changed. Speed itself is measured by the benchmarks, never here.
"""

from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).parent.parent / "benchmarks"

EXPECTED = {
    "checkpoint": ("cases", 1, (
        "n_cells", "n_dofs_em", "steps", "checkpoints", "time_step_s", "time_write_s", "time_read_s",
        "file_MB", "fraction_at_default_interval", "interval_for_2_percent_s", "peak_memory_per_rank_MB")),
    "elastic_tip": ("levels", 1, (
        "n_cells", "n_dofs", "time_mesh_s", "time_assemble_s", "time_solve_s", "time_elastic_s",
        "ksp_iterations", "peak_memory_per_rank_MB")),
    "contact_tip": ("cases", 1, (
        "n_dofs", "time_prescribed_s", "time_contact_s", "time_ratio", "contact_solves",
        "newton_iterations", "linear_iterations", "ksp_iterations_prescribed", "approach_m",
        "force_balance_error")),
    "electromechanics": ("cases", 2, (
        "n_dofs_displacement", "n_dofs_polarization", "n_dofs_potential", "time_elastic_s",
        "time_electromechanics_s", "time_ratio", "time_jacobian_s", "newton_iterations",
        "linear_iterations", "peak_memory_per_rank_MB", "P_axis_max_C_per_m2", "max_abs_P_C_per_m2",
        "Ez_below_tip_V_per_m", "Ez_contact_edge_V_per_m")),
    "vacancies": ("cases", 2, (
        "n_dofs_vacancies", "em_updates", "time_vacancies_s", "time_em_s", "time_ratio",
        "difference_from_steady", "total_relative_change", "peak_memory_per_rank_MB", "delta_dec",
        "delta_inc", "delta_axis")),
    "spectral_film": ("cases", 2, ("n_dofs", "P_axis_max_C_per_m2", "max_abs_P_C_per_m2", "time_total_s")),
    "studies": ("runs", 3, (
        "members", "groups", "ranks_per_member", "time_wall_s", "time_members_s", "time_mesh_s",
        "meshes_from_cache", "time_jit_warm_up_s", "peak_memory_per_rank_MB")),
}
"""Benchmark: (name of its list of measurements, how many the smoke mode makes, keys each has)."""

EXPECTED_BY_KIND = {
    ("vacancies", "steady"): ("rounds",),
    ("vacancies", "transient"): ("steps", "rejected_steps", "newton_iterations", "t_quasi_steady_s"),
    ("spectral_film", "spectral"): ("time_setup_s", "time_factorise_s", "time_relax_s", "steps",
                                    "factor_memory_MB", "peak_memory_MB"),
    ("spectral_film", "fem"): ("newton_iterations", "time_solve_s", "peak_memory_MB"),
}
"""Further keys of the measurements of one kind ("mode" or "kind")."""


def committed_state() -> dict[str, bytes]:
    """benchmarks/README.md and benchmarks/results/*.json, by name."""
    files = [BENCHMARKS / "README.md", *sorted((BENCHMARKS / "results").glob("*.json"))]
    return {path.name: path.read_bytes() for path in files}


@pytest.mark.serial
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_smoke(name, tmp_path):
    before = committed_state()
    script = BENCHMARKS / f"{name}.py"
    result = subprocess.run([sys.executable, str(script), "--smoke", "--out", str(tmp_path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert committed_state() == before, "a smoke run rewrote benchmarks/README.md or results/"

    record = json.loads((tmp_path / f"{name}.json").read_text())
    key, count, keys = EXPECTED[name]
    assert record["benchmark"] == name and record["smoke"] is True
    rows = record[key]
    assert len(rows) == count
    for row in rows:
        kind = row.get("mode", row.get("kind"))
        wanted = keys + EXPECTED_BY_KIND.get((name, kind), ())
        missing = [k for k in wanted if k not in row]
        assert not missing, f"{name} ({kind}): no {missing}"
        not_finite = {k: row[k] for k in wanted
                      if not isinstance(row[k], int | float) or not math.isfinite(row[k])}
        assert not not_finite, f"{name} ({kind}): not finite: {not_finite}"
