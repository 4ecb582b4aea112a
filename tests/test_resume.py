"""Nothing lost: checkpoints, ``flexotip run --resume``, the clean stop on a signal, staged files.

A short vacancy transient (a −1 V tip poling a coarse 12 nm film, 20 ms) checkpoints every
two steps. Killed by SIGKILL, its folder says ``running``, never ``complete``; resumed and
stopped by SIGTERM, it says ``interrupted`` with the command that continues it and exits
with 143; resumed again, it ends where the unbroken run ends (ln c within 1e-10, the
summary within 1e-10, the same steps). A ``--resume`` that cannot continue is refused
before meshing, naming the reason.
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

import h5py
import numpy as np
import pytest
from helpers import read_csv, read_summary, run_case, shared_dir

from flexotip import cli, interrupt
from flexotip import config as config_module
from flexotip.errors import RunInterrupted
from flexotip.fem import checkpoint
from flexotip.files import staged

POLING = {
    "film": {"half_width": 40e-9, "thickness": 12e-9, "substrate_thickness": 20e-9},
    "mesh": {"contact_size": 3e-9, "far_size": 12e-9, "surface_size": 0.0, "growth": 0.4},
    "output": {"fields": [], "map_times": [0.005], "checkpoint_steps": 2},
    "tip": {"bias": -1.0},
    "solve": {"mode": "transient", "polarization_dynamics": "quasi_static", "t_end": 0.02},
}


def _final_state(folder: pathlib.Path) -> tuple[np.ndarray, dict]:
    with h5py.File(folder / "checkpoint.h5") as file:
        return file["flexotip_state/rank_0/log_density"][()], json.loads(file["flexotip_state"].attrs["meta"])


def _start(config: pathlib.Path, folder: pathlib.Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flexotip.cli", "run", str(config), "--out", str(folder),
                             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"OMP_NUM_THREADS": "1"})


def _checkpoints_logged(folder: pathlib.Path) -> int:
    log = folder / "log.txt"
    return log.read_text().count("checkpoint at") if log.is_file() else 0


def _signal_after_checkpoints(process: subprocess.Popen, folder: pathlib.Path, count: int,
                              number: int) -> tuple[int, str]:
    """Send ``number`` once ``count`` checkpoints are in the log; the exit status and stderr."""
    deadline = time.monotonic() + 300
    while _checkpoints_logged(folder) < count:
        assert process.poll() is None, f"the run ended before {count} checkpoints"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(number)
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    """The poling run without interruption (in this process)."""
    folder = shared_dir(tmp_path_factory, "unbroken")
    return run_case(MPI.COMM_WORLD, POLING, folder), folder


@pytest.mark.serial
def test_killed_then_stopped_run_resumes_to_the_unbroken_result(unbroken, tmp_path):
    summary, folder = unbroken
    config = tmp_path / "poling.toml"
    config.write_text(config_module.to_toml(config_module.from_dict(POLING)))
    broken = tmp_path / "broken"
    # SIGKILL after the first checkpoint: no chance to write anything; the folder is not complete.
    status, _ = _signal_after_checkpoints(_start(config, broken), broken, 1, signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert read_summary(broken)["status"] == "running"
    assert not (broken / "surface_map.npz").exists()
    killed_at = checkpoint.read_meta(broken / "checkpoint.h5")["t_s"]
    # Resume, and stop that with SIGTERM after its next checkpoint: a clean stop.
    resumed = _start(config, broken, "--resume")
    status, stderr = _signal_after_checkpoints(resumed, broken, _checkpoints_logged(broken) + 1,
                                               signal.SIGTERM)
    stopped = read_summary(broken)
    print(f"\nkilled at t = {killed_at:.4g} s; stopped at t = {stopped['t_reached_s']:.4g} s")
    assert status == 128 + signal.SIGTERM and "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    assert stopped["status"] == "interrupted" and stopped["interrupted_by"] == "SIGTERM"
    assert stopped["t_reached_s"] > killed_at and stopped["resume_command"].endswith("--resume")
    assert checkpoint.read_meta(broken / "checkpoint.h5")["t_s"] == pytest.approx(stopped["t_reached_s"])
    # Resume to the end: the unbroken run's state, steps and summary.
    assert cli.main(["run", str(config), "--out", str(broken), "--resume", "--quiet"]) == 0
    final = read_summary(broken)
    assert final["status"] == "complete"
    assert final["resumed_from_t_s"] == pytest.approx(stopped["t_reached_s"])
    (w_unbroken, meta_unbroken), (w_resumed, meta_resumed) = _final_state(folder), _final_state(broken)
    assert meta_resumed["steps"] == meta_unbroken["steps"] and meta_resumed["t_s"] == meta_unbroken["t_s"]
    difference = np.max(np.abs(w_resumed - w_unbroken)) / np.max(np.abs(w_unbroken))
    print(f"max|Δ ln c| / max|ln c| = {difference:.3g} after {meta_resumed['steps']} steps")
    assert difference < 1e-10
    steps = [read_csv(f / "vacancy_history.csv")["dt_s"] for f in (broken, folder)]
    assert steps[0] == steps[1]
    compared = [k for k, v in summary.items() if isinstance(v, float) and not k.startswith("time_")
                and abs(v) > 1e-12]
    assert "delta_dec" in compared and "c_max_per_m3" in compared
    for key in compared:
        assert final[key] == pytest.approx(summary[key], rel=1e-10), key


@pytest.mark.serial
@pytest.mark.parametrize("change, message", [
    ({"tip": {"bias": -0.5}}, "[tip] bias: -1.0 → -0.5"),
    ({}, "is complete"),
    ({"solve": {"t_end": 0.01}}, "raise t_end"),
    ({"solve": {"mode": "steady"}, "output": {"map_times": []}}, "this config has none"),
    ({"scan": {"start": [0.0, 0.0], "end": [5e-9, 0.0], "speed": 1e-6}, "tip": {"bias": 0.0},
      "solve": {"t_end": None}, "output": {"map_times": []}}, "[scan] start: None → [0.0, 0.0]"),
])
def test_a_resume_that_cannot_continue_is_refused(unbroken, tmp_path, capsys, change, message):
    _, folder = unbroken
    merged = {name: POLING.get(name, {}) | change.get(name, {}) for name in POLING.keys() | change.keys()}
    sections = {name: {k: v for k, v in table.items() if v is not None} for name, table in merged.items()}
    config = tmp_path / "changed.toml"
    config.write_text(config_module.to_toml(config_module.from_dict(sections)))
    before = read_summary(folder)
    assert cli.main(["run", str(config), "--out", str(folder), "--resume"]) == cli.EXIT_USER_ERROR
    stderr = capsys.readouterr().err
    assert "cannot resume" in stderr and message in stderr and "Traceback" not in stderr
    assert read_summary(folder) == before  # nothing written


@pytest.mark.serial
def test_a_checkpoint_of_another_rank_count_is_refused(unbroken, tmp_path, capsys):
    _, folder = unbroken
    copy = tmp_path / "two_ranks"
    copy.mkdir()
    for name in ("checkpoint.h5", "summary.json", "config.toml"):
        (copy / name).write_bytes((folder / name).read_bytes())
    with h5py.File(copy / "checkpoint.h5", "a") as file:
        meta = json.loads(file["flexotip_state"].attrs["meta"])
        file["flexotip_state"].attrs["meta"] = json.dumps(meta | {"n_ranks": 2, "last": False})
    assert cli.main(["run", str(copy / "config.toml"), "--out", str(copy), "--resume"]) == cli.EXIT_USER_ERROR
    assert "written by 2 rank(s)" in capsys.readouterr().err


def test_a_signal_on_one_rank_stops_every_rank(comm):
    """interrupt.check raises RunInterrupted on every rank when one rank was signalled."""
    interrupt.install()
    try:
        if comm.rank == comm.size - 1:
            signal.raise_signal(signal.SIGTERM)
        assert interrupt.received() == (signal.SIGTERM if comm.rank == comm.size - 1 else 0)
        with pytest.raises(RunInterrupted) as stop:
            interrupt.check(comm, t=1.5)
        assert stop.value.exit_status == 143 and stop.value.t == 1.5
    finally:
        interrupt.uninstall()


def test_staged_files_appear_only_when_complete(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(ZeroDivisionError), staged(target) as partial:
        partial.write_text("half")
        assert target.read_text() == "old" and partial.parent.name == ".table.csv.partial"
        _ = 1 / 0
    assert target.read_text() == "old" and not (tmp_path / ".table.csv.partial").exists()
    with staged(target) as partial:
        partial.write_text("new")
    assert target.read_text() == "new"
    folder = tmp_path / "fields.bp"  # a folder (VTX) replaces an older one
    folder.mkdir()
    (folder / "stale").write_text("")
    with staged(folder) as partial:
        partial.mkdir()
        (partial / "data.0").write_text("x")
    assert sorted(p.name for p in folder.iterdir()) == ["data.0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fields.bp", "table.csv"]


@pytest.mark.serial
def test_an_iteration_cap_of_one_is_a_failure_report(tmp_path, capsys):
    """[solve.petsc_options.em] snes_max_it = 1: the first (u, P, φ) Newton fails; exit 3, no traceback."""
    sections = POLING | {"solve": POLING["solve"] | {"petsc_options": {"em": {"snes_max_it": 1}}}}
    config = tmp_path / "capped.toml"
    config.write_text(config_module.to_toml(config_module.from_dict(sections)))
    assert cli.main(["run", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == cli.EXIT_SOLVER_FAILED
    stderr = capsys.readouterr().err
    failed = read_summary(tmp_path / "run")
    assert failed["status"] == "failed" and failed["failed_solver"] == "flexotip_em"
    assert failed["failure_reason"] == "DIVERGED_MAX_IT" and "Traceback" not in stderr


@pytest.mark.serial
def test_a_nan_in_the_vacancies_is_retried_then_reported(tmp_path, capsys, monkeypatch):
    """A NaN injected into ln c after every Nernst–Planck solve from the 9th on: retried, then exit 3.

    The stepper quarters Δt ten times, then the run stops with the solver and the reason;
    the last checkpoint (steps 2 or 4 done) stays readable.
    """
    from flexotip.fem.vacancies import NernstPlanck

    original, calls = NernstPlanck.step, []

    def poisoned(self, dt):
        report = original(self, dt)
        calls.append(dt)
        if len(calls) >= 9:
            self.w.x.array[0] = np.nan
        return report

    monkeypatch.setattr(NernstPlanck, "step", poisoned)
    config = tmp_path / "poling.toml"
    config.write_text(config_module.to_toml(config_module.from_dict(POLING)))
    folder = tmp_path / "run"
    assert cli.main(["run", str(config), "--out", str(folder), "--quiet"]) == cli.EXIT_SOLVER_FAILED
    stderr = capsys.readouterr().err
    failed = read_summary(folder)
    print(f"\n{len(calls) - 8} poisoned tries, the last of Δt = {calls[-1]:.3g} s; {stderr.strip()}")
    assert failed["status"] == "failed" and failed["failed_solver"] == "flexotip_np"
    assert "not finite" in failed["failure_reason"] and "Traceback" not in stderr
    assert len(calls) - 8 == 11 and calls[-1] == pytest.approx(calls[8] / 4**10)  # ten quarterings
    assert "failed 11 times" in failed["failure_reason"]
    assert failed["last_checkpoint"] == str(folder / "checkpoint.h5")
    state = checkpoint.read_state(folder / "checkpoint.h5", MPI.COMM_WORLD)
    assert state.meta["steps"] in (2, 4) and np.all(np.isfinite(state.local["log_density"]))


SCAN = {
    "film": POLING["film"], "mesh": POLING["mesh"], "output": {"fields": [], "checkpoint_steps": 3},
    "scan": {"start": [-6e-9, 0.0], "end": [6e-9, 0.0], "passes": "trace", "speed": 1e-6, "frames": 3,
             "reference": False},
}
"""A short pressed trace over the coarse film (v·a/D = 6.5e4): a dozen steps."""


def test_a_stopped_scan_resumes_to_the_unbroken_maps(tmp_path_factory, monkeypatch):
    """A scan stopped by a signal after its 5th step and resumed: the unbroken run's maps and keys (1e-10)."""
    from flexotip.pipeline import run as pipeline

    comm = MPI.COMM_WORLD
    unbroken_folder = shared_dir(tmp_path_factory, "scan_unbroken")
    unbroken = run_case(comm, SCAN, unbroken_folder)
    folder = shared_dir(tmp_path_factory, "scan_stopped")
    calls, agreed = [], interrupt.agreed

    def signal_at_step_five(comm_, *flags):
        calls.append(1)
        return [signal.SIGTERM if len(calls) == 5 else 0, *agreed(comm_, *flags)[1:]]

    monkeypatch.setattr(interrupt, "agreed", signal_at_step_five)
    with pytest.raises(RunInterrupted):
        run_case(comm, SCAN, folder)
    monkeypatch.undo()
    stopped = read_summary(folder)
    assert stopped["status"] == "interrupted" and stopped["resume_command"].endswith("--resume")
    resumed = pipeline.run(comm, config_module.from_dict(SCAN), folder, resume=True)
    assert resumed["status"] == "complete" and resumed["resumed_from_t_s"] == stopped["t_reached_s"] > 0
    assert resumed["vacancy_steps"] == unbroken["vacancy_steps"] > 5
    maps = [np.load(f / "scan_maps.npz") for f in (unbroken_folder, folder)]
    assert np.array_equal(maps[0]["t_s"], maps[1]["t_s"])
    assert np.max(np.abs(maps[1]["s"] - maps[0]["s"])) <= 1e-10 * np.max(np.abs(maps[0]["s"]))
    for key in ("scan_depletion", "scan_gain", "vacancies_final", "scan_conservation_error"):
        assert resumed[key] == pytest.approx(unbroken[key], rel=1e-10, abs=1e-16), key


