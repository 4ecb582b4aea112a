"""The one adaptive stepper (fem/time_stepping.py) on a scalar decay, and the fixed-point iteration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flexotip.errors import SolverError
from flexotip.fem import solvers
from flexotip.fem.time_stepping import CHANGE, MAX_RETRIES, AdaptiveStepper

RATE = 2.0
"""k of y' = −k·y, 1/s."""


class Decay:
    """Backward Euler for y' = −k·(y − y∞): y_new = (y + k·Δt·y∞)/(1 + k·Δt); a predictor error estimate."""

    name = "decay"

    def __init__(self, fail_at: set[int] = frozenset(), controlled: bool = True, start: float = 1.0,
                 target: float = 0.0):
        self.y, self.target, self.start, self.older = start, target, None, None
        self.calls, self.fail_at, self.controlled = 0, fail_at, controlled

    def save(self):
        self.start = self.y
        return self.y

    def restore(self, saved):
        self.y = saved

    def step(self, dt):
        self.calls += 1
        if self.calls in self.fail_at:
            self.y = math.nan  # a failed Newton leaves garbage; the stepper must restore
            raise SolverError("decay", "DIVERGED_TEST", 1)
        self.y = (self.y + RATE * dt * self.target) / (1 + RATE * dt)
        return dt

    def error(self, dt, dt_old):
        if not self.controlled:
            return None
        if self.older is None:
            return 0.5 * abs(self.y - self.start)
        predictor = self.start + dt / dt_old * (self.start - self.older)
        return abs(self.y - predictor) * dt / (dt + dt_old)

    def accept(self, t, dt, report, error):
        self.older = self.start
        return {"y": self.y, "error": math.nan if error is None else error,
                CHANGE: abs(self.y - self.start) / abs(self.y)}

    def growth(self, report, error):
        return 2.0 if error is None else min(2.0, 0.9 * math.sqrt(1e-3 / max(error, 1e-300)))


def test_history_is_the_backward_euler_sequence_and_ends_at_t_end():
    problem = Decay()
    history = AdaptiveStepper(first_step=1e-3, t_end=1.5, rtol=1e-12, max_steps=10_000,
                              tolerance=1e-3).run(problem)
    t, dt, y = (np.array(history.columns[name]) for name in ("t_s", "dt_s", "y"))
    assert t[-1] == pytest.approx(1.5, rel=1e-12)
    assert np.allclose(np.cumsum(dt), t, rtol=1e-13)
    assert np.allclose(y, np.cumprod(1 / (1 + RATE * dt)), rtol=1e-13)
    assert max(history.columns["error"]) <= 1e-3  # every accepted step within the tolerance
    assert y[-1] == pytest.approx(math.exp(-RATE * 1.5), rel=0.15)  # first order: 13 % after 3 decay times
    assert history.rejected == 0 and history.t_quasi_steady is None


def test_a_step_over_the_tolerance_is_rejected_and_retried_smaller():
    problem = Decay(controlled=False)
    problem.error = lambda dt, dt_old: 0.1 if problem.calls == 2 else None  # 100 × the tolerance, once
    history = AdaptiveStepper(first_step=0.1, t_end=None, rtol=0.0, max_steps=3, tolerance=1e-3).run(problem)
    assert history.rejected == 1
    assert history.columns["dt_s"] == pytest.approx([0.1, 0.04, 0.08])  # 0.2 rejected → ×max(0.2, 0.09)
    assert history.columns["y"][-1] == pytest.approx(1 / (1.2 * 1.08 * 1.16), rel=1e-14)


def test_quasi_steady_stop_and_step_limit():
    quiet = AdaptiveStepper(first_step=1e-2, t_end=None, rtol=1e-3, max_steps=10_000).run(
        Decay(controlled=False, start=0.0, target=1.0))
    assert quiet.t_quasi_steady == quiet.times[-1]
    assert quiet.times[-1] == pytest.approx(sum(quiet.columns["dt_s"]), rel=1e-12)  # no end at inf
    assert quiet.columns[CHANGE][-1] <= 1e-3 < quiet.columns[CHANGE][-2]
    assert np.allclose(np.diff(quiet.columns["dt_s"]) / quiet.columns["dt_s"][:-1], 1.0)  # ×2 each
    limited = AdaptiveStepper(first_step=1e-2, t_end=None, rtol=0.0, max_steps=5).run(Decay(controlled=False))
    assert len(limited) == 5 and limited.t_quasi_steady is None


def test_a_failed_step_is_restored_and_retried_with_a_quarter_step():
    problem = Decay(fail_at={2}, controlled=False)
    history = AdaptiveStepper(first_step=0.1, t_end=None, rtol=0.0, max_steps=3).run(problem)
    assert history.rejected == 1
    assert history.columns["dt_s"] == pytest.approx([0.1, 0.05, 0.1])  # 0.2 failed → 0.05, then ×2
    assert all(math.isfinite(y) for y in history.columns["y"])
    assert history.columns["y"][-1] == pytest.approx(1 / (1.2 * 1.1 * 1.2), rel=1e-14)


def test_persistent_failure_raises_after_ten_retries():
    """A step that keeps failing is tried 1 + MAX_RETRIES times, each with a quarter of the last Δt."""
    problem = Decay(fail_at=set(range(1, 100)), controlled=False)
    with pytest.raises(SolverError, match=r"DIVERGED_TEST \(the step failed 11 times"):
        AdaptiveStepper(first_step=1.0, t_end=None, rtol=0.0, max_steps=10).run(problem)
    assert problem.calls == 1 + MAX_RETRIES == 11  # Δt = 1, 1/4, …, 4^-10


def test_retries_count_from_the_failing_step_not_from_the_first():
    """After good steps at a small Δt, a failure still gets its ten retries.

    (A cut relative to the first step, as before, gave up here after two.)
    """
    problem = Decay(fail_at={4, 5, 6}, controlled=False)
    history = AdaptiveStepper(first_step=1.0, t_end=None, rtol=0.0, max_steps=5, max_step=1e-5).run(problem)
    assert len(history) == 5 and history.rejected == 3


def test_history_writes_its_columns(comm, outdir):
    history = AdaptiveStepper(first_step=1e-2, t_end=0.05, rtol=0.0, max_steps=100).run(Decay())
    history.write_csv(outdir / "history.csv", comm)
    header = (outdir / "history.csv").read_text().splitlines()[0]
    assert header == "t_s,dt_s,y,error,relative_change"
    data = np.loadtxt(outdir / "history.csv", delimiter=",", skiprows=1, ndmin=2)
    assert data.shape == (len(history), 5)
    assert np.allclose(data[:, 2], history.columns["y"], rtol=1e-8)


def test_fixed_point_counts_rounds_and_fails_loudly():
    assert solvers.fixed_point(lambda n: n == 3, solver="test", what="x") == 3
    with pytest.raises(SolverError, match="x did not settle in 5 rounds"):
        solvers.fixed_point(lambda n: False, solver="test", what="x", max_rounds=5)


def test_steps_end_on_the_stops_and_keep_below_max_step():
    stops = (0.05, 0.3)
    history = AdaptiveStepper(first_step=0.02, t_end=1.0, rtol=0.0, max_steps=10_000, max_step=0.1,
                              stops=stops, until_steady=False).run(Decay(controlled=False))
    assert all(stop in history.times for stop in stops) and history.times[-1] == 1.0
    assert max(history.columns["dt_s"]) <= 0.1
    assert history.times == pytest.approx(np.cumsum(history.columns["dt_s"]), rel=1e-12)
