"""Generated configs, valid and invalid, through the real entry point, ``flexotip check``.

Hypothesis builds configs across every section. Valid ones are built by construction from
the documented rules (each key's range, and the checks across keys); each must pass
``flexotip check`` and load back from its resolved TOML unchanged. Invalid ones are a valid
one with one mutation whose offending key is known (a wrong type, NaN or ±inf, a value out
of range, an unknown choice, key or section, an inconsistent combination, a bad file);
each must be refused with exit status 2 by a message that names that key, never by a
traceback. Perturbed ones (a valid one with random values, of any type, in random keys)
have no known verdict: each is refused the same way, or accepted with every resolved value
finite and in range. A few valid ones on the coarsest meshes are meshed by ``flexotip mesh``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import io
import json
import math
import pathlib
import re

from mpi4py import MPI

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexotip import cli, config_checks, config_values, materials, tips
from flexotip import config as config_module
from flexotip.analytic import hertz_contact_radius

pytestmark = pytest.mark.serial  # a check has no collective: 2 ranks would only repeat it

SETTINGS = {"derandomize": True, "deadline": None, "database": None, "print_blob": False,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much]}
N_VALID = 300
N_PERTURBED = 300
N_PER_MUTATION = 8
N_MESHED = 3

COUNTS: collections.Counter = collections.Counter()
"""Configs checked in this process, by verdict (module-level: summed over every example)."""
MESSAGES: set[str] = set()
"""The distinct error messages reached, with their values blanked (see :func:`template`)."""

DEFAULTS = config_module.Config()
SECTIONS = {f.name: type(getattr(DEFAULTS, f.name)) for f in dataclasses.fields(DEFAULTS)}
FIELDS = {name: {f.name: f for f in dataclasses.fields(cls)} for name, cls in SECTIONS.items()}
OMIT = object()

VALID_PROFILES = ("sphere.csv", "tips/cone.txt", "blunt.csv")
GARBAGE_PROFILES = {
    "garbage.csv": "hello, world\nthis is not a tip\n",
    "empty.csv": "",
    "one_column.csv": "0\n1e-9\n2e-9\n",
    "two_rows.csv": "0,0\n1e-9,1e-11\n",
    "decreasing_r.csv": "0,0\n2e-9,1e-11\n1e-9,2e-11\n",
    "falling_h.csv": "0,0\n1e-9,-1e-11\n2e-9,-2e-11\n",
    "no_apex.csv": "1e-9,0\n2e-9,1e-11\n3e-9,3e-11\n",
    "ragged.csv": "0,0\n1e-9\n2e-9,4e-11,5\n",
    "text_cell.csv": "0,0\n1e-9,abc\n2e-9,4e-11\n",
}
"""Tip-profile files that must be refused (and binary.csv, a folder, a missing file)."""

MATERIALS = (
    {},
    {"elasticity": "isotropic"},
    {"elasticity": "isotropic", "young": 250e9, "poisson": 0.25},
    {"c11": 3.2e11, "c12": 1.0e11, "c44": 1.2e11},
    {"f11": 0.0, "f12": 0.0, "f44": 0.0, "G11": 0.0, "G44": 0.0},
    {"G11": 1e-10, "G12": 2e-11, "G44": 8e-11, "f11": 0.05, "f12": -0.3},
)
"""Stable film materials. The flexoelectric stability check costs ~70 ms for each new set of
elastic, flexo and gradient constants, so these come from a short list; the keys that it
does not read (temperature, α's, Q's, the tip's moduli) are drawn freely."""


# ---------------------------------------------------------------------------------------------
# TOML text and the entry point


def _toml_key(key) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(f"\\u{ord(c):04x}" if (ord(c) < 32 and c != "\t") or ord(c) == 127
                          else "\\" + c if c in '"\\' else c for c in value)
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"no TOML for {value!r}")


def toml_text(data: dict) -> str:
    """TOML of {section: {key: value}}; a section that is not a table is a top-level key."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{_toml_key(name)}]")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@dataclasses.dataclass
class Case:
    """A generated config: the tables, or raw file content; the lengths it was built from."""

    data: dict
    ctx: dict
    raw: bytes | None = None


def write(case: Case, workdir: pathlib.Path, name: str = "case.toml") -> pathlib.Path:
    path = workdir / f"rank{MPI.COMM_WORLD.rank}_{name}"
    path.write_bytes(case.raw if case.raw is not None else toml_text(case.data).encode())
    return path


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``flexotip ARGV`` in this process: exit status, stdout, stderr (rank 0's)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(argv))
    return status, out.getvalue(), err.getvalue()


def messages(err: str) -> list[str]:
    return [line[4:] for line in err.splitlines() if line.startswith("  - ")]


_BLANKS = [
    (re.compile(r"^(\[[^\]]*\]) .*?: unknown key.*", re.S), r"\1 ?: unknown key"),
    (re.compile(r"^\[.*?\]: unknown section.*", re.S), "[?]: unknown section"),
    (re.compile(r"^(\[solve\] petsc_options)\.\S+"), r"\1.?"),
    (re.compile(r"(this config has ).*", re.S), r"\1?"),
    (re.compile(r"'[^']*'|\"[^\"]*\"|datetime\.\w+\([^)]*\)|\b(?:True|False|0x[0-9a-f]+)\b|/[^\s)]+"), "?"),
    (re.compile(r"-?\b(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)\b", re.I), "?"),
    (re.compile(r"\[[?,\s.\[\]]*\]|\{[^{}]*\}"), "?"),
]


def template(message: str) -> str:
    """A message with its values blanked: one per kind of problem."""
    for pattern, blank in _BLANKS:
        message = pattern.sub(blank, message)
    return message


def assert_refused(case: Case, workdir: pathlib.Path, expected: tuple[str, ...]) -> None:
    """``flexotip check`` exits with 2, without a traceback, naming one of ``expected``."""
    status, out, err = run_cli("check", str(write(case, workdir)))
    assert status == cli.EXIT_USER_ERROR, f"accepted:\n{toml_text(case.data)}"
    if MPI.COMM_WORLD.rank == 0:
        assert "Traceback" not in out + err
        found = messages(err)
        assert found, err
        assert any(key in err for key in expected), f"expected {expected} in:\n{err}\n{toml_text(case.data)}"
        MESSAGES.update(map(template, found))


def assert_sound(config: config_module.Config) -> None:
    """What every accepted config satisfies: finite values in range, a tip inside the box."""
    for section in dataclasses.fields(config):
        table = getattr(config, section.name)
        for field in dataclasses.fields(table):
            value, m = getattr(table, field.name), field.metadata
            where = f"[{section.name}] {field.name} = {value!r}"
            if isinstance(value, list) and field.name in ("position", "start", "end", "map_times"):
                assert all(math.isfinite(v) for v in value), where
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            assert math.isfinite(value), where
            if m["choices"] is not None:
                assert value in m["choices"], where
            if m["low"] is not None:
                assert value > m["low"] if m["open_low"] else value >= m["low"], where
            if m["high"] is not None:
                assert value < m["high"] if m["open_high"] else value <= m["high"], where
    film, tip, mesh = config.film, config.tip, config.mesh
    a = config.contact_radius
    assert math.isfinite(a) and a > 0
    assert math.isfinite(config.contact_modulus) and config.contact_modulus > 0
    assert config.material.alpha1 > 0
    assert film.symmetry in ("full", "half", "quarter")
    disc = a * (1 + mesh.contact_band) + tip.edge_radius if tip.load == "contact" else a
    assert max(map(abs, tip.position)) + disc < film.half_width
    assert mesh.contact_size < film.thickness and mesh.contact_size <= 0.5 * a
    assert mesh.contact_size <= mesh.far_size <= film.half_width
    assert config.solve.spectral_modes is not None and config.solve.linear_solver != "auto"
    if config.scanning:
        assert config.scan.end is not None and config.scan.end != config.scan.start
        assert tip.position == config.scan.start and tip.load == "hertz" and tip.bias == 0


# ---------------------------------------------------------------------------------------------
# Files the configs point to


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> pathlib.Path:
    """Valid and invalid tip profiles, and earlier runs' output folders, for the configs."""
    folder = tmp_path_factory.mktemp(f"generated_configs_rank{MPI.COMM_WORLD.rank}")
    r = [float(x) for x in np.linspace(0.0, 40e-9, 41)]
    (folder / "sphere.csv").write_text(
        "# r (m), h (m)\n" + "".join(f"{x!r},{60e-9 - math.sqrt(60e-9**2 - x**2)!r}\n" for x in r))
    (folder / "blunt.csv").write_text("".join(f"{x!r},{x**2 / 400e-9!r}\n" for x in r))
    (folder / "tips").mkdir()
    (folder / "tips" / "cone.txt").write_text("r h\n" + "".join(f"{x!r} {0.5 * x!r}\n" for x in r))
    for name, text in GARBAGE_PROFILES.items():
        (folder / name).write_text(text)
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (folder / "a_folder.csv").mkdir()
    (folder / "run_a").mkdir()
    (folder / "run_a" / config_values.CHECKPOINT_NAME).write_bytes(b"")
    (folder / "run_without_checkpoint").mkdir()
    return folder


