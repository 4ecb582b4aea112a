"""A study file: a base config and the sweep over it → the validated configs of its members.

The format is a public interface (scripts write these files; docs/studies.md)::

    base = "paper_sphere.toml"        # a run config, relative to the study file; or a [base] table
    [sweep]
    mode = "product"                  # every combination; "zip": the i-th values together
    "tip.force" = [1.0e-6, 2.0e-6, 4.0e-6]
    "tip.shape" = ["sphere", "flat"]

    [[member]]                        # optional: named members, base + their own keys
    name = "grounded"
    "tip.bias" = 0.0

A dotted key is ``section.key`` of the run config (docs/configuration.md), or deeper for a
sub-table (``"solve.petsc_options.em.snes_max_it"``). Several sweeps over the same base are an
array of tables, ``[[sweep]]``, each with its own mode; their members follow one another. An
optional ``[fit]`` table names the fits of the study (:mod:`flexotip.studies.fits`).

Every member's config is built and validated here, before anything runs: one bad member
refuses the whole study, naming the member and the key (:class:`StudyError`). This module
reads no DOLFINx.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
import pathlib
import re
import tomllib

from flexotip import config as config_module
from flexotip.config import Config

MODES = ("product", "zip")
STUDY_KEYS = ("base", "name", "description", "sweep", "member", "fit")
DISPLAY_UNITS = {"tip.force": (1e6, "µN"), "tip.bias": (1.0, "V"), "tip.radius": (1e9, "nm"),
                 "tip.edge_radius": (1e9, "nm"), "tip.contact_radius": (1e9, "nm"),
                 "film.thickness": (1e9, "nm")}
"""Keys shown in other units than SI (factor from SI, unit): in member names, tables, plots
and fits (the paper's Table 1 units: µN, V)."""
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
"""A member name is a folder name: letters, digits and . _ + -, at most 100 characters."""


class StudyError(ValueError):
    """An invalid study file; ``messages`` holds one line per problem."""

    def __init__(self, messages: list[str], source: str = "study"):
        self.messages, self.source = messages, source
        super().__init__(f"invalid study {source}:\n" + "\n".join(f"  - {m}" for m in messages))


@dataclasses.dataclass(frozen=True)
class Member:
    """One run of a study.

    Attributes:
        index: Position in the study (0-based); ``--member I`` selects it.
        name: Folder name under ``DIR/members/``.
        values: The dotted keys this member sets over the base, with their values (SI).
        sweep: Index of the sweep it came from, or None for a named ``[[member]]``.
        config: The member's validated config.
        config_hash: SHA-256 of the resolved config (:func:`config_hash`).
    """

    index: int
    name: str
    values: dict
    sweep: int | None
    config: Config
    config_hash: str


@dataclasses.dataclass(frozen=True)
class Study:
    """A parsed study: where it came from, its sweeps and its members."""

    source: pathlib.Path
    name: str
    description: str
    sweeps: tuple[dict, ...]
    """Each sweep's mode and swept keys: {"mode": ..., "keys": {dotted key: [values]}}."""
    members: tuple[Member, ...]
    fit: dict
    base_data: dict


def config_hash(config: Config) -> str:
    """SHA-256 of the resolved config's values: two members run the same thing iff equal.

    The values only (canonical JSON of the dataclasses), not the TOML text, whose comments
    (each key's documentation) may change between versions without changing a run.
    """
    canonical = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load(path: str | pathlib.Path) -> Study:
    """Read a study file and build every member's validated config.

    Raises:
        StudyError: Listing every problem of the file and of each member's config.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise StudyError([f"study file not found: {path}"], str(path))
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise StudyError([f"not valid TOML: {error}"], str(path)) from None
    return from_dict(data, source=path)


def from_dict(data: dict, *, source: pathlib.Path) -> Study:
    """Validate a study given as parsed TOML; ``source`` is its file (relative paths start there).

    Raises:
        StudyError: Listing every problem.
    """
    errors: list[str] = []
    for key in data:
        if key not in STUDY_KEYS:
            errors.append(f"{key}: unknown study key; allowed: {', '.join(STUDY_KEYS)}")
    base_data, base_dir = _base(data.get("base"), source.parent, errors)
    sweeps = _sweeps(data.get("sweep"), errors)
    named = _named_members(data.get("member", []), errors)
    fit = data.get("fit", {})
    if not isinstance(fit, dict):
        errors.append(f"fit = {fit!r}: must be a table ([fit])")
        fit = {}
    if not sweeps and not named and not errors:
        errors.append("the study has no members: give a [sweep] or [[member]] tables")
    if errors:
        raise StudyError(errors, str(source))
    members = _members(sweeps, named, base_data, base_dir, source, errors)
    if errors:
        raise StudyError(errors, str(source))
    return Study(source=source, name=str(data.get("name", source.stem)),
                 description=str(data.get("description", "")), sweeps=tuple(sweeps),
                 members=tuple(members), fit=fit, base_data=base_data)


def _base(base, directory: pathlib.Path, errors: list[str]) -> tuple[dict, pathlib.Path]:
    """The base config as a dict, and the folder its relative paths start from."""
    if base is None:
        return {}, directory
    if isinstance(base, dict):
        return base, directory
    if not isinstance(base, str):
        errors.append(f"base = {base!r}: must be a config file's path or a [base] table")
        return {}, directory
    path = (directory / base).resolve()
    if not path.is_file():
        errors.append(f"base = {base!r}: config file not found ({path})")
        return {}, directory
    try:
        return tomllib.loads(path.read_text()), path.parent
    except tomllib.TOMLDecodeError as error:
        errors.append(f"base = {base!r}: not valid TOML: {error}")
        return {}, directory


def _dotted_key_error(key) -> str | None:
    if not isinstance(key, str) or len(key.split(".")) < 2 or not all(key.split(".")):
        return f'"{key}": a swept key must be dotted, "section.key" (e.g. "tip.force")'
    return None


def _sweeps(sweep, errors: list[str]) -> list[dict]:
    """The sweeps as [{"mode", "keys"}]; a single [sweep] table is one sweep."""
    if sweep is None:
        return []
    tables = [sweep] if isinstance(sweep, dict) else sweep
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        errors.append("sweep: must be a table [sweep] or an array of tables [[sweep]]")
        return []
    sweeps = []
    for number, table in enumerate(tables):
        where = "sweep" if len(tables) == 1 else f"sweep {number + 1}"
        mode = table.get("mode", "product")
        if mode not in MODES:
            errors.append(f"{where}: mode = {mode!r}: allowed values: {', '.join(map(repr, MODES))}")
        keys = {}
        for key, values in table.items():
            if key == "mode":
                continue
            problem = _dotted_key_error(key)
            if problem:
                errors.append(f"{where}: {problem}")
            elif not isinstance(values, list) or not values:
                errors.append(f'{where}: "{key}" = {values!r}: must be a non-empty list of values')
            elif any(isinstance(v, float) and not math.isfinite(v) for v in values):
                errors.append(f'{where}: "{key}" = {values!r}: every value must be finite')
            else:
                keys[key] = values
        if not keys:
            errors.append(f"{where}: sweeps no key (give e.g. \"tip.force\" = [1e-6, 2e-6])")
        lengths = {len(v) for v in keys.values()}
        if mode == "zip" and len(lengths) > 1:
            errors.append(f"{where}: mode = \"zip\" needs lists of one length; got "
                          + ", ".join(f'"{k}": {len(v)}' for k, v in keys.items()))
        sweeps.append({"mode": mode, "keys": keys})
    return sweeps


def _named_members(tables, errors: list[str]) -> list[tuple[str, dict]]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        errors.append("member: must be an array of tables [[member]]")
        return []
    named = []
    for number, table in enumerate(tables):
        name = table.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            errors.append(f"member {number + 1}: name = {name!r}: must be a folder name (letters, "
                          "digits, . _ + -; at most 100 characters)")
            continue
        values = {k: v for k, v in table.items() if k != "name"}
        for key in values:
            problem = _dotted_key_error(key)
            if problem:
                errors.append(f"member {name}: {problem}")
        named.append((name, values))
    return named


def sweep_points(sweep: dict) -> list[dict]:
    """The {dotted key: value} of every point of a sweep, in order (last key fastest)."""
    keys = list(sweep["keys"])
    columns = [sweep["keys"][k] for k in keys]
    rows = itertools.product(*columns) if sweep["mode"] == "product" else zip(*columns, strict=True)
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _short(key: str, value) -> str:
    """A value as it appears in a member's name, in its display unit (``2uN``, ``51.53nm``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        factor, unit = DISPLAY_UNITS.get(key, (1.0, ""))
        text = f"{value * factor:.4g}{unit.replace('µ', 'u')}"
    else:
        text = str(value).lower()
    return re.sub(r"[^A-Za-z0-9.+-]", "-", text)


def member_name(index: int, values: dict) -> str:
    """The folder name of a sweep member: its index and values (``m003_force-2uN_shape-flat``)."""
    parts = [f"{key.split('.')[-1]}-{_short(key, value)}" for key, value in values.items()]
    return "_".join([f"m{index:03d}", *parts])[:100]


def apply(data: dict, values: dict) -> dict:
    """A deep copy of the config dict ``data`` with each dotted key set to its value."""
    data = copy.deepcopy(data)
    for key, value in values.items():
        *tables, last = key.split(".")
        table = data
        for name in tables:
            table = table.setdefault(name, {})
            if not isinstance(table, dict):
                raise StudyError([f'"{key}": {name} is a value in the base config, not a table'])
        table[last] = value
    return data


def _members(sweeps, named, base_data, base_dir, source, errors) -> list[Member]:
    points = [(number, values) for number, sweep in enumerate(sweeps) for values in sweep_points(sweep)]
    specs = [(member_name(i, values), values, number) for i, (number, values) in enumerate(points)]
    specs += [(name, values, None) for name, values in named]
    names = [name for name, _, _ in specs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"member name {name!r} is used twice")
    members = []
    for index, (name, values, sweep) in enumerate(specs):
        try:
            config = config_module.from_dict(apply(base_data, values), source=f"{source.name}, member {name}",
                                             base=base_dir)
        except (config_module.ConfigError, StudyError) as error:
            errors.extend(f"member {name}: {message}" for message in error.messages)
            continue
        members.append(Member(index=index, name=name, values=values, sweep=sweep, config=config,
                              config_hash=config_hash(config)))
    return members