@pytest.mark.serial
def test_a_rising_tdgl_energy_stops_the_run(tmp_path, capsys, monkeypatch):
    """The TDGL energy guard: a free energy that rises in a step (injected) is a failure report, exit 3.

    Unpatched, the same run reports the guard's worst value: no rise beyond round-off.
    """
    from flexotip.fem import electromechanical_problem

    sections = {"film": POLING["film"], "mesh": POLING["mesh"], "output": {"fields": []},
                "physics": {"vacancies": False}, "solve": {"mode": "transient"}}
    config = tmp_path / "tdgl.toml"
    config.write_text(config_module.to_toml(config_module.from_dict(sections)))
    assert cli.main(["run", str(config), "--out", str(tmp_path / "fine"), "--quiet"]) == 0
    fine = read_summary(tmp_path / "fine")
    assert fine["tdgl_steps"] > 2 and fine["tdgl_energy_rise_max_relative"] < 1e-12  # round-off at most
    energies = iter(np.linspace(1.0, 2.0, 1000))  # a free energy that rises every step
    monkeypatch.setattr(electromechanical_problem, "assemble_scalar", lambda form: next(energies))
    status = cli.main(["run", str(config), "--out", str(tmp_path / "rising"), "--quiet"])
    assert status == cli.EXIT_SOLVER_FAILED
    failed = read_summary(tmp_path / "rising")
    assert failed["failed_solver"] == "TDGL" and "free energy rose" in failed["failure_reason"]
    assert "Traceback" not in capsys.readouterr().err