# ---------------------------------------------------------------------------------------------
# Valid configs


def floats(low: float, high: float, *, open_low: bool = False, open_high: bool = False):
    return st.floats(low, high, exclude_min=open_low, exclude_max=open_high, allow_nan=False,
                     allow_infinity=False)


WIDE = st.one_of(floats(-1e300, 1e300), st.sampled_from([0.0, -0.0, 1e300, -1e300, 5e-324, -5e-324]))
POSITIVE = st.one_of(floats(1e-300, 1e300), st.sampled_from([5e-324, 1e-300, 1e300, 1.7976931348623157e308]))
FRACTION = floats(0.0, 1.0, open_low=True)  # (0, 1]
BIG_INT = st.one_of(st.integers(0, 10**6), st.just(2**63 - 1))

PETSC_NAMES = ("ksp_rtol", "ksp_type", "pc_type", "snes_max_it", "ksp_monitor", "mat_mumps_icntl_14",
               "pc_factor_mat_solver_type", "block_S_pc_type")
PETSC_VALUE = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), floats(-1e300, 1e300),
                        st.text(st.characters(min_codepoint=32, max_codepoint=0x2fff,
                                              exclude_characters="\x7f"), max_size=8))
PETSC_OPTIONS = st.dictionaries(
    st.sampled_from(PETSC_NAMES + config_values.PETSC_SOLVERS),
    PETSC_VALUE, max_size=3).flatmap(lambda flat: st.fixed_dictionaries(
        {k: (st.dictionaries(st.sampled_from(PETSC_NAMES), PETSC_VALUE, max_size=3)
             if k in config_values.PETSC_SOLVERS else st.just(v)) for k, v in flat.items()}))


def film_modulus(material: dict) -> float:
    """E* (Pa) of the drawn material, as the checks compute it."""
    m = config_module.MaterialConfig(**material)
    if m.elasticity == "isotropic" and (m.young is None or m.poisson is None):
        young, poisson = materials.CubicElasticity(m.c11, m.c12, m.c44).voigt_reuss_hill()
        m = dataclasses.replace(m, young=young if m.young is None else m.young,
                                poisson=poisson if m.poisson is None else m.poisson)
    return materials.contact_modulus(m.elastic_constants(), m.tip_young, m.tip_poisson)


