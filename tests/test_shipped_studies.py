"""The shipped studies tip_shape and force_sweep end to end at a coarse resolution (tests/shipped.py)."""

from __future__ import annotations

import pytest
import shipped
from helpers import read_vtx

pytestmark = [pytest.mark.serial, pytest.mark.slow]


def test_tip_shape(tmp_path):
    status, study, out, rows = shipped.run("tip_shape", tmp_path, fields=True)
    record, _ = shipped.check_common(status, study, out, rows)
    by_shape = {}
    for row in rows:
        by_shape.setdefault(row["tip.shape"], []).append(row)
    assert len(by_shape["sphere"]) == 3 and len(by_shape["flat"]) == 4
    radii = [shipped.number(r, "contact_radius_m") for r in by_shape["sphere"]]
    assert radii == sorted(radii)  # larger sphere, larger contact
    solved = [r for r in by_shape["flat"] if r["tip.load"] == "contact"]
    assert len(solved) == 3 and all(shipped.number(r, "contact_radius_m") > 14e-9 for r in solved)
    assert (out / "figures" / "surface_profiles.png").is_file()
    for row in rows:  # the paper's Fig. 3 set of every member
        assert shipped.colours(out / "figures" / "members" / f"{row['member']}.png") > 16
    assert not record["fits"]["fits"]  # nothing to fit in a shape study
    member = out / "members" / rows[1]["member"]
    u = read_vtx(member / "displacement.bp", "displacement").reshape(-1, 3)
    assert u[:, 2].min() == pytest.approx(shipped.number(rows[1], "axis_displacement_m"), rel=0.02)
    c = read_vtx(member / "vacancies.bp", "vacancy_density").ravel()
    z = read_vtx(member / "vacancies.bp", "geometry").reshape(-1, 3)[:, 2]
    in_film = z >= -46.86e-9 * (1 + 1e-9)
    assert in_film.any() and (c[in_film] > 0).all() and (c[~in_film] == 0).all()  # 1/m³, zero off the film


def test_force_sweep(tmp_path):
    status, study, out, rows = shipped.run("force_sweep", tmp_path)
    record, report = shipped.check_common(status, study, out, rows)
    for shape in ("sphere", "flat"):
        depth = [shipped.number(r, "axis_displacement_m") for r in rows if r["tip.shape"] == shape]
        assert len(depth) == 8 and depth == sorted(depth, reverse=True)  # deeper with force
    fits = shipped.fits_of(record, "tip.force")
    assert len(fits) == 2 and {f["others"]["tip.shape"] for f in fits} == {"sphere", "flat"}
    assert "Boltzmann sigmoid" in report
    assert (out / "figures" / "quantities_vs_tip_force.png").is_file()
