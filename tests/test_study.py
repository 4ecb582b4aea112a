"""``flexotip study``: members run and collected, failures recorded, restarts skip what is complete.

Members here are mechanics only on a small box (a few seconds each): the properties are the
study's, not the physics'. The shipped studies run with every physics in
test_shipped_studies.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

from mpi4py import MPI

import pytest

from flexotip import cli
from flexotip.studies import runner

BASE = """
[base.film]
half_width = 100e-9
substrate_thickness = 60e-9
symmetry = "quarter"
[base.mesh]
contact_size = 1.0e-9
far_size = 30e-9
growth = 0.3
surface_size = 0.0
[base.physics]
flexoelectric = false
vacancies = false
[base.output]
fields = []
"""
SWEEP = '[sweep]\n"tip.force" = [1.0e-6, 2.0e-6, 4.0e-6]\n'
CAPPED = '[[member]]\nname = "capped"\n"solve.petsc_options.mech.ksp_max_it" = 1\n'
"""A member whose elasticity solve is allowed one CG iteration: it fails with DIVERGED_MAX_IT."""
NOT_COMPARED = ("time_", "mesh_from_cache", "n_ranks")


def _write(folder: pathlib.Path, text: str, comm) -> pathlib.Path:
    path = folder / "study.toml"
    if comm.rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    comm.Barrier()
    return path


def _table(out: pathlib.Path) -> list[dict]:
    import csv

    with (out / "table.csv").open() as stream:
        return list(csv.DictReader(stream))


def _mtimes(folder: pathlib.Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()}


def _physics_keys(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)
            and not k.startswith(NOT_COMPARED) and k not in NOT_COMPARED}


@pytest.mark.serial
def test_a_failing_member_is_recorded_the_others_complete_and_a_rerun_skips_them(tmp_path):
    path = _write(tmp_path, BASE + SWEEP + CAPPED, MPI.COMM_WORLD)
    out = tmp_path / "out"
    assert cli.main(["study", str(path), "--out", str(out), "--quiet"]) == cli.EXIT_SOLVER_FAILED
    rows = {row["member"]: row for row in _table(out)}
    assert list(rows) == ["m000_force-1uN", "m001_force-2uN", "m002_force-4uN", "capped"]
    assert [rows[name]["status"] for name in rows] == ["complete"] * 3 + ["failed"]
    assert rows["capped"]["failed_solver"] == "flexotip_mech"
    assert rows["capped"]["failure_reason"] == "DIVERGED_MAX_IT"
    displacements = [float(rows[f"m00{i}_force-{f}uN"]["axis_displacement_m"])
                     for i, f in enumerate((1, 2, 4))]
    assert displacements[0] > displacements[1] > displacements[2]  # pressed harder, deeper
    study = json.loads((out / "study.json").read_text())
    assert (study["status"], study["n_complete"], study["n_failed"]) == ("failed", 3, 1)
    report = (out / "report.md").read_text()
    assert "capped" in report and "DIVERGED_MAX_IT" in report
    assert (out / "figures" / "quantities_vs_tip_force.png").stat().st_size > 10_000

    complete = {name: _mtimes(out / "members" / name) for name in list(rows)[:3]}
    failed_record = (out / "members" / "capped" / "member.json").stat().st_mtime_ns
    assert cli.main(["study", str(path), "--out", str(out), "--quiet"]) == cli.EXIT_SOLVER_FAILED
    assert {name: _mtimes(out / "members" / name) for name in complete} == complete  # untouched
    assert (out / "members" / "capped" / "member.json").stat().st_mtime_ns > failed_record  # run again

    # folders written by an older flexotip: m000 before a key existed (its config.toml
    # lacks it, member.json has another hash) is still complete; m001 with another value
    # of a key runs again
    older = out / "members" / "m000_force-1uN"
    text = (older / "config.toml").read_text()
    assert "polarization_dynamics = " in text
    (older / "config.toml").write_text("\n".join(line for line in text.splitlines()
                                                 if not line.startswith("polarization_dynamics = ")))
    record = json.loads((older / "member.json").read_text()) | {"config_hash": "from-an-older-flexotip"}
    (older / "member.json").write_text(json.dumps(record))
    other = out / "members" / "m001_force-2uN"
    text = (other / "config.toml").read_text()
    assert "sensing_depth = 1e-09" in text
    (other / "config.toml").write_text(text.replace("sensing_depth = 1e-09", "sensing_depth = 2e-09"))
    before = _mtimes(older), (other / "member.json").stat().st_mtime_ns
    assert cli.main(["study", str(path), "--out", str(out), "--quiet"]) == cli.EXIT_SOLVER_FAILED
    assert _mtimes(older) == before[0]
    assert (other / "member.json").stat().st_mtime_ns > before[1]

    # a member's summary is that of `flexotip run` of its config
    member = out / "members" / "m001_force-2uN"
    assert cli.main(["run", str(member / "config.toml"), "--out", str(tmp_path / "alone"), "--quiet"]) == 0
    alone = _physics_keys(json.loads((tmp_path / "alone" / "summary.json").read_text()))
    in_study = _physics_keys(json.loads((member / "summary.json").read_text()))
    assert alone.keys() == in_study.keys() and len(alone) > 10
    for key, value in alone.items():
        assert in_study[key] == pytest.approx(value, rel=1e-10, abs=1e-300), key


@pytest.mark.serial
def test_a_killed_study_reruns_only_what_was_not_complete(tmp_path):
    """SIGTERM, then SIGKILL, after the first member: the rerun leaves it alone and runs the rest."""
    path = _write(tmp_path, BASE + SWEEP, MPI.COMM_WORLD)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "flexotip.cli", "study", str(path), "--out", str(out), "--quiet"]
    process = subprocess.Popen(command, env=runner._clean_environment(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    first = out / "members" / "m000_force-1uN" / "member.json"
    deadline = time.monotonic() + 300
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.exists(), "the first member did not complete"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    assert process.returncode != 0
    assert not (out / "study.json").exists()  # the study never looked finished
    before = _mtimes(first.parent)
    assert cli.main(["study", str(path), "--out", str(out), "--quiet"]) == 0
    assert _mtimes(first.parent) == before
    assert [row["status"] for row in _table(out)] == ["complete"] * 3


@pytest.mark.serial
def test_isolated_members_job_array_and_collect(tmp_path):
    """--isolate: each member its own mpiexec; --member I and --collect: a study as a job array."""
    path = _write(tmp_path, BASE + '[sweep]\n"tip.force" = [1.0e-6, 2.0e-6]\n' + CAPPED, MPI.COMM_WORLD)
    isolated = tmp_path / "isolated"
    status = cli.main(["study", str(path), "--out", str(isolated), "--isolate", "--quiet"])
    assert status == cli.EXIT_SOLVER_FAILED
    rows = _table(isolated)
    assert [row["status"] for row in rows] == ["complete", "complete", "failed"]
    assert rows[2]["failure_reason"] == "DIVERGED_MAX_IT"

    array = tmp_path / "array"
    for index in (1, 0):
        assert cli.main(["study", str(path), "--out", str(array), "--member", str(index), "--quiet"]) == 0
        assert json.loads((array / "study.json").read_text())["status"] == "incomplete"
    assert cli.main(["study", str(path), "--out", str(array), "--collect", "--quiet"]) == 0
    rows = _table(array)
    assert [row["status"] for row in rows] == ["complete", "complete", "missing"]
    for isolated_row, array_row in zip(_table(isolated)[:2], rows[:2], strict=True):
        assert float(array_row["axis_displacement_m"]) == pytest.approx(
            float(isolated_row["axis_displacement_m"]), rel=1e-10)
    assert cli.main(["study", str(path), "--out", str(array), "--member", "3"]) == cli.EXIT_USER_ERROR


@pytest.mark.serial  # launches its own mpiexec
def test_two_groups_from_a_fresh_launch(tmp_path):
    """``mpiexec -n 2 flexotip study … --ranks-per-member 1`` in new processes, nothing imported yet.

    petsc4py initialises PETSc collectively over COMM_WORLD on its first import: the JIT
    warm-up importing it on rank 0 alone, while rank 1 waited at a barrier, hung the study
    (found by benchmarks/studies.py; the in-process test below had imported it already).
    """
    path = _write(tmp_path, BASE + '[sweep]\n"tip.force" = [1.0e-6, 2.0e-6]\n', MPI.COMM_WORLD)
    out = tmp_path / "out"
    command = [runner.mpiexec(), "-n", "2", sys.executable, "-m", "flexotip.cli", "study", str(path),
               "--out", str(out), "--ranks-per-member", "1", "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "JIT cache warmed" in (out / "log.txt").read_text()
    records = [json.loads((out / "members" / row["member"] / "member.json").read_text())
               for row in _table(out)]
    assert [(r["status"], r["n_ranks"]) for r in records] == [("complete", 1), ("complete", 1)]
    # the two groups ran one member each, at the same time: group 1 did not wait for rank 0
    # (a claim by one-sided MPI on rank 0 waited until rank 0 left its solve)
    assert sorted(r["group"] for r in records) == [0, 1]
    first, second = sorted(records, key=lambda r: r["ended_at_s"])
    assert second["ended_at_s"] - second["time_s"] < first["ended_at_s"]
    assert not list(out.glob(".claims-*"))


@pytest.mark.parallel
def test_one_group_of_two_ranks_and_two_groups_of_one_give_the_same_table(outdir, comm):
    path = _write(outdir, BASE + SWEEP, comm)
    tables = []
    for k in (2, 1):
        out = outdir / f"groups_of_{k}"
        assert cli.main(["study", str(path), "--out", str(out), "--ranks-per-member", str(k), "--quiet"]) == 0
        tables.append(_table(out) if comm.rank == 0 else None)
        if comm.rank == 0:
            records = [json.loads((out / "members" / row["member"] / "member.json").read_text())
                       for row in tables[-1]]
            assert {r["n_ranks"] for r in records} == {k}
    if comm.rank != 0:
        return
    one_group, two_groups = tables
    for a, b in zip(one_group, two_groups, strict=True):
        assert a["member"] == b["member"] and a["status"] == b["status"] == "complete"
        for key in ("axis_displacement_m", "max_shear_stress_Pa", "max_pressure_Pa", "approach_m"):
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-6), key


def test_bad_options_are_refused(tmp_path, comm):
    path = _write(pathlib.Path(comm.bcast(str(tmp_path), root=0)), BASE + SWEEP, comm)
    out = path.parent / "never"
    assert cli.main(["study", str(path), "--out", str(out), "--ranks-per-member", "3"]) == cli.EXIT_USER_ERROR
    status = cli.main(["study", str(path), "--out", str(out), "--member", "1", "--collect"])
    assert status == cli.EXIT_USER_ERROR
    assert not out.exists()
    assert os.path.exists(path)