@st.composite
def valid_configs(draw, workdir: pathlib.Path, scan: bool | None = None, coarse: bool = False) -> Case:
    """A valid config by construction: each key in its range, the checks across keys met.

    Args:
        draw: Hypothesis's draw.
        workdir: The folder of the files the config may point to (its own folder).
        scan: Whether it is a scan (None: either).
        coarse: The coarsest cells the rules allow, in a small box, no surface layers and no
            mesh cache (for meshing it).
    """
    data = {name: {} for name in SECTIONS}

    def give(section, key, value):
        data[section][key] = value
        return value

    def pick(section, key, strategy, default):
        """A drawn value (given), or the default (the key left out)."""
        return give(section, key, draw(strategy)) if draw(st.booleans()) else default

    def settle(section, key, value, default):
        """A value the rules fixed: given, or left out when it is the default."""
        if value != default or draw(st.booleans()):
            give(section, key, value)
        return value

    # [material]: a stable film; the keys the stability check does not read drawn freely.
    data["material"].update(draw(st.sampled_from(MATERIALS)))
    pick("material", "name", st.just("SrTiO3"), None)
    pick("material", "temperature", floats(30.5, 2000.0), 300.0)
    pick("material", "alpha1", POSITIVE, None)
    for key in ("alpha11", "alpha12", "Q11", "Q12", "Q44"):
        pick("material", key, WIDE, None)
    pick("material", "eps_background", st.one_of(floats(1.0, 1e300), st.just(1.0)), None)
    pick("material", "lattice_constant", POSITIVE, None)
    pick("material", "tip_young", floats(1e9, 1e13), None)
    pick("material", "tip_poisson", floats(-1.0, 0.5, open_low=True, open_high=True), None)
    modulus = film_modulus(data["material"])

    # What kind of run: these decide which combinations are allowed.
    scanning = draw(st.sampled_from([False, False, True])) if scan is None else scan
    solver = "fem" if scanning else draw(st.sampled_from(["fem", "fem", "spectral"]))
    settle("solve", "solver", solver, "fem")
    spectral = solver == "spectral"
    load = "hertz" if scanning or spectral else draw(st.sampled_from(["hertz", "contact"]))
    settle("tip", "load", load, "hertz")
    shape = draw(st.sampled_from(["sphere", "flat"] + ["profile"] * (load == "contact")))
    settle("tip", "shape", shape, "sphere")
    flexo = settle("physics", "flexoelectric", False if spectral else draw(st.booleans()), True)
    vacancies = settle("physics", "vacancies", True if scanning else draw(st.booleans()), True)
    pick("physics", "electrostriction", st.booleans(), None)
    pick("physics", "flexo_form", st.sampled_from(["P_grad_eps", "eps_grad_P"]), None)
    pick("physics", "landau", st.sampled_from(["linear", "full"]), None)
    bias = 0.0 if scanning or spectral else pick("tip", "bias", st.one_of(floats(-10.0, 10.0), WIDE), 0.0)
    if bias == 0.0 and draw(st.booleans()):
        give("tip", "bias", 0.0)
    air = 0.0
    if not (load == "contact" or spectral or coarse):
        air = pick("film", "air_thickness", st.one_of(st.just(0.0), floats(1e-10, 1e-6)), 0.0)
    electric_bc = "short-circuit" if scanning else draw(
        st.sampled_from(["short-circuit", "open"] + ["air-gap"] * (air > 0)))
    settle("physics", "electric_bc", electric_bc, "short-circuit")

    # [solve] mode and [vacancies] initial: a transient needs something to evolve.
    mode = settle("solve", "mode", "steady" if spectral else draw(st.sampled_from(["steady", "transient"])),
                  "steady")
    initial = "uniform"
    if mode == "transient" or scanning:
        initial = draw(st.sampled_from(["uniform", "step", "from_run"]))
    if mode == "transient" and not flexo and bias == 0.0 and (initial == "uniform" or not vacancies):
        initial = "step"
        vacancies = give("physics", "vacancies", True)
    settle("vacancies", "initial", initial, "uniform")
    if initial == "from_run":
        give("vacancies", "initial_run", draw(st.sampled_from(["run_a", str(workdir / "run_a")])))

    # [tip] and [film]: the contact radius a, the thickness, the box around the tip's path.
    thickness = pick("film", "thickness", floats(20e-9, 60e-9) if coarse else floats(2e-9, 500e-9),
                     config_module.FILM_THICKNESS)
    force = pick("tip", "force", st.one_of(floats(1e-8, 1e-4), st.just(0.0)), config_module.PAPER_FORCE)
    radius = pick("tip", "radius", floats(5e-9, 15e-9) if coarse else floats(1e-9, 1e-6), None)
    radius = radius if radius is not None else config_module.DEFAULT_TIP_RADIUS[shape]
    contact_radius = pick("tip", "contact_radius", floats(5e-9, 15e-9) if coarse else floats(1e-9, 100e-9),
                          None)
    if contact_radius is None and shape != "flat" and (force == 0.0 or coarse):
        contact_radius = give("tip", "contact_radius", draw(floats(5e-9, 15e-9)))
    if shape == "profile":
        profile = give("tip", "profile", draw(st.sampled_from(VALID_PROFILES)))
    edge_radius = 0.0
    if shape == "flat" and load == "contact":
        edge_radius = pick("tip", "edge_radius", floats(0.0, (0.3 if coarse else 0.9) * radius), 0.0)
    contact_band = pick("mesh", "contact_band", floats(0.0, 1.0), 0.25)
    if contact_radius is not None:
        a = contact_radius
    elif shape == "flat":
        a = radius
    elif shape == "profile":
        a = float(tips.ProfileTip.from_file(workdir / profile).predicted_contact_radius(force, modulus))
    else:
        a = hertz_contact_radius(force, radius, modulus)

    # The mesh's contact disc: the contact, or the solved contact's refined band around it.
    disc = a * (1.0 + contact_band) + edge_radius if load == "contact" else a
    symmetry = draw(st.sampled_from(["auto", "full", "half", "quarter"]))
    reach_of = floats(0.0, 2.0 if coarse else 20.0).map(lambda u: u * a)
    if scanning:
        along_axis = draw(st.booleans())
        x0, x1 = (0.0, 0.0) if along_axis else (draw(reach_of), -draw(reach_of))
        y0, y1 = draw(reach_of), -draw(floats(1e-3, 2.0 if coarse else 20.0)) * a
        lines = draw(st.integers(1, 2) if coarse else st.one_of(st.just(1), st.integers(1, 5), st.just(1000)))
        spacing = pick("scan", "line_spacing", floats(1e-12, 2.0 * a), 0.0)
        if lines > 1 and spacing == 0.0:
            spacing = give("scan", "line_spacing", draw(floats(1e-12, 2.0 * a)))
        give("scan", "start", [x0, y0])
        give("scan", "end", [x1, y1])
        settle("scan", "lines", lines, 1)
        points = [p for line in config_checks.scan_lines((x0, y0), (x1, y1), lines, spacing) for p in line]
        reach = max(abs(c) for p in points for c in p) + disc
        if draw(st.booleans()):
            give("tip", "position", [x0, y0])
        symmetry = "half" if symmetry in ("half", "quarter") and along_axis and lines == 1 else (
            "full" if symmetry in ("half", "quarter") else symmetry)
        pick("scan", "speed", POSITIVE, None)
        pick("scan", "passes", st.sampled_from(["trace", "trace-retrace"]), None)
        pick("scan", "force_on", st.sampled_from(["both", "trace"]), None)
        pick("scan", "step_fraction", FRACTION, None)
        pick("scan", "frames", st.integers(2, 1000), None)
        pick("scan", "reference", st.booleans(), None)
    else:
        x, y = draw(reach_of), draw(reach_of)
        x, y = {"quarter": (0.0, 0.0), "half": (0.0, y)}.get(symmetry, (x, y))
        if (x, y) != (0.0, 0.0) or draw(st.booleans()):
            give("tip", "position", [x, y])
        reach = max(abs(x), abs(y)) + disc
    settle("film", "symmetry", symmetry, "auto")
    half_width = give("film", "half_width", reach * draw(floats(1.5, 3.0) if coarse else floats(1.01, 100.0)))
    pick("film", "substrate_thickness", floats(20e-9, 60e-9) if coarse else floats(1e-9, 1e-5), None)

    # [mesh]: cells finer than the film and the contact, coarser than nothing in the box.
    if coarse:
        contact_size = give("mesh", "contact_size", 0.999 * min(0.5 * a, thickness))
        far_size = give("mesh", "far_size", half_width)
        give("mesh", "growth", 1.0)
        give("mesh", "cache", False)
    else:
        contact_size = 0.5e-9
        if not (contact_size <= 0.5 * a and contact_size < thickness) or draw(st.booleans()):
            finest = min(0.5 * a, 0.99 * thickness)
            contact_size = give("mesh", "contact_size", finest * draw(floats(0.01, 0.999)))
        far_size = 50e-9
        if not contact_size <= far_size <= half_width or draw(st.booleans()):
            far_size = contact_size + (half_width - contact_size) * draw(floats(0.0, 1.0))
            far_size = give("mesh", "far_size", min(half_width, far_size))
        pick("mesh", "growth", FRACTION, None)
        pick("mesh", "cache", st.booleans(), None)
    surface_layers = not coarse and draw(st.booleans())
    defaults_fit = 2.5e-11 <= contact_size and 3e-9 < thickness
    if surface_layers and not (defaults_fit and draw(st.booleans())):
        sensing = give("vacancies", "sensing_depth", thickness * draw(floats(0.01, 0.5)))
        give("mesh", "surface_depth", sensing + (thickness - sensing) * draw(floats(0.01, 0.99)))
        give("mesh", "surface_size", min(contact_size, sensing) * draw(FRACTION))
        pick("mesh", "surface_growth", floats(1.0, 3.0, open_low=True), None)
    elif not surface_layers:
        give("mesh", "surface_size", 0.0)
        pick("vacancies", "sensing_depth", POSITIVE, None)
        pick("mesh", "surface_depth", POSITIVE, None)
    pick("mesh", "degree", st.sampled_from([1, 2]), None)
    pick("mesh", "polarization_element", st.sampled_from(["lagrange", "bubble"]), None)
    pick("mesh", "remesh", st.booleans(), None)

    # [vacancies], [solve], [output]: the rest, with the times consistent.
    pick("vacancies", "c0", POSITIVE, None)
    pick("vacancies", "diffusivity", POSITIVE, None)
    pick("vacancies", "charge", st.sampled_from([1, 2]), None)
    pick("vacancies", "surface", st.sampled_from(["blocking", "fixed"]), None)
    pick("vacancies", "first_step", POSITIVE, None)
    pick("vacancies", "time_tolerance", FRACTION, None)
    pick("vacancies", "quasi_steady_rtol", floats(0.0, 1.0, open_low=True, open_high=True), None)
    pick("vacancies", "max_steps", st.one_of(st.integers(1, 10**6), st.just(2**63 - 1)), None)
    pick("vacancies", "step_x", WIDE, None)
    pick("vacancies", "step_excess", floats(0.0, 100.0, open_low=True), None)
    pick("vacancies", "step_depth", POSITIVE, None)
    t_end = None if scanning else pick("solve", "t_end", floats(1e-12, 1e12), None)
    pick("solve", "dt", floats(1e-15, t_end if t_end is not None else 1e6), None)
    if mode == "transient" and vacancies and not scanning:
        times = st.lists(floats(1e-12, t_end if t_end is not None else 1e6), unique=True, max_size=4)
        pick("output", "map_times", times.map(sorted), None)
    pick("solve", "spectral_modes", st.integers(8, 4096), None)
    pick("solve", "polarization_dynamics", st.sampled_from(["tdgl", "quasi_static"]), None)
    pick("solve", "electromechanics_solver", st.sampled_from(["direct", "block"]), None)
    pick("solve", "tdgl_kinetic_coefficient", POSITIVE, None)
    pick("solve", "quasi_steady_rtol", floats(0.0, 1.0, open_low=True, open_high=True), None)
    pick("solve", "linear_solver", st.sampled_from(["auto", "iterative", "direct"]), None)
    pick("solve", "contact_gamma", POSITIVE, None)
    pick("solve", "contact_theta", st.sampled_from([1, 0, -1]), None)
    pick("solve", "contact_force_rtol", floats(0.0, 0.1, open_low=True), None)
    pick("solve", "petsc_options", PETSC_OPTIONS, None)
    choices = FIELDS["output"]["fields"].metadata["choices"]
    pick("output", "fields", st.lists(st.sampled_from(choices), unique=True), None)
    pick("output", "format", st.sampled_from(["vtx", "xdmf", "vtkhdf"]), None)
    pick("output", "checkpoint_interval", st.one_of(st.just(0.0), POSITIVE), None)
    pick("output", "checkpoint_steps", BIG_INT, None)

    keep_empty = draw(st.booleans())
    data = {name: table for name, table in data.items() if table or keep_empty}
    ctx = {"a": a, "thickness": thickness, "half_width": half_width, "reach": reach, "shape": shape,
           "radius": radius, "contact_size": contact_size, "far_size": far_size, "scanning": scanning,
           "load": load}
    return Case(data, ctx)


