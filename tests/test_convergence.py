"""``flexotip converge``: the levels, the analysis, the report, and the command end to end.

The levels (:func:`refined_config`) and the analysis are pure functions, tested on
synthetic sequences with a known order (no DOLFINx, no solve). The command runs once end
to end, on a tiny mechanics-only config at two levels; its failure path runs with the
pipeline replaced by a stand-in whose second level fails.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import pytest
from helpers import MECHANICS_ONLY, read_summary

from flexotip import cli
from flexotip import config as config_module
from flexotip.verification import convergence, convergence_report

TINY = {"film": {"half_width": 100e-9, "substrate_thickness": 60e-9, "symmetry": "quarter"},
        "physics": MECHANICS_ONLY,
        "mesh": {"contact_size": 2e-9, "far_size": 40e-9, "growth": 0.5, "surface_size": 0.0},
        "output": {"fields": []}}
"""The smallest run that shows the command working: 620 and 2.5 k cells, about a second each."""
TINY_CASE = config_module.to_toml(config_module.from_dict(TINY))

LAYERED = {"mesh": {"contact_size": 0.5e-9, "surface_size": 0.2e-9, "surface_growth": 1.3,
                    "surface_depth": 3e-9, "far_size": 50e-9, "growth": 0.15}}


def write_config(outdir, comm, text: str = TINY_CASE):
    path = outdir / "case.toml"
    if comm.rank == 0:
        path.write_text(text)
    comm.Barrier()
    return path


# -- levels -------------------------------------------------------------------------------
def test_factor_one_gives_the_config_back():
    config = config_module.from_dict(LAYERED)
    assert convergence.refined_config(config, 1.0) == config


def test_refined_config_divides_every_mesh_length():
    config = config_module.from_dict(LAYERED)
    fine = convergence.refined_config(config, 4.0)
    mesh = fine.mesh
    assert mesh.contact_size == pytest.approx(0.5e-9 / 4, rel=1e-15)
    assert mesh.far_size == pytest.approx(50e-9 / 4, rel=1e-15)
    assert mesh.growth == pytest.approx(0.15 / 4, rel=1e-15)
    assert mesh.surface_size == pytest.approx(0.2e-9 / 4, rel=1e-15)
    assert mesh.surface_growth == pytest.approx(1.3**0.25, rel=1e-15)
    # Four layers of the fine ratio grow as one of the coarse.
    assert mesh.surface_growth**4 == pytest.approx(1.3, rel=1e-14)
    assert mesh.surface_depth == config.mesh.surface_depth
    assert fine.solve.spectral_modes == config.solve.spectral_modes  # FEM: unused, untouched
    unchanged = [f.name for f in dataclasses.fields(config) if f.name != "mesh"]
    assert all(getattr(fine, name) == getattr(config, name) for name in unchanged)


def test_surface_size_zero_stays_zero():
    fine = convergence.refined_config(config_module.from_dict({"mesh": {"surface_size": 0.0}}), 2.0)
    assert fine.mesh.surface_size == 0.0
    assert fine.mesh.contact_size == pytest.approx(0.25e-9, rel=1e-15)


def test_spectral_grid_is_refined_and_an_invalid_level_is_refused():
    spectral = {"solve": {"solver": "spectral", "spectral_modes": 1024},
                "physics": {"flexoelectric": False}}
    config = config_module.from_dict(spectral)
    levels = convergence.level_configs(config, 3, 2.0, "spectral.toml")
    assert [level.solve.spectral_modes for level in levels] == [1024, 2048, 4096]
    with pytest.raises(config_module.ConfigError) as error:
        convergence.level_configs(config, 4, 2.0, "spectral.toml")
    message = str(error.value)
    assert "level 3 of spectral.toml (mesh lengths / 8)" in message
    assert "[solve] spectral_modes = 8192" in message


@pytest.mark.parametrize(("levels", "ratio", "message"), [
    (1, 2.0, "levels = 1: must be an integer ≥ 2"),
    (3, 1.0, "ratio = 1.0: must be a finite number > 1"),
    (3, math.inf, "ratio = inf: must be a finite number > 1"),
])
def test_level_arguments_are_checked(levels, ratio, message):
    with pytest.raises(ValueError, match=message):
        convergence.level_configs(config_module.from_dict({}), levels, ratio)


# -- analysis -----------------------------------------------------------------------------
@pytest.mark.parametrize(("order", "ratio"), [(2.0, 2.0), (1.0, 3.0), (1.5, 1.5)])
def test_known_order_and_exact_richardson(order, ratio):
    """A sequence f = 1 + C·h^p on h = h0/r^k: the observed order is p, Richardson gives 1."""
    values = [1.0 + 0.3 * (0.8 / ratio**k) ** order for k in range(4)]
    item = convergence.analyse_key("approach_m", values, ratio)
    assert item.observed_order == pytest.approx(order, rel=1e-9)
    assert item.richardson == pytest.approx(1.0, abs=1e-12)
    assert item.relative_change == pytest.approx(abs(values[-1] - values[-2]) / values[-1], rel=1e-15)


def test_order_needs_three_monotone_nonzero_differences():
    assert convergence.observed_order([1.0, 1.1], 2.0) is None
    assert convergence.observed_order([1.0, 1.1, 1.1], 2.0) is None  # zero difference
    assert convergence.observed_order([1.0, 1.1, 1.05], 2.0) is None  # oscillates
    assert convergence.observed_order([1.0, 1.1, 1.3], 2.0) == pytest.approx(-1.0)  # diverges
    assert convergence.richardson([1.0, 1.1, 1.3], 2.0, -1.0) is None
    assert convergence.observed_order([0.0, 1.0, math.nan], 2.0) is None


def test_two_levels_give_a_change_but_no_order():
    item = convergence.analyse_key("max_shear_stress_Pa", [10.0e9, 10.1e9], 2.0)
    assert item.relative_change == pytest.approx(0.1 / 10.1)
    assert item.converged is True
    assert item.observed_order is None and item.richardson is None
    assert convergence.analyse_key("max_shear_stress_Pa", [10e9, 11e9], 2.0).converged is False


def test_zero_at_every_level_is_converged():
    item = convergence.analyse_key("phi_top_max_V", [0.0, 0.0, 0.0], 2.0)
    assert item.relative_change == 0.0 and item.converged is True


def test_zero_up_to_round_off_is_converged():
    """φ on a grounded film top is round-off beside the potentials of the run: no order, converged."""
    phi_top = [-6.58e-18, -6.18e-18, -1.66e-18]  # V, as measured on a short-circuited run
    alone = convergence.analyse_key("phi_top_min_V", phi_top, 2.0)
    assert alone.converged is False and alone.observed_order is not None  # nothing to compare with
    levels = [{"phi_min_V": phi, "phi_top_min_V": top} for phi, top in zip([-0.08, -0.067, -0.065], phi_top,
                                                                        strict=True)]
    items = {item.key: item for item in convergence.analyse(levels, 2.0)}
    top = items["phi_top_min_V"]
    assert top.roundoff == pytest.approx(0.08e-12)
    assert top.converged is True and top.relative_change < 1e-4
    assert top.observed_order is None and top.richardson is None
    assert items["phi_min_V"].observed_order == pytest.approx(2.70, abs=0.01)
    conserved = convergence.analyse_key("vacancies_final", [0.987884, 0.987884 + 1e-14, 0.987884 - 1e-14],
                                        2.0)
    assert conserved.converged is True and conserved.observed_order is None


def test_densities_have_an_absolute_tolerance():
    values = [0.10, 0.14, 0.15]  # 7 % relative, 0.01 absolute
    for key in ("delta_axis", "delta_contact_mean", "delta_dec", "delta_inc", "delta_edge_mean", "s_peak"):
        item = convergence.analyse_key(key, values, 2.0)
        assert (item.tolerance_kind, item.tolerance, item.converged) == ("absolute", 0.02, True), key
    item = convergence.analyse_key("delta_axis", values, 2.0, atol_density=0.005)
    assert item.converged is False
    relative = convergence.analyse_key("P_axis_max_C_per_m2", values, 2.0)
    assert (relative.tolerance_kind, relative.converged) == ("relative", False)
    assert convergence.analyse_key("P_axis_max_C_per_m2", values, 2.0, rtol=0.1).converged is True


SUMMARY = {
    "status": "complete", "flexotip_version": "0.1.0", "n_ranks": 1, "n_cells": 620, "n_dofs": 672,
    "h_min_m": 1e-9, "mesh_from_cache": False, "time_total_s": 1.0, "ksp_iterations": 10,
    "tip_shape": "sphere", "force_N": 4e-6, "max_abs_P_position_m": [0.0, 0.0, 0.0],
    "load_force_relative_error": 1e-3, "max_shear_stress_Pa": 9.8e9, "t_quasi_steady_s": None,
    "vacancies_final": 1.0, "delta_dec": -0.2, "approach_m": 1e-9, "axis_displacement_m": -1e-9,
}


def summaries(n: int) -> list[dict]:
    """Synthetic summaries of n levels: every float key with a second-order error."""
    return [{key: value * (1 + 0.1 / 4**k) if isinstance(value, float) else value
             for key, value in SUMMARY.items()} for k in range(n)]


def test_only_physics_keys_are_analysed_headline_first():
    levels = summaries(3)
    levels[1] = levels[1] | {"Pz_axis_2nm_C_per_m2": 0.01}  # at one level only: skipped
    keys = [item.key for item in convergence.analyse(levels, 2.0)]
    assert keys == ["delta_dec", "axis_displacement_m", "approach_m", "max_shear_stress_Pa",
                    "vacancies_final"]
    assert all(item.observed_order == pytest.approx(2.0) for item in convergence.analyse(levels, 2.0))


@pytest.mark.parametrize(("key", "value", "physics"), [
    ("approach_m", 1e-9, True), ("Ez_below_tip_V_per_m", -5e6, True), ("time_mesh_s", 0.1, False),
    ("n_cells", 620, False), ("h_max_m", 7e-8, False), ("em_newton_iterations", 4, False),
    ("linear_iterations", 40.0, False), ("dolfinx_version", "0.11", False), ("remeshed", False, False),
    ("contact_band_inner_m", 6e-9, False), ("tip_radius_m", 5e-8, False), ("flexo_f11_V", 0.05, False),
    ("t_quasi_steady_s", None, False), ("max_abs_P_position_m", [0.0, 0.0, 0.0], False),
])
def test_physics_keys(key, value, physics):
    assert convergence.is_physics_key(key, [value, value]) is physics


# -- the report ---------------------------------------------------------------------------
def synthetic_report(n: int, rtol: float = 0.02) -> dict:
    settings = convergence.Settings("case.toml", 2.0, rtol, 0.02, "flexotip converge case.toml --out x")
    config = config_module.from_dict({})
    levels = [convergence.level_record(k, config, settings, summary, 1.0)
              for k, summary in enumerate(summaries(n))]
    return convergence.build_report(settings, levels, summaries(n), "complete")


def test_report_table_and_verdict():
    report = synthetic_report(3, rtol=0.01)  # the last change: 1.9 % relative, 0.004 absolute
    assert report["all_converged"] is False
    assert report["not_converged"] == [key for key in report["keys"] if key != "delta_dec"]
    assert convergence_report.verdict(report).startswith("not converged (4 of 5 keys): axis_displacement_m")
    report = synthetic_report(3)
    assert report["all_converged"] is True and report["not_converged"] == []
    text = convergence_report.table(report)
    assert "| **delta_dec** |" in text and "(abs)" in text and "✓" in text
    assert "flexotip converge case.toml --out x" in text
    assert "620 cells, 672 dofs" in text
    assert convergence_report.verdict(report) == "all 5 keys converged"


def test_report_files(outdir, comm):
    report = synthetic_report(3)
    convergence_report.write(comm, outdir, report)
    saved = json.loads((outdir / "convergence.json").read_text())
    assert saved["keys"]["approach_m"]["values"] == pytest.approx(report["keys"]["approach_m"]["values"])
    assert saved["keys"]["approach_m"]["observed_order"] == pytest.approx(2.0)
    assert (outdir / "convergence.md").is_file() and (outdir / "convergence.png").stat().st_size > 10_000


@pytest.mark.serial  # a child interpreter that loads mpi4py cannot start inside an MPI rank
def test_the_analysis_loads_no_dolfinx():
    code = ("import sys, flexotip.verification.convergence, flexotip.verification.convergence_report; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'dolfinx', 'ufl', 'petsc4py', 'gmsh'}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout


# -- the command --------------------------------------------------------------------------
@pytest.mark.parametrize(("arguments", "message"), [
    (["--levels", "1"], "--levels 1: must be an integer ≥ 2"),
    (["--ratio", "1"], "--ratio 1: must be a finite number > 1"),
    (["--ratio", "nan"], "--ratio nan: must be a finite number > 1"),
    (["--rtol", "0"], "--rtol 0: must be a finite number > 0"),
    (["--atol-density", "-1"], "--atol-density -1: must be a finite number > 0"),
])
def test_argument_errors_exit_2_before_running(outdir, comm, capsys, arguments, message):
    path = write_config(outdir, comm)
    status = cli.main(["converge", str(path), "--out", str(outdir / "study"), *arguments])
    assert status == cli.EXIT_USER_ERROR
    assert not (outdir / "study").exists()
    if comm.rank == 0:
        assert message in capsys.readouterr().err


def test_an_invalid_level_exits_2_before_running(outdir, comm, capsys):
    text = '[solve]\nsolver = "spectral"\nspectral_modes = 2048\n[physics]\nflexoelectric = false\n'
    path = write_config(outdir, comm, text)
    status = cli.main(["converge", str(path), "--out", str(outdir / "study"), "--levels", "3"])
    assert status == cli.EXIT_USER_ERROR
    assert not (outdir / "study").exists()
    if comm.rank == 0:
        err = capsys.readouterr().err
        assert "level 2 of" in err and "[solve] spectral_modes = 8192" in err


def test_a_failed_level_is_reported(outdir, comm, capsys, monkeypatch):
    """The second level's solver fails: the first is analysed alone, the third not run, exit 3."""
    from flexotip.errors import SolverError
    from flexotip.pipeline import run as pipeline

    def fake_run(comm, config, folder):
        if config.mesh.contact_size < 2e-9:
            raise SolverError("flexotip_mech", "DIVERGED_ITS", 2)
        return SUMMARY

    monkeypatch.setattr(pipeline, "run", fake_run)
    path = write_config(outdir, comm)
    status = cli.main(["converge", str(path), "--out", str(outdir / "study"), "--quiet"])
    assert status == cli.EXIT_SOLVER_FAILED
    report = json.loads((outdir / "study" / "convergence.json").read_text())
    assert report["status"] == "failed" and report["all_converged"] is None
    assert [level["status"] for level in report["levels"]] == ["complete", "failed", "not run"]
    assert "flexotip_mech did not converge: DIVERGED_ITS" in report["levels"][1]["error"]
    assert report["keys"]["approach_m"]["values"] == [SUMMARY["approach_m"]]
    assert "level 1 failed" in (outdir / "study" / "convergence.md").read_text()
    if comm.rank == 0:
        assert "level 1 failed" in capsys.readouterr().err


