"""The shipped studies (studies/*.toml) end to end at a coarse resolution: table, fits, figures, report.

Each study file is run as shipped except for its base's box and mesh, replaced by a coarse
one (a few seconds per member): every member, every output. The documented results
(docs/studies.md) are at the default resolution.
"""

from __future__ import annotations

import csv
import json
import math
import pathlib
import tomllib

import pytest
from helpers import read_vtx

from flexotip import cli
from flexotip.studies import study_file

pytestmark = [pytest.mark.serial, pytest.mark.slow]

ROOT = pathlib.Path(__file__).resolve().parent.parent
COARSE = {
    "film": {"half_width": 120e-9, "substrate_thickness": 60e-9},
    "mesh": {"contact_size": 1.5e-9, "far_size": 30e-9, "growth": 0.4, "surface_size": 0.0},
    "output": {"fields": []},
}


def _coarse_copy(name: str, folder: pathlib.Path, fields: bool = False) -> pathlib.Path:
    """The shipped study with the coarse box and mesh in its base, written to ``folder``."""
    data = tomllib.loads((ROOT / "studies" / f"{name}.toml").read_text())
    assert "base" not in data or isinstance(data["base"], dict)
    base = data.setdefault("base", {})
    for section, table in COARSE.items():
        if section == "output" and fields:
            continue
        base[section] = base.get(section, {}) | table
    path = folder / f"{name}.toml"
    path.write_text(_to_toml(data))
    return path


def _to_toml(data: dict, prefix: str = "") -> str:
    """Enough TOML for a study file: scalars, lists, tables and arrays of tables."""
    def value(v):
        return json.dumps(v) if isinstance(v, str | list | bool) else repr(v)

    lines, tables = [], []
    for key, item in data.items():
        name = f'"{key}"' if "." in key else key
        if isinstance(item, dict):
            tables.append((f"[{prefix}{key}]", item, f"{prefix}{key}."))
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            tables += [(f"[[{prefix}{key}]]", entry, None) for entry in item]
        else:
            lines.append(f"{name} = {value(item)}")
    text = "\n".join(lines) + "\n"
    for header, table, sub_prefix in tables:
        text += f"{header}\n" + _to_toml(table, sub_prefix or "") + "\n"
    return text


def _run(name: str, tmp_path: pathlib.Path, fields: bool = False):
    path = _coarse_copy(name, tmp_path, fields)
    study = study_file.load(path)
    out = tmp_path / "out"
    status = cli.main(["study", str(path), "--out", str(out), "--quiet"])
    with (out / "table.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    return status, study, out, rows


def _number(row: dict, key: str) -> float:
    value = float(row[key])
    assert math.isfinite(value), key
    return value


def _check_common(status, study, out, rows):
    assert status == 0
    assert [row["member"] for row in rows] == [m.name for m in study.members]
    assert all(row["status"] == "complete" for row in rows)
    for row in rows:
        assert _number(row, "axis_displacement_m") < 0 < _number(row, "contact_radius_m")
        assert _number(row, "nvc_contact") >= 0  # c/c0 ≥ 0; 0 where a bias empties the contact
        for key in ("P_axis_max_C_per_m2", "delta_dec", "delta_inc", "Ez_below_tip_V_per_m",
                    "enrichment_radius_m", "vacancies_relative_change"):
            _number(row, key)
        assert abs(_number(row, "vacancies_relative_change")) < 1e-10  # conserved in every member
    record = json.loads((out / "study.json").read_text())
    assert record["status"] == "complete" and record["n_complete"] == len(rows)
    report = (out / "report.md").read_text()
    assert study.name in report and "| member |" in report
    figures = sorted((out / "figures").glob("*.png"))
    assert figures and all(p.with_suffix(".pdf").stat().st_size > 5_000 for p in figures)
    for path in figures:
        assert f"figures/{path.name}" in report
        assert _colours(path) > 16, path.name  # a drawn figure, not a blank canvas
    return record, report


def _colours(path: pathlib.Path) -> int:
    import matplotlib.image

    image = matplotlib.image.imread(path)
    return len({tuple(p) for p in (image.reshape(-1, image.shape[-1]) * 255).astype(int)[::7].tolist()})


def _fits(record: dict, key: str) -> list[dict]:
    return [f for f in record["fits"]["fits"] if f["x"] == key]


def test_tip_shape(tmp_path):
    status, study, out, rows = _run("tip_shape", tmp_path, fields=True)
    record, _ = _check_common(status, study, out, rows)
    by_shape = {}
    for row in rows:
        by_shape.setdefault(row["tip.shape"], []).append(row)
    assert len(by_shape["sphere"]) == 3 and len(by_shape["flat"]) == 4
    radii = [_number(r, "contact_radius_m") for r in by_shape["sphere"]]
    assert radii == sorted(radii)  # larger sphere, larger contact
    solved = [r for r in by_shape["flat"] if r["tip.load"] == "contact"]
    assert len(solved) == 3 and all(_number(r, "contact_radius_m") > 14e-9 for r in solved)
    assert (out / "figures" / "surface_profiles.png").is_file()
    for row in rows:  # the paper's Fig. 3 set of every member
        assert _colours(out / "figures" / "members" / f"{row['member']}.png") > 16
    assert not record["fits"]["fits"]  # nothing to fit in a shape study
    member = out / "members" / rows[1]["member"]
    u = read_vtx(member / "displacement.bp", "displacement").reshape(-1, 3)
    assert u[:, 2].min() == pytest.approx(_number(rows[1], "axis_displacement_m"), rel=0.02)
    c = read_vtx(member / "vacancies.bp", "vacancy_density").ravel()
    z = read_vtx(member / "vacancies.bp", "geometry").reshape(-1, 3)[:, 2]
    in_film = z >= -46.86e-9 * (1 + 1e-9)
    assert in_film.any() and (c[in_film] > 0).all() and (c[~in_film] == 0).all()  # 1/m³, zero off the film


def test_force_sweep(tmp_path):
    status, study, out, rows = _run("force_sweep", tmp_path)
    record, report = _check_common(status, study, out, rows)
    for shape in ("sphere", "flat"):
        depth = [_number(r, "axis_displacement_m") for r in rows if r["tip.shape"] == shape]
        assert len(depth) == 8 and depth == sorted(depth, reverse=True)  # deeper with force
    fits = _fits(record, "tip.force")
    assert len(fits) == 2 and {f["others"]["tip.shape"] for f in fits} == {"sphere", "flat"}
    assert "Boltzmann sigmoid" in report
    assert (out / "figures" / "quantities_vs_tip_force.png").is_file()


def test_bias_sweep(tmp_path):
    status, study, out, rows = _run("bias_sweep", tmp_path)
    record, _ = _check_common(status, study, out, rows)
    nvc = [_number(r, "nvc_contact") for r in rows]
    assert nvc[-1] < 0.1 * nvc[0]  # +5 V repels the positive vacancies from under the tip
    (fit,) = _fits(record, "tip.bias")
    assert fit["n_points"] == 10 and "x0" in fit


def test_force_voltage(tmp_path):
    status, study, out, rows = _run("force_voltage", tmp_path)
    record, report = _check_common(status, study, out, rows)
    assert len(rows) == 18
    assert len(_fits(record, "tip.bias")) == 1 and len(_fits(record, "tip.force")) == 1
    resolved = all(f["resolved"] for f in record["fits"]["fits"])
    assert len(record["fits"]["equivalence"]) == (1 if resolved else 0)
    assert "V/µN" in report if resolved else "No force–voltage equivalence" in report