# ---------------------------------------------------------------------------------------------
# Mutations: each makes a valid config invalid and returns the keys its message may name.


def kind(field: dataclasses.Field) -> str:
    """How a key is checked: its kind of value."""
    special = {"position": "point", "start": "point", "end": "point", "fields": "fields",
               "map_times": "map_times", "petsc_options": "petsc", "profile": "path", "initial_run": "path"}
    if field.name in special:
        return special[field.name]
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    annotation = str(field.type)
    if isinstance(default, bool):
        return "bool"
    if "str" in annotation:
        return "str"
    return "int" if annotation.startswith("int") else "float"


KEYS = {section: [(section, key) for key in fields] for section, fields in FIELDS.items()}
NUMBER_KINDS = ("int", "float", "point", "map_times")

SCALARS = st.one_of(st.integers(-5, 5), floats(-1.0, 1.0), st.text(max_size=4), st.booleans())
BAD_PETSC = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=2),
    st.tuples(st.sampled_from(["-ksp_rtol", "ksp rtol", "", "ksp.rtol", "é"]), SCALARS).map(
        lambda item: dict([item])),
    st.sampled_from(["mechanics", "solver", "MECH", "em2"]).map(lambda name: {name: {"ksp_rtol": 1e-9}}),
    st.sampled_from([math.nan, math.inf, -math.inf, [1], {"a": {"b": 1}}, dt.date(2020, 1, 1),
                     "lu\n", "x\x00", 10**400]).map(lambda value: {"ksp_rtol": value}),
    st.sampled_from(config_values.PETSC_SOLVERS).map(lambda name: {name: {"pc_type": [1, 2]}}),
)
WRONG = {
    "bool": st.one_of(st.integers(0, 1), st.sampled_from(["true", "yes", "on"]), floats(0.0, 1.0),
                      st.lists(st.booleans(), max_size=2), st.dates()),
    "str": st.one_of(st.integers(), floats(-1e300, 1e300), st.booleans(),
                     st.lists(st.text(max_size=3), max_size=2), st.dates(),
                     st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2)),
    "int": st.one_of(floats(-1e300, 1e300), st.text(max_size=4), st.booleans(),
                     st.lists(st.integers(), max_size=2), st.datetimes(), st.just("1")),
    "float": st.one_of(st.text(max_size=5), st.booleans(), st.lists(floats(0.0, 1.0), max_size=2), st.dates(),
                       st.times(), st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2),
                       st.just("4 uN")),
    "point": st.one_of(floats(-1e-8, 1e-8), st.lists(floats(-1e-8, 1e-8), max_size=1),
                       st.lists(floats(-1e-8, 1e-8), min_size=3, max_size=4),
                       st.tuples(st.text(max_size=2), floats(-1e-8, 1e-8)).map(list),
                       st.sampled_from([[True, 0.0], [0.0, False], [[0.0], 0.0], {"x": 0.0, "y": 0.0}])),
    "fields": st.one_of(st.sampled_from(["displacement", "stress"]),
                        st.lists(st.integers(), min_size=1, max_size=2),
                        st.lists(st.text(max_size=6).filter(
                            lambda s: s not in FIELDS["output"]["fields"].metadata["choices"]),
                            min_size=1, max_size=2), st.just([["displacement"]])),
    "map_times": st.one_of(floats(1.0, 2.0), floats(1e-6, 1.0).map(lambda t: [t, t]),
                           st.sampled_from([[0.0], [-1.0], [1.0, 0.5], ["1"], [True], [1.0, math.nan],
                                            [math.inf]])),
    "petsc": BAD_PETSC,
    "path": st.one_of(st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2),
                      floats(-1.0, 1.0)),
}


