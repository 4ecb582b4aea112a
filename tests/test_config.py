"""Config loading: defaults, round trip, and one specific message per kind of bad input."""

from __future__ import annotations

import math
import pathlib
import tomllib

import pytest

from flexotip import cli
from flexotip import config as config_module


def test_defaults_are_the_paper_configuration():
    config = config_module.load(None)
    assert config.tip.shape == "sphere"
    assert config.tip.force == 4.0e-6
    assert config.film.thickness == pytest.approx(120 * 3.905e-10)
    # E* = 301.9 GPa for a rigid tip on STO(001), so R = 51.5 nm gives a = 8 nm.
    assert config.contact_modulus == pytest.approx(301.9e9, rel=1e-3)
    assert config.contact_radius == pytest.approx(8e-9, rel=1e-3)
    assert config.material.alpha1 == pytest.approx(1.8465e8, rel=1e-3)
    assert config.film.half_width > 20 * config.contact_radius


def test_resolved_config_round_trips(tmp_path):
    config = config_module.load(None)
    path = tmp_path / "resolved.toml"
    path.write_text(config_module.to_toml(config))
    assert config_module.load(path) == config


@pytest.mark.parametrize(("position", "symmetry"), [([0.0, 0.0], "quarter"),
                                                   ([0.0, 5e-9], "full"), ([5e-9, 0.0], "full")])
def test_auto_symmetry_follows_the_tip_position(position, symmetry):
    config = config_module.from_dict({"tip": {"position": position}})
    assert config.film.symmetry == symmetry
    # A symmetry given is kept, and checked against the position as before.
    assert config_module.from_dict({"film": {"symmetry": "full"}}).film.symmetry == "full"


@pytest.mark.parametrize(("surface_size", "solver"), [(1e-10, "direct"), (0.0, "iterative")])
def test_auto_linear_solver_is_direct_on_surface_layers(surface_size, solver):
    config = config_module.from_dict({"mesh": {"surface_size": surface_size}})
    assert config.solve.linear_solver == solver
    given = {"mesh": {"surface_size": surface_size}, "solve": {"linear_solver": "iterative"}}
    assert config_module.from_dict(given).solve.linear_solver == "iterative"


@pytest.mark.parametrize(("contact_radius", "symmetry", "modes"), [
    (8e-9, "quarter", 512),      # 4·800 nm / 8 nm = 400 → 512
    (8e-9, "full", 1024),        # 4·1600 nm / 8 nm = 800 → 1024
    (20e-9, "quarter", 256),     # 160 → at least 256
    (1e-9, "full", 1024)])       # 6400 → at most 1024
def test_spectral_modes_follow_the_contact_radius(contact_radius, symmetry, modes):
    config = config_module.from_dict({"tip": {"contact_radius": contact_radius},
                                      "film": {"symmetry": symmetry},
                                      "solve": {"solver": "spectral"},
                                      "physics": {"flexoelectric": False}})
    assert config.solve.spectral_modes == modes
    extent = 800e-9 if symmetry == "quarter" else 1600e-9
    assert extent / modes <= contact_radius / 4 or modes == 1024


def test_flat_tip_defaults_to_the_blunt_paper_tip():
    config = config_module.from_dict({"tip": {"shape": "flat"}})
    assert config.contact_radius == pytest.approx(15e-9)


def test_isotropic_defaults_to_voigt_reuss_hill():
    config = config_module.from_dict({"material": {"elasticity": "isotropic"}})
    assert config.material.young == pytest.approx(299.2e9, rel=2e-3)
    assert config.material.poisson == pytest.approx(0.228, abs=2e-3)


