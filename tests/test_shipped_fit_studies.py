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
    assert fit["n_points"] == 10 and "x0" in fit


def test_force_voltage(tmp_path):
    status, study, out, rows = shipped.run("force_voltage", tmp_path)
    record, report = shipped.check_common(status, study, out, rows)
    assert len(rows) == 18
    assert len(shipped.fits_of(record, "tip.bias")) == 1 and len(shipped.fits_of(record, "tip.force")) == 1
    resolved = all(f["resolved"] for f in record["fits"]["fits"])
    assert len(record["fits"]["equivalence"]) == (1 if resolved else 0)
    assert "V/µN" in report if resolved else "No force–voltage equivalence" in report