def _generic(pick_keys, make_value):
    """A mutation of one key of a section, drawn from ``pick_keys``, to ``make_value(draw, field)``."""
    def mutate(draw, case: Case, section: str) -> tuple[str, ...]:
        keys = pick_keys(section)
        section, key = draw(st.sampled_from(keys))
        field = FIELDS[section][key]
        value = make_value(draw, field)
        table = case.data.get(section)
        case.data[section] = {**(table if isinstance(table, dict) else {}), key: value}
        return (f"[{section}] {key}",)
    return mutate


def _non_finite(draw, field):
    bad = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    k = kind(field)
    if k == "point":
        return draw(st.sampled_from([[bad, 0.0], [0.0, bad]]))
    return [1.0, bad] if k == "map_times" else bad


def _out_of_range(draw, field):
    m = field.metadata
    options = []
    if kind(field) == "int":
        if m["choices"] is not None:
            options.append(st.integers(-2**63, 2**63 - 1).filter(lambda v: v not in m["choices"]))
        if m["low"] is not None:
            options.append(st.integers(-2**63, int(m["low"]) - 1))
        if m["high"] is not None:
            options.append(st.integers(int(m["high"]) + 1, 2**63 - 1))
    else:
        if m["low"] is not None:
            options.append(st.floats(-1.7976931348623157e308, m["low"], exclude_max=not m["open_low"]))
            options.append(st.just(-1e308))
        if m["high"] is not None:
            options.append(st.floats(m["high"], 1.7976931348623157e308, exclude_min=not m["open_high"]))
            options.append(st.just(1e308))
        options.append(st.integers(10**309, 10**400))  # a TOML integer beyond the floats
    return draw(st.one_of(options))


def _bad_choice(draw, field):
    return draw(st.text(max_size=12).filter(lambda s: s not in field.metadata["choices"]))


def _ranged(section):
    return [(s, k) for s, k in KEYS[section] if kind(FIELDS[s][k]) in ("int", "float") and (
        FIELDS[s][k].metadata["low"] is not None or FIELDS[s][k].metadata["high"] is not None
        or FIELDS[s][k].metadata["choices"] is not None)]


GENERIC = {
    "wrong_type": (lambda section: KEYS[section], lambda draw, field: draw(WRONG[kind(field)])),
    "non_finite": (lambda section: [(s, k) for s, k in KEYS[section] if kind(FIELDS[s][k]) in NUMBER_KINDS],
                   _non_finite),
    "out_of_range": (_ranged, _out_of_range),
    "bad_choice": (lambda section: [(s, k) for s, k in KEYS[section] if kind(FIELDS[s][k]) == "str"
                                    and FIELDS[s][k].metadata["choices"] is not None], _bad_choice),
}
GENERIC_CASES = [(f"{name}-{section}", None, _generic(*GENERIC[name]), section)
                 for name in GENERIC for section in SECTIONS if GENERIC[name][0](section)]

IDENTIFIER = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True),
                       st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=6))


def unknown_key(draw, case, section):
    name = draw(IDENTIFIER.filter(lambda s: s not in FIELDS[section]))
    case.data[section] = {**case.data.get(section, {}), name: draw(SCALARS)}
    return (f"[{section}] {name}: unknown key",)


def unknown_section(draw, case, section):
    name = draw(IDENTIFIER.filter(lambda s: s not in SECTIONS))
    case.data[name] = draw(st.one_of(st.dictionaries(IDENTIFIER, SCALARS, max_size=2), SCALARS))
    return (f"[{name}]: unknown section",)


def not_a_table(draw, case, section):
    case.data[section] = draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=2)))
    return (f"[{section}] must be a table",)


def _set(case: Case, **tables) -> None:
    """Set keys: ``_set(case, tip={"shape": "flat"})``; a value ``OMIT`` removes the key."""
    for section, values in tables.items():
        table = case.data.setdefault(section, {})
        for key, value in values.items():
            if value is OMIT:
                table.pop(key, None)
            else:
                table[key] = value


def tip_wider_than_box(draw, case):
    _set(case, tip={"contact_radius": case.ctx["half_width"] * draw(floats(1.0, 1e3))})
    return ("[film] half_width",)


def box_narrower_than_path(draw, case):
    _set(case, film={"half_width": case.ctx["reach"] * draw(floats(1e-3, 1.0))})
    return ("[film] half_width",)


def contact_band_beyond_box(draw, case):
    a = case.ctx["a"]
    x, y = case.data.get("tip", {}).get("position", [0.0, 0.0])
    _set(case, tip={"load": "contact", "shape": "sphere", "profile": OMIT, "edge_radius": OMIT,
                    "contact_radius": a},
         film={"air_thickness": 0.0, "half_width": max(abs(x), abs(y)) + a * draw(floats(1.001, 1.999))},
         mesh={"contact_band": 1.0})
    return ("[mesh] contact_band",)


def mesh_coarser_than_film(draw, case):
    _set(case, mesh={"contact_size": case.ctx["thickness"] * draw(floats(1.0, 1e3))})
    return ("[mesh] contact_size",)


def mesh_coarser_than_contact(draw, case):
    _set(case, mesh={"contact_size": 0.5 * case.ctx["a"] * draw(floats(1.001, 1e3))})
    return ("[mesh] contact_size",)


def far_cells_finer_than_contact(draw, case):
    _set(case, mesh={"far_size": case.ctx["contact_size"] * draw(floats(1e-3, 0.999))})
    return ("[mesh] far_size",)


def far_cells_wider_than_box(draw, case):
    _set(case, mesh={"far_size": case.ctx["half_width"] * draw(floats(1.001, 1e3))})
    return ("[mesh] far_size",)


def surface_layer_thicker_than_cells(draw, case):
    _set(case, mesh={"surface_size": case.ctx["contact_size"] * draw(floats(1.001, 1e3))})
    return ("[mesh] surface_size",)


