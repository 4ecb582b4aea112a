"""Running a shipped study (studies/*.toml) at a coarse resolution, and the checks every one passes.

Each study file is run as shipped except for its base's box and mesh, replaced by a coarse
one (:func:`flexotip.studies.coarse.coarse_copy`; a few seconds per member): every member,
every output. The documented results
(docs/studies.md) are at the default resolution. Used by test_shipped_studies.py and
test_shipped_fit_studies.py (two files, so that pytest-xdist runs them side by side).
"""

from __future__ import annotations

import csv
import json
import math
import pathlib

from flexotip import cli
from flexotip.studies import study_file
from flexotip.studies.coarse import coarse_copy


def run(name: str, tmp_path: pathlib.Path, fields: bool = False, coarse: dict | None = None):
    path = coarse_copy(name, tmp_path, fields, coarse)
    study = study_file.load(path)
    out = tmp_path / "out"
    status = cli.main(["study", str(path), "--out", str(out), "--quiet"])
    with (out / "table.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    return status, study, out, rows


def number(row: dict, key: str) -> float:
    value = float(row[key])
    assert math.isfinite(value), key
    return value


def check_common(status, study, out, rows):
    assert status == 0
    assert [row["member"] for row in rows] == [m.name for m in study.members]
    assert all(row["status"] == "complete" for row in rows)
    for row in rows:
        assert number(row, "axis_displacement_m") < 0 < number(row, "contact_radius_m")
        assert number(row, "nvc_contact") >= 0  # c/c0 ≥ 0; 0 where a bias empties the contact
        for key in ("P_axis_max_C_per_m2", "delta_dec", "delta_inc", "Ez_below_tip_V_per_m",
                    "enrichment_radius_m", "vacancies_relative_change"):
            number(row, key)
        assert abs(number(row, "vacancies_relative_change")) < 1e-10  # conserved in every member
    record = json.loads((out / "study.json").read_text())
    assert record["status"] == "complete" and record["n_complete"] == len(rows)
    report = (out / "report.md").read_text()
    assert study.name in report and "| member |" in report
    figures = sorted((out / "figures").glob("*.png"))
    assert figures and all(p.with_suffix(".pdf").stat().st_size > 5_000 for p in figures)
    for path in figures:
        assert f"figures/{path.name}" in report
        assert colours(path) > 16, path.name  # a drawn figure, not a blank canvas
    return record, report


def colours(path: pathlib.Path) -> int:
    import matplotlib.image

    image = matplotlib.image.imread(path)
    return len({tuple(p) for p in (image.reshape(-1, image.shape[-1]) * 255).astype(int)[::7].tolist()})


def fits_of(record: dict, key: str) -> list[dict]:
    return [f for f in record["fits"]["fits"] if f["x"] == key]
