"""The field files open in a real ParaView: Debian's 5.11 (pvpython), when it is installed.

The VTKHDF files (``[output] format = "vtkhdf"``) through studies/paraview_section.py,
which slices the polarisation, the depolarisation field and c/c0 through the tip axis.
Skipped where pvpython is missing (CI machines); the same files are read by PyVista's VTK in
tests/test_cli.py.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess

import pytest

from flexotip import cli

pytestmark = [pytest.mark.serial,
              pytest.mark.skipif(shutil.which("pvpython") is None, reason="no pvpython (ParaView) here")]

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASE = """
[film]
half_width = 120e-9
substrate_thickness = 60e-9
[mesh]
contact_size = 1.5e-9
far_size = 30e-9
growth = 0.4
surface_size = 0.0
[output]
format = "vtkhdf"
"""


def test_paraview_slices_the_vtkhdf_fields_through_the_tip(tmp_path):
    (tmp_path / "case.toml").write_text(CASE)
    assert cli.main(["run", str(tmp_path / "case.toml"), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    script = ROOT / "studies" / "paraview_section.py"
    result = subprocess.run(["pvpython", str(script), str(tmp_path / "run"), "--no-render"],
                            capture_output=True, text=True, timeout=300)
    ranges = {m[0]: (float(m[1]), float(m[2])) for m in
              re.findall(r"^(\w+): sliced at y = \S+ m, \w+ range (\S+) … (\S+)$", result.stdout, re.M)}
    assert set(ranges) == {"polarization", "depolarization_field", "vacancy_density_relative"}, result.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    # P_z on the section: at least P on the axis, at most the film's largest |P| (C/m², SI)
    high = ranges["polarization"][1]
    assert summary["P_axis_max_C_per_m2"] * (1 - 1e-6) <= high <= summary["max_abs_P_C_per_m2"] * (1 + 1e-6)
    low, high = ranges["vacancy_density_relative"]
    assert low == 0.0 and high > 1.0  # zero off the film, enriched under the tip