def surface_depth_outside(draw, case):
    thickness = case.ctx["thickness"]
    sensing = 0.3 * thickness
    depth = draw(st.one_of(floats(0.0, 1.0, open_low=True).map(lambda u: u * sensing),
                           floats(1.0, 10.0).map(lambda k: k * thickness)))
    _set(case, vacancies={"sensing_depth": sensing},
         mesh={"surface_size": 0.5 * min(case.ctx["contact_size"], sensing), "surface_depth": depth})
    return ("[mesh] surface_depth",)


def surface_layer_below_sensing_depth(draw, case):
    thickness = case.ctx["thickness"]
    size = 0.5 * min(case.ctx["contact_size"], 0.3 * thickness)
    _set(case, vacancies={"sensing_depth": size * draw(floats(0.01, 0.999))},
         mesh={"surface_size": size, "surface_depth": 0.5 * thickness})
    return ("[mesh] surface_size",)


def symmetry_with_off_axis_tip(draw, case):
    symmetry = draw(st.sampled_from(["half", "quarter"]))
    offset = case.ctx["a"] * draw(floats(1e-3, 1.0))
    x, y = (offset, 0.0) if symmetry == "half" or draw(st.booleans()) else (0.0, offset)
    _set(case, film={"symmetry": symmetry}, tip={"position": [x, y]})
    return ("[tip] position",)


def spectral_with_what_it_cannot_solve(draw, case):
    conflict = draw(st.sampled_from([
        {"tip": {"bias": draw(floats(1e-3, 10.0))}}, {"physics": {"flexoelectric": True}},
        {"tip": {"load": "contact"}}, {"film": {"air_thickness": 1e-9}}, {"solve": {"mode": "transient"}}]))
    _set(case, solve={"solver": "spectral", **conflict.pop("solve", {})}, **conflict)
    return ("[solve] solver",)


def _profile_tip(case, **tip):
    _set(case, tip={"shape": "profile", "load": "contact", **tip}, film={"air_thickness": 0.0})


def profile_file_missing(draw, case):
    _profile_tip(case, profile=draw(st.sampled_from(["nope.csv", "missing/tip.csv", "a_folder.csv"])))
    return ("[tip] profile",)


def profile_file_garbage(draw, case):
    name = draw(st.sampled_from([*GARBAGE_PROFILES, "binary.csv"]))
    # A given contact radius must not skip reading the file.
    _profile_tip(case, profile=name, contact_radius=draw(st.sampled_from([OMIT, 0.5 * case.ctx["a"]])))
    return ("[tip] profile",)


def profile_shape_without_file(draw, case):
    _profile_tip(case, profile=OMIT)
    return ("[tip] shape",)


def profile_with_prescribed_load(draw, case):
    _profile_tip(case, profile=draw(st.sampled_from(VALID_PROFILES)), load="hertz")
    return ("[tip] shape",)


def profile_file_on_another_shape(draw, case):
    _set(case, tip={"shape": draw(st.sampled_from(["sphere", "flat"])),
                    "profile": draw(st.sampled_from(VALID_PROFILES))})
    return ("[tip] profile",)


def edge_radius_on_a_sphere(draw, case):
    _set(case, tip={"shape": "sphere", "edge_radius": draw(floats(1e-12, 1e-6))})
    return ("[tip] edge_radius",)


def edge_radius_with_prescribed_load(draw, case):
    _set(case, tip={"shape": "flat", "load": "hertz", "radius": 15e-9,
                    "edge_radius": draw(floats(1e-12, 14e-9))})
    return ("[tip] edge_radius",)


def edge_radius_beyond_punch(draw, case):
    _set(case, tip={"shape": "flat", "load": "contact", "radius": 15e-9,
                    "edge_radius": draw(floats(15e-9, 1e-6))},
         film={"air_thickness": 0.0})
    return ("[tip] edge_radius",)


def isotropic_moduli_on_cubic(draw, case):
    key = draw(st.sampled_from(["young", "poisson"]))
    value = draw(floats(1e9, 1e12) if key == "young" else floats(-0.9, 0.49))
    _set(case, material={"elasticity": "cubic", key: value})
    return (f"[material] {key}",)


def unstable_cubic_constants(draw, case):
    c11 = draw(floats(1e10, 1e12))
    c12 = c11 * draw(st.one_of(floats(1.0, 10.0), floats(-10.0, -0.5)))
    _set(case, material={"elasticity": draw(st.sampled_from(["cubic", "isotropic"])), "c11": c11, "c12": c12,
                         "young": OMIT})
    return ("[material] c11",)


def flexocoupling_beyond_gradient_energy(draw, case):
    _set(case, physics={"flexoelectric": True},
         material={"f11": draw(st.sampled_from([30.0, 100.0, -1000.0]))})
    return ("[material] f11",)


def flexo_constants_that_overflow(draw, case):
    big = draw(st.sampled_from([{"f11": 1e200}, {"G11": 1e308, "G12": 1e308, "G44": 1e308},
                                {"f44": -1e250, "G44": 1e300}]))
    _set(case, physics={"flexoelectric": True}, material=big)
    return ("[material] f11",)


def moduli_that_overflow(draw, case):
    choice = draw(st.sampled_from(["c11", "young", "tip_young"]))
    # With a tip of finite modulus, E* is finite however stiff the film.
    material = {"c11": {"elasticity": "cubic", "c11": draw(st.sampled_from([1e200, 1e308])),
                        "tip_young": OMIT},
                "young": {"elasticity": "isotropic", "young": draw(st.sampled_from([1e300, 1e308])),
                          "tip_young": OMIT},
                "tip_young": {"tip_young": 5e-324}}[choice]  # (1 - ν²)/E_tip overflows: E* = 0
    _set(case, material=material)
    return ("[material] c11" if choice == "c11" else choice,)


def paraelectric_alpha1(draw, case):
    _set(case, material={"alpha1": draw(st.one_of(st.just(0.0), floats(-1e300, 0.0)))})
    return ("[material] alpha1",)


def too_cold_for_barrett(draw, case):
    _set(case, material={"temperature": draw(floats(0.0, 30.0, open_low=True)), "alpha1": OMIT})
    return ("[material] temperature",)


def air_under_solved_contact(draw, case):
    _set(case, tip={"load": "contact", "shape": "sphere", "profile": OMIT},
         film={"air_thickness": draw(floats(1e-12, 1e-6))})
    return ("[film] air_thickness",)


def air_gap_without_air(draw, case):
    _set(case, physics={"electric_bc": "air-gap"}, film={"air_thickness": draw(st.sampled_from([0.0, OMIT]))})
    return ("[physics] electric_bc",)


def transient_with_nothing_to_evolve(draw, case):
    _set(case, solve={"mode": "transient"}, physics={"flexoelectric": False}, tip={"bias": 0.0},
         vacancies={"initial": "uniform", "initial_run": OMIT})
    return ("[solve] mode",)


def first_step_beyond_end(draw, case):
    t_end = draw(floats(1e-9, 1e3))
    _set(case, solve={"t_end": t_end, "dt": t_end * draw(floats(1.001, 1e3))})
    return ("[solve] dt",)


