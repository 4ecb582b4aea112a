"""Study files: sweeps into members, every member validated before anything runs; the fits' inputs."""

from __future__ import annotations

import pathlib

import pytest

from flexotip import cli
from flexotip.studies import collect, study_file

pytestmark = pytest.mark.serial

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "studies").glob("*.toml"))


def _load(tmp_path, text: str, name: str = "study.toml"):
    path = tmp_path / name
    path.write_text(text)
    return study_file.load(path)


def test_product_zip_sweeps_and_named_members(tmp_path):
    study = _load(tmp_path, """
[base.tip]
force = 2.0e-6
[[sweep]]
"tip.force" = [1.0e-6, 2.0e-6, 4.0e-6]
"tip.shape" = ["sphere", "flat"]
[[sweep]]
mode = "zip"
"tip.force" = [1.0e-6, 3.0e-6]
"tip.bias" = [0.5, 1.5]
[[member]]
name = "grounded"
"tip.bias" = 0.0
""")
    assert len(study.members) == 3 * 2 + 2 + 1
    first, second = study.members[0], study.members[1]
    assert first.values == {"tip.force": 1.0e-6, "tip.shape": "sphere"}
    assert second.values == {"tip.force": 1.0e-6, "tip.shape": "flat"}  # the last key runs fastest
    assert first.name == "m000_force-1uN_shape-sphere"
    assert [m.config.tip.bias for m in study.members[6:8]] == [0.5, 1.5]
    assert [m.config.tip.force for m in study.members[6:8]] == [1.0e-6, 3.0e-6]
    named = study.members[-1]
    assert named.name == "grounded" and named.sweep is None and named.config.tip.force == 2.0e-6
    assert named.config_hash == study.members[2].config_hash  # the 2 µN sphere, unbiased
    assert len({m.config_hash for m in study.members}) == len(study.members) - 1
    assert [m.index for m in study.members] == list(range(len(study.members)))


def test_base_file_relative_to_the_study(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "base.toml").write_text("[tip]\nforce = 3.0e-6\n")
    study = _load(tmp_path, 'base = "configs/base.toml"\n[sweep]\n"tip.bias" = [0.0, 1.0]\n')
    assert [m.config.tip.force for m in study.members] == [3.0e-6, 3.0e-6]
    assert [m.config.tip.bias for m in study.members] == [0.0, 1.0]


def test_one_bad_member_refuses_the_study_naming_it_and_the_key(tmp_path, capsys):
    text = '[sweep]\n"tip.force" = [1.0e-6, -2.0e-6]\n"mesh.contact_size" = [0.5e-9]\n'
    with pytest.raises(study_file.StudyError) as error:
        _load(tmp_path, text)
    message = str(error.value)
    assert "member m001_force--2uN_contact_size-5e-10" in message and "force" in message
    assert "m000" not in message  # the good member is not blamed
    path = tmp_path / "study.toml"
    assert cli.main(["study", str(path), "--out", str(tmp_path / "out")]) == cli.EXIT_USER_ERROR
    assert not (tmp_path / "out").exists()  # refused before anything is written
    assert "m001" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "expected"), [
    ('[sweep]\nmode = "diagonal"\n"tip.force" = [1e-6]\n', "mode = 'diagonal'"),
    ('[sweep]\nmode = "zip"\n"tip.force" = [1e-6, 2e-6]\n"tip.bias" = [0.0]\n', "one length"),
    ('[sweep]\n"force" = [1e-6]\n', "must be dotted"),
    ('[sweep]\n"tip.force" = []\n', "non-empty list"),
    ('[sweep]\n"tip.force" = 1e-6\n', "non-empty list"),
    ('[sweep]\n"tip.bias" = [nan]\n', "finite"),
    ('[sweep]\n"tip.colour" = ["red"]\n', "colour"),
    ('sweeps = 1\n[sweep]\n"tip.bias" = [0.0]\n', "unknown study key"),
    ('base = "missing.toml"\n[sweep]\n"tip.bias" = [0.0]\n', "config file not found"),
    ('[[member]]\nname = "a b"\n', "folder name"),
    ('[[member]]\nname = "a"\n[[member]]\nname = "a"\n', "used twice"),
    ('name = "empty"\n', "no members"),
])
def test_invalid_study_files_are_refused_with_the_reason(tmp_path, text, expected):
    with pytest.raises(study_file.StudyError) as error:
        _load(tmp_path, text)
    assert expected in str(error.value)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_studies_load(path):
    study = study_file.load(path)
    assert study.members and study.description
    if path.stem in ("force_sweep", "bias_sweep", "force_voltage"):
        assert collect.fit_keys(study)  # they are there to be fitted