@pytest.mark.convergence
def test_converge_end_to_end(outdir, comm, capsys):
    """Two levels of a tiny mechanics-only run through the command line (also on 2 ranks)."""
    path = write_config(outdir, comm)
    study = outdir / "study"
    status = cli.main(["converge", str(path), "--out", str(study), "--levels", "2", "--ratio", "2",
                       "--quiet"])
    report = json.loads((study / "convergence.json").read_text())
    assert status == (0 if report["all_converged"] else 1)
    assert report["status"] == "complete" and report["n_ranks"] == comm.size
    assert [level["status"] for level in report["levels"]] == ["complete", "complete"]
    runs = [read_summary(study / f"level_{k}") for k in range(2)]
    assert runs[1]["n_cells"] > 3 * runs[0]["n_cells"]
    assert report["levels"][1]["mesh"]["contact_size"] == pytest.approx(1e-9, rel=1e-12)
    assert [level["n_cells"] for level in report["levels"]] == [run["n_cells"] for run in runs]
    headline = ["axis_displacement_m", "contact_radius_m", "max_pressure_Pa", "approach_m",
                "max_shear_stress_Pa", "max_shear_depth_m"]
    assert list(report["keys"])[:6] == headline
    for key, item in report["keys"].items():
        assert item["values"] == [run[key] for run in runs], key
        assert item["observed_order"] is None and item["tolerance_kind"] == "relative"
    assert all(key in report["keys"] for key in headline)
    assert (study / "convergence.png").stat().st_size > 10_000
    table = (study / "convergence.md").read_text()
    assert f"flexotip converge {path} --out {study} --levels 2 --ratio 2 --quiet" in table
    if comm.rank == 0:
        out = capsys.readouterr().out
        assert str(study / "convergence.md") in out
        assert all(key in out for key in report["not_converged"])