def map_times_in_a_steady_state(draw, case):
    _set(case, solve={"mode": "steady"}, output={"map_times": [1.0, 2.0]})
    return ("[output] map_times",)


def map_times_after_end(draw, case):
    t_end = draw(floats(1e-6, 1e3))
    _set(case, solve={"mode": "transient", "t_end": t_end},
         physics={"vacancies": True, "flexoelectric": True},
         output={"map_times": [t_end * draw(floats(1.001, 10.0))]})
    return ("[output] map_times",)


def initial_vacancies_in_a_steady_state(draw, case):
    _set(case, solve={"mode": "steady"}, vacancies={"initial": "step", "initial_run": OMIT})
    return ("[vacancies] initial",)


def from_run_without_folder(draw, case):
    _set(case, solve={"mode": "transient"}, vacancies={"initial": "from_run", "initial_run": OMIT})
    return ("[vacancies] initial",)


def folder_without_from_run(draw, case):
    _set(case, vacancies={"initial": draw(st.sampled_from(["uniform", "step"])), "initial_run": "run_a"})
    return ("[vacancies] initial_run",)


def folder_without_checkpoint(draw, case):
    _set(case, solve={"mode": "transient"},
         vacancies={"initial": "from_run",
                    "initial_run": draw(st.sampled_from(["run_without_checkpoint", "no_such_run",
                                                         "sphere.csv"]))})
    return ("[vacancies] initial_run",)


def no_force_no_contact_radius(draw, case):
    shape = draw(st.sampled_from(["sphere", "profile"]))
    tip = {"force": 0.0, "contact_radius": OMIT, "shape": shape}
    if shape == "profile":
        tip |= {"load": "contact", "profile": draw(st.sampled_from(VALID_PROFILES))}
    _set(case, tip=tip, film={"air_thickness": 0.0})
    return ("[tip] force",)


def contact_radius_that_overflows(draw, case):
    _set(case, tip={"shape": "sphere", "profile": OMIT, "contact_radius": OMIT, "force": 1e308,
                    "radius": draw(st.sampled_from([1e300, 1e308]))})
    return ("[film] half_width",)


def contact_radius_that_underflows(draw, case):
    _set(case, tip={"contact_radius": draw(st.sampled_from([5e-324, 1e-300, 1e-200]))})
    return ("[mesh] contact_size",)


def scan_without_end(draw, case):
    _set(case, scan={"end": OMIT})
    return ("[scan] start",)


def scan_ending_where_it_starts(draw, case):
    _set(case, scan={"end": list(case.data["scan"]["start"])})
    return ("[scan] end",)


def scan_end_without_start(draw, case):
    _set(case, scan={"start": OMIT}, tip={"position": OMIT}, film={"symmetry": "full"})
    return ("[scan] end",)


def raster_without_spacing(draw, case):
    _set(case, scan={"lines": draw(st.integers(2, 1000)), "line_spacing": draw(st.sampled_from([0.0, OMIT]))})
    return ("[scan] line_spacing",)


def scan_with_solved_contact(draw, case):
    _set(case, tip={"load": "contact", "shape": "sphere", "profile": OMIT})
    return ("[tip] load",)


def scan_with_bias(draw, case):
    _set(case, tip={"bias": draw(st.one_of(floats(1e-6, 10.0), floats(-10.0, -1e-6)))})
    return ("[tip] bias",)


def scan_with_open_top(draw, case):
    _set(case, physics={"electric_bc": draw(st.sampled_from(["open", "air-gap"]))},
         film={"air_thickness": 1e-9})
    return ("[physics] electric_bc",)


def scan_with_spectral_solver(draw, case):
    _set(case, solve={"solver": "spectral"})
    return ("[solve] solver",)


def scan_with_end_time(draw, case):
    _set(case, solve={"t_end": draw(floats(1e-9, 1e3))})
    return ("[solve] t_end",)


def scan_without_vacancies(draw, case):
    _set(case, physics={"vacancies": False})
    return ("[physics] vacancies",)


def scan_from_elsewhere(draw, case):
    x, y = case.data["scan"]["start"]
    _set(case, tip={"position": [x + case.ctx["a"] * draw(floats(1e-3, 1.0)), y]})
    return ("[tip] position",)


def scan_on_a_symmetry_plane_it_leaves(draw, case):
    symmetry = draw(st.sampled_from(["quarter", "half"]))
    start, end = case.data["scan"]["start"], case.data["scan"]["end"]
    if symmetry == "half" and start[0] == end[0] == 0.0:
        _set(case, scan={"end": [0.5 * case.ctx["a"], end[1]]})
    _set(case, film={"symmetry": symmetry})
    return ("[film] symmetry",)


def scan_leaving_the_box(draw, case):
    _set(case, scan={"end": [case.ctx["half_width"] * draw(floats(1.0, 1e3)), 0.0]})
    return ("[film] half_width",)


def scan_with_map_times(draw, case):
    _set(case, solve={"mode": "transient"}, output={"map_times": [1.0]})
    return ("[output] map_times",)


def bad_petsc_options(draw, case):
    _set(case, solve={"petsc_options": draw(BAD_PETSC)})
    return ("[solve] petsc_options",)


def not_toml(draw, case):
    garbage = draw(st.sampled_from(["[tip\nforce = 1\n", "x = = 1\n", "[tip]\nforce = 'unterminated\n",
                                    "[tip]\nforce = 1\nforce = 2\n", "[tip]\nforce = 1" + "0" * 5000 + "\n"]))
    case.raw = (toml_text(case.data) + garbage).encode()
    return ("not valid TOML",)


def not_text(draw, case):
    case.raw = draw(st.binary(min_size=1, max_size=64)) + b"\xff\xfe" + toml_text(case.data).encode()
    return ("cannot read",)


SECTION_CASES = [(f"{f.__name__}-{section}", None, f, section)
                 for f in (unknown_key, not_a_table) for section in SECTIONS] + [
    ("unknown_section", None, unknown_section, None)]