def _table(study, y):
    return [{"member": m.name, "index": m.index, "sweep": m.sweep, "status": "complete",
             **{k: m.values.get(k, "") for k in collect.swept_keys(study)}, "nvc_contact": value}
            for m, value in zip(study.members, y, strict=True)]


def test_fits_follow_the_sweeps_and_give_the_equivalence_factor(tmp_path):
    """Synthetic NVC: bias sigmoid x0 = 2.6 V, force sigmoid x0 = 6.8 µN → 2.6/6.8 V/µN."""
    import numpy as np

    biases = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0]
    forces = [0.5e-6, 1e-6, 2e-6, 4e-6, 6e-6, 7e-6, 8e-6, 10e-6, 12e-6, 15e-6]
    study = _load(tmp_path, f"""
[[sweep]]
"tip.force" = [0.6e-6]
"tip.bias" = {biases}
[[sweep]]
"tip.bias" = [0.0]
"tip.force" = {forces}
""")

    def sigmoid(x, a1, a2, x0, m):
        return a2 + (a1 - a2) / (1 + np.exp((np.asarray(x) - x0) / m))

    y = [*sigmoid(biases, 0.86, 0.03, 2.6, 0.6), *sigmoid(np.array(forces) * 1e6, 0.93, 0.004, 6.8, 1.9)]
    results = collect.fits(study, _table(study, y))
    by_key = {entry["x"]: entry for entry in results["fits"]}
    assert set(by_key) == {"tip.bias", "tip.force"}  # one curve each: the other sweep is not fitted
    assert by_key["tip.bias"]["x0"] == pytest.approx(2.6, rel=1e-6)
    assert by_key["tip.force"]["x0"] == pytest.approx(6.8, rel=1e-6)
    (pair,) = results["equivalence"]
    assert pair["V_per_uN"] == pytest.approx(2.6 / 6.8, rel=1e-6)


def test_the_member_hash_follows_the_values_not_the_text(tmp_path):
    """A member stays complete across versions that reword the config's comments."""
    import dataclasses
    import tomllib

    from flexotip import config as config_module

    config = config_module.from_dict({"tip": {"force": 2e-6}})
    text = config_module.to_toml(config).replace("# tip shape", "# the shape of the tip")
    reworded = config_module.from_dict(tomllib.loads(text))
    assert study_file.config_hash(reworded) == study_file.config_hash(config)
    other = dataclasses.replace(config, tip=dataclasses.replace(config.tip, force=2.0000001e-6))
    assert study_file.config_hash(other) != study_file.config_hash(config)


@pytest.mark.serial  # matplotlib only
def test_scan_transport_figure(tmp_path):
    """The scan study's figure from a synthetic table: a line per tip and pass, against v·a/D."""
    import numpy as np

    from flexotip.studies import figures

    study = study_file.load(ROOT / "studies" / "scan_speed.toml")
    table = []
    for member in study.members:
        peclet = member.values["scan.speed"] * 9e-9 / 1.23e-19
        table.append({"member": member.name, "status": "complete", "scan_peclet": peclet,
                      "lateral_fraction_tip": 0.5 - 0.05 * np.log10(peclet), "scan_depletion_tip": 1 / peclet,
                      "scan_removed_vacancies_tip": 1e-3})
    path = figures.scan_transport(study, table, tmp_path)
    assert path is not None and path.stat().st_size > 20_000
    assert figures.scan_transport(study, [row | {"scan_peclet": None} for row in table], tmp_path) is None
