"""The shipped studies bias_sweep and force_voltage end to end at a coarse resolution (tests/shipped.py).

Their fits, and the force–voltage equivalence when both fits resolve their transitions.
"""

from __future__ import annotations

import pytest
import shipped

pytestmark = [pytest.mark.serial, pytest.mark.slow]


def test_bias_sweep(tmp_path):
    status, study, out, rows = shipped.run("bias_sweep", tmp_path)
    record, _ = shipped.check_common(status, study, out, rows)
    nvc = [shipped.number(r, "nvc_contact") for r in rows]
    assert nvc[-1] < 0.1 * nvc[0]  # +5 V repels the positive vacancies from under the tip
    (fit,) = shipped.fits_of(record, "tip.bias")
    print(f"\nsteady bias sweep: x0 = {fit['x0'] * 1e3:.2f} mV, M = {fit['M'] * 1e3:.2f} mV, "
          f"A1 {fit['A1']:.3f}, A2 {fit['A2']:.3g}; {fit['message']}")
    assert fit["n_points"] == 11
    # The steady state is Boltzmann, c ∝ exp(−2eφ/k_BT), and φ under the contact is the
    # bias: the NVC falls as exp(−V/(k_BT/2e)) from 0 V on, with no plateau before it. The
    # sigmoid's centre goes to the first point (not resolved) and its width is k_BT/2e.
    thermal_voltage = shipped.number(rows[0], "vacancy_thermal_voltage_V")
    assert not fit["resolved"] and fit["x0"] <= 1e-3
    assert fit["M"] == pytest.approx(thermal_voltage, rel=0.1)


def test_force_voltage(tmp_path):
    status, study, out, rows = shipped.run("force_voltage", tmp_path)
    record, report = shipped.check_common(status, study, out, rows)
    assert len(rows) == 19
    assert len(shipped.fits_of(record, "tip.bias")) == 1 and len(shipped.fits_of(record, "tip.force")) == 1
    resolved = all(f["resolved"] for f in record["fits"]["fits"])
    assert len(record["fits"]["equivalence"]) == (1 if resolved else 0)
    assert "V/µN" in report if resolved else "No force–voltage equivalence" in report