BAD_CONFIGS = [
    ("unknown key", "[tip]\nforse = 4e-6\n", "[tip] forse: unknown key"),
    ("unknown section", "[tipp]\nforce = 4e-6\n", "[tipp]: unknown section"),
    ("wrong type", '[tip]\nforce = "4 uN"\n', "[tip] force = '4 uN': must be a number"),
    ("negative force", "[tip]\nforce = -1e-6\n", "[tip] force = -1e-06: must be a number ≥ 0"),
    ("bad choice", '[tip]\nshape = "cone"\n', "[tip] shape = 'cone': must be one of"),
    ("tip larger than domain", "[tip]\ncontact_radius = 900e-9\n",
     "must stay inside the domain, [film] half_width"),
    ("mesh larger than film", "[film]\nthickness = 0.4e-9\n[mesh]\nsurface_size = 0.0\n",
     "[mesh] contact_size = 5e-10: must be smaller than the film thickness"),
    ("mesh coarser than contact", "[mesh]\ncontact_size = 5e-9\n",
     "must be at most half the contact radius"),
    ("missing profile file", '[tip]\nshape = "profile"\nload = "contact"\nprofile = "nope.csv"\n',
     "[tip] profile = 'nope.csv': file not found"),
    ("bool for number", "[film]\nthickness = true\n", "[film] thickness = True: must be a number"),
    ("non-positive thickness", "[film]\nthickness = 0.0\n", "[film] thickness = 0.0: must be a number > 0"),
    ("poisson out of range", '[material]\nelasticity = "isotropic"\npoisson = 0.5\n',
     "[material] poisson = 0.5: must be a number > -1 and < 0.5"),
    ("young on cubic", "[material]\nyoung = 1e11\n", "applies only to elasticity = 'isotropic'"),
    ("unstable cubic", "[material]\nc12 = 4e11\n", "not positive definite"),
    ("off-axis tip with symmetry", '[film]\nsymmetry = "quarter"\n[tip]\nposition = [1e-9, 0.0]\n',
     "with [film] symmetry = 'quarter' the tip must sit on the axis"),
    ("bad position", "[tip]\nposition = [0.0]\n",
     "[tip] position = [0.0]: must be a list of two finite numbers"),
    ("unknown output field", '[output]\nfields = ["vacancy_density"]\n',
     "unknown field(s) 'vacancy_density'"),
    ("integer expected", "[mesh]\ndegree = 1.5\n", "[mesh] degree = 1.5: must be an integer"),
    ("not toml", "[tip\nforce = 1\n", "not valid TOML"),
    ("edge radius on sphere", "[tip]\nedge_radius = 1e-9\n", "applies only to shape = 'flat'"),
    ("air gap without air", '[physics]\nelectric_bc = "air-gap"\n', "needs [film] air_thickness > 0"),
    ("not yet: contact under air", '[film]\nair_thickness = 1e-9\n[tip]\nload = "contact"\n',
     "the solved contact with an air layer is not available yet"),
    ("rounded punch with a prescribed load", '[tip]\nshape = "flat"\nedge_radius = 1e-9\n',
     "a rounded punch edge needs the solved contact"),
    ("bad Nitsche variant", "[solve]\ncontact_theta = 2\n",
     "[solve] contact_theta = 2: must be one of 1, 0, -1"),
    ("surface layer thicker than the edge cells", "[mesh]\nsurface_size = 0.8e-9\n",
     "[mesh] surface_size = 8e-10: must not exceed contact_size"),
    ("surface layers above the sensing depth", "[mesh]\nsurface_size = 0.05e-9\nsurface_depth = 0.8e-9\n",
     "[mesh] surface_depth = 8e-10: must lie between [vacancies] sensing_depth"),
    ("flat surface layers", "[mesh]\nsurface_growth = 1.0\n",
     "[mesh] surface_growth = 1.0: must be a number > 1"),
]


@pytest.mark.parametrize(("kind", "text", "message"), BAD_CONFIGS, ids=[b[0] for b in BAD_CONFIGS])
def test_bad_config_gives_its_message(kind, text, message, tmp_path, capsys, comm):
    path = pathlib.Path(comm.bcast(str(tmp_path), root=0)) / f"rank{comm.rank}.toml"
    path.write_text(text)
    status = cli.main(["check", str(path)])
    captured = capsys.readouterr()
    assert status == cli.EXIT_USER_ERROR
    if comm.rank == 0:
        assert message in captured.err, captured.err
        assert "Traceback" not in captured.err + captured.out
        assert captured.err.count("\n  - ") == 1, f"{kind}: expected exactly one problem"


def test_missing_config_file(capsys, comm):
    status = cli.main(["run", "/nonexistent/flexotip.toml", "--out", "/nonexistent/out"])
    assert status == cli.EXIT_USER_ERROR
    if comm.rank == 0:
        assert "config file not found: /nonexistent/flexotip.toml" in capsys.readouterr().err


def test_all_problems_reported_together():
    with pytest.raises(config_module.ConfigError) as info:
        config_module.from_dict({"tip": {"force": -1.0, "shape": "cone"}, "mesh": {"degree": 3}})
    assert len(info.value.messages) == 3


def test_examples_are_valid():
    examples = sorted(pathlib.Path(__file__).parent.parent.joinpath("examples").glob("*.toml"))
    assert examples, "no example configs shipped"
    for path in examples:
        config = config_module.load(path)
        assert math.isfinite(config.contact_radius)
        tomllib.loads(config_module.to_toml(config))


def test_configuration_page_documents_every_key():
    import dataclasses

    page = (pathlib.Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    config = config_module.Config()
    for section in dataclasses.fields(config):
        assert f"## [{section.name}]" in page
        for field in dataclasses.fields(getattr(config, section.name)):
            assert f"| `{field.name}` |" in page, f"[{section.name}] {field.name} not on the page"