COMBINATIONS = [
    (None, [tip_wider_than_box, box_narrower_than_path, mesh_coarser_than_film, mesh_coarser_than_contact,
            far_cells_finer_than_contact, far_cells_wider_than_box, surface_layer_thicker_than_cells,
            surface_depth_outside, surface_layer_below_sensing_depth, profile_file_missing,
            profile_file_garbage, profile_shape_without_file, profile_with_prescribed_load,
            profile_file_on_another_shape, edge_radius_on_a_sphere, edge_radius_with_prescribed_load,
            edge_radius_beyond_punch, isotropic_moduli_on_cubic, unstable_cubic_constants,
            flexocoupling_beyond_gradient_energy, flexo_constants_that_overflow, moduli_that_overflow,
            paraelectric_alpha1, too_cold_for_barrett, air_under_solved_contact, air_gap_without_air,
            transient_with_nothing_to_evolve, first_step_beyond_end, map_times_in_a_steady_state,
            folder_without_from_run, folder_without_checkpoint, no_force_no_contact_radius,
            contact_radius_that_overflows, contact_radius_that_underflows, bad_petsc_options, not_toml,
            not_text]),
    (False, [contact_band_beyond_box, symmetry_with_off_axis_tip, spectral_with_what_it_cannot_solve,
             map_times_after_end, initial_vacancies_in_a_steady_state, from_run_without_folder]),
    (True, [scan_without_end, scan_ending_where_it_starts, scan_end_without_start, raster_without_spacing,
            scan_with_solved_contact, scan_with_bias, scan_with_open_top, scan_with_spectral_solver,
            scan_with_end_time, scan_without_vacancies, scan_from_elsewhere,
            scan_on_a_symmetry_plane_it_leaves, scan_leaving_the_box, scan_with_map_times]),
]
MUTATIONS = GENERIC_CASES + SECTION_CASES + [
    (f.__name__, scan, lambda draw, case, _, f=f: f(draw, case), None)
    for scan, fs in COMBINATIONS for f in fs]


# ---------------------------------------------------------------------------------------------
# The tests


@settings(max_examples=N_VALID, **SETTINGS)
@given(data=st.data())
def test_valid_configs_pass_and_round_trip(workdir, data):
    case = data.draw(valid_configs(workdir))
    path = write(case, workdir)
    status, out, err = run_cli("check", str(path))
    assert status == 0, f"{err}\n{toml_text(case.data)}"
    config = config_module.load(path)
    assert_sound(config)
    resolved = workdir / f"rank{MPI.COMM_WORLD.rank}_resolved.toml"
    resolved.write_text(config_module.to_toml(config))
    assert config_module.load(resolved) == config
    if MPI.COMM_WORLD.rank == 0:
        assert "Traceback" not in out + err
        assert out.startswith(config_module.to_toml(config))
    COUNTS["valid"] += 1


@pytest.mark.parametrize(("scan", "mutate", "section"), [m[1:] for m in MUTATIONS],
                         ids=[m[0] for m in MUTATIONS])
def test_invalid_configs_are_refused_by_name(workdir, scan, mutate, section):
    @settings(max_examples=N_PER_MUTATION, **SETTINGS)
    @given(data=st.data())
    def refused(data):
        case = data.draw(valid_configs(workdir, scan=scan))
        expected = mutate(data.draw, case, section)
        assert_refused(case, workdir, expected)
        COUNTS["invalid"] += 1

    refused()


def _chaos(field: dataclasses.Field):
    """Any value at all for a key: its kind's extremes, other kinds, other keys' choices."""
    choices = sorted({str(c) for fields in FIELDS.values() for f in fields.values()
                      for c in (f.metadata["choices"] or ())})
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    in_range = [st.just(default)] if default is not None else []
    if field.metadata["choices"] is not None and field.name != "fields":
        in_range.append(st.sampled_from(field.metadata["choices"]))
    elif kind(field) == "float":
        low, high = field.metadata["low"], field.metadata["high"]
        in_range.append(floats(-1e300 if low is None else low, 1e300 if high is None else high,
                               open_low=field.metadata["open_low"], open_high=field.metadata["open_high"]))
    return st.one_of(
        *in_range,
        st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e-9, 0.5, 1.0, 2.0, 30.0, 1e300, 1e308, -1e308,
                         math.nan, math.inf, -math.inf, 0, 1, 2, -1, 8, 4096, 2**63 - 1, 10**400]),
        st.floats(), st.integers(-2**63, 2**63 - 1), st.booleans(), st.sampled_from(choices),
        st.text(max_size=6), st.lists(st.one_of(st.floats(), st.integers(-3, 3)), max_size=3),
        st.dictionaries(st.sampled_from(["ksp_rtol", "mech", "x", "-pc"]),
                        st.one_of(st.integers(0, 3), st.floats()), max_size=2),
        st.dates())


@st.composite
def perturbed_configs(draw, workdir):
    case = draw(valid_configs(workdir))
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(list(SECTIONS)))
        key = draw(st.one_of(st.sampled_from(list(FIELDS[section])), IDENTIFIER))
        field = FIELDS[section].get(key)
        value = draw(_chaos(field) if field is not None else SCALARS)
        table = case.data.get(section)
        case.data[section] = {**(table if isinstance(table, dict) else {}), key: value}
    return case


@settings(max_examples=N_PERTURBED, **SETTINGS)
@given(data=st.data())
def test_perturbed_configs_are_refused_cleanly_or_sound(workdir, data):
    case = data.draw(perturbed_configs(workdir))
    path = write(case, workdir)
    status, out, err = run_cli("check", str(path))
    assert status in (0, cli.EXIT_USER_ERROR)
    if MPI.COMM_WORLD.rank == 0:
        assert "Traceback" not in out + err
    if status == 0:
        config = config_module.load(path)
        assert_sound(config)
        resolved = workdir / f"rank{MPI.COMM_WORLD.rank}_resolved.toml"
        resolved.write_text(config_module.to_toml(config))
        assert config_module.load(resolved) == config
        COUNTS["perturbed_valid"] += 1
        return
    found = messages(err)
    if MPI.COMM_WORLD.rank == 0:
        assert found and all(message.startswith("[") for message in found), err
        MESSAGES.update(map(template, found))
    COUNTS["perturbed_invalid"] += 1


@settings(max_examples=N_MESHED, **SETTINGS)
@given(data=st.data())
def test_coarse_valid_configs_mesh(workdir, data):
    case = data.draw(valid_configs(workdir, coarse=True))
    path = write(case, workdir, f"coarse{COUNTS['meshed']}.toml")
    out = workdir / f"mesh{COUNTS['meshed']}"
    status, _, err = run_cli("mesh", str(path), "--out", str(out), "--quiet")
    assert status == 0, f"{err}\n{toml_text(case.data)}"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["n_cells"] > 0
    assert summary["mesh_from_cache"] is False
    COUNTS["meshed"] += 1


def test_generated_config_count():
    """The totals over the tests above (run in this process, in file order)."""
    invalid = COUNTS["invalid"] + COUNTS["perturbed_invalid"]
    valid = COUNTS["valid"] + COUNTS["perturbed_valid"]
    perturbed = COUNTS["perturbed_valid"] + COUNTS["perturbed_invalid"]
    if not (COUNTS["valid"] and COUNTS["invalid"] and perturbed):
        pytest.skip("the generating tests did not all run in this process")
    print(f"generated configs: {valid + invalid} ({invalid} invalid, {valid} valid; of these "
          f"{COUNTS['perturbed_invalid'] + COUNTS['perturbed_valid']} perturbed at random, "
          f"{COUNTS['perturbed_valid']} of them valid), {len(MESSAGES)} distinct error messages, "
          f"{COUNTS['meshed']} meshed")
    assert valid + invalid >= 1000
