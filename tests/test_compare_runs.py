"""scripts/compare_runs.py: what agrees, what differs, what is only new."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts"))
import compare_runs

SUMMARY = {"status": "complete", "P_axis_max_C_per_m2": 0.04, "max_abs_P_position_m": [1e-9, 0.0, 0.0],
           "tip_shape": "sphere", "t_quasi_steady_s": None, "time_total_s": 40.0}
TABLE = "depth_m,E_z_V_per_m,total_relative_change\n0,-1e6,1e-15\n1e-9,2e6,-2e-15\n"


def _run(folder: pathlib.Path, summary: dict, table: str = TABLE) -> pathlib.Path:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "axis.csv").write_text(table)
    return folder


@pytest.mark.serial
def test_agreement_and_differences(tmp_path, capsys):
    a = _run(tmp_path / "a" / "demo", SUMMARY)
    same = _run(tmp_path / "b" / "demo", SUMMARY | {"time_total_s": 99.0, "mesh_from_cache": True},
                TABLE.replace("1e-15", "1.3e-15"))  # round-off column, new key, other time
    assert compare_runs.main([str(a), str(same)]) == 0
    assert compare_runs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0  # folders of runs
    assert "new keys: mesh_from_cache" in capsys.readouterr().out
    off = _run(tmp_path / "c", SUMMARY | {"P_axis_max_C_per_m2": 0.04 * (1 + 1e-9)})
    assert compare_runs.main([str(a), str(off)]) == 1
    assert compare_runs.main([str(a), str(off), "--rtol", "1e-8"]) == 0
    lost = _run(tmp_path / "d", {k: v for k, v in SUMMARY.items() if k != "tip_shape"})
    assert compare_runs.main([str(a), str(lost)]) == 1
    moved = _run(tmp_path / "e", SUMMARY, TABLE.replace("2e6", "2.0001e6"))
    assert compare_runs.main([str(a), str(moved)]) == 1
    assert "DIFFERENT" in capsys.readouterr().out
