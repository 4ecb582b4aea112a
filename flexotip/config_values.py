"""Checks of each value of a config, one section at a time: its type, its range, its choices.

:func:`parse_section` turns one TOML table into the section's dataclass, appending a message
that names ``[section] key``, the value and what is allowed for every problem (unknown keys,
wrong types, NaN and ±inf, values out of range, bad PETSc options, missing files);
:mod:`flexotip.config_checks` then checks the keys against each other. Nothing here raises on
bad input: :func:`flexotip.config.from_dict` raises the messages together.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import pathlib
import re
import typing

CHECKPOINT_NAME = "checkpoint.h5"
"""The checkpoint file in a run's output folder (:mod:`flexotip.fem.checkpoint`), which
``[vacancies] initial_run`` must hold."""


def describe(field: dataclasses.Field) -> str:
    """What a key allows, in words (for error messages)."""
    m = field.metadata
    if m["choices"] is not None and field.name != "fields":
        return "one of " + ", ".join(repr(c) for c in m["choices"])
    parts = []
    if m["low"] is not None:
        parts.append(f"{'>' if m['open_low'] else '≥'} {m['low']:g}")
    if m["high"] is not None:
        parts.append(f"{'<' if m['open_high'] else '≤'} {m['high']:g}")
    unit = f" ({m['unit']})" if m["unit"] else ""
    return ("a number " + " and ".join(parts) if parts else "a number") + unit


def check_value(section: str, field: dataclasses.Field, value: typing.Any, errors: list[str]):
    """Check the type and range of one value; return it converted (int → float)."""
    where = f"[{section}] {field.name} = {value!r}"
    m = field.metadata
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    annotation = str(field.type)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            errors.append(f"{where}: must be true or false")
        return value
    if "str" in annotation:
        if not isinstance(value, str):
            errors.append(f"{where}: must be a string" + (
                f", {describe(field)}" if m["choices"] else ""))
        elif m["choices"] is not None and value not in m["choices"]:
            errors.append(f"{where}: must be {describe(field)}")
        return value
    if annotation in ("int", "int | None"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{where}: must be an integer, {describe(field)}")
            return value
    elif "float" in annotation:
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{where}: must be {describe(field)}")
            return value
        if not is_finite_number(value):
            errors.append(f"{where}: must be {describe(field).replace('a number', 'a finite number', 1)}")
            return value
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if m["choices"] is not None and value not in m["choices"]:
            errors.append(f"{where}: must be {describe(field)}")
        low, high = m["low"], m["high"]
        too_low = low is not None and (value <= low if m["open_low"] else value < low)
        too_high = high is not None and (value >= high if m["open_high"] else value > high)
        if too_low or too_high:
            integer = "an integer, " if annotation in ("int", "int | None") else ""
            errors.append(f"{where}: must be {integer}{describe(field)}")
    return value


def is_finite_number(value: typing.Any) -> bool:
    """Whether ``value`` is an int or float (not a bool) that is a finite float.

    TOML integers have any number of digits; one beyond the float range is not finite.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def parse_section(name: str, cls: type, table: typing.Any, errors: list[str], base: pathlib.Path):
    """Check the keys of one section and build its dataclass from them.

    Args:
        name: Section name, as in the TOML file.
        cls: The section's dataclass.
        table: The section as parsed from TOML (a dict, unless the file is malformed).
        errors: Receives one message per problem.
        base: Directory against which relative file paths are resolved.

    Returns:
        The section with the given keys, or its defaults where building it failed.
    """
    if not isinstance(table, dict):
        errors.append(f"[{name}] must be a table (a [{name}] section), got {table!r}")
        return cls()
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in fields:
            errors.append(f"[{name}] {key}: unknown key; allowed keys: {', '.join(fields)}")
            continue
        field = fields[key]
        if key in POINT_KEYS:
            ok = isinstance(value, list) and len(value) == 2 and all(map(is_finite_number, value))
            if not ok:
                errors.append(f"[{name}] {key} = {value!r}: must be a list of two finite numbers [x, y] (m)")
                continue
            value = [float(v) for v in value]
        elif key == "map_times":
            ok = (isinstance(value, list) and all(is_finite_number(v) and v > 0 for v in value)
                  and all(b > a for a, b in itertools.pairwise(value)))
            if not ok:
                errors.append(f"[output] map_times = {value!r}: must be a list of increasing times > 0 (s)")
                continue
            value = [float(v) for v in value]
        elif key == "initial_run":
            if not isinstance(value, str):
                errors.append(f"[vacancies] initial_run = {value!r}: must be a folder path (string)")
                continue
            path = (base / value).resolve()
            if not (path / CHECKPOINT_NAME).is_file():
                errors.append(f"[vacancies] initial_run = {value!r}: no {CHECKPOINT_NAME} in {path} "
                              "(the output folder of a finished run with vacancies)")
                continue
            value = str(path)
        elif key == "fields":
            allowed = field.metadata["choices"]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(f"[output] fields = {value!r}: must be a list of names from "
                              f"{', '.join(allowed)}")
                continue
            unknown = [v for v in value if v not in allowed]
            if unknown:
                errors.append(f"[output] fields = {value!r}: unknown field(s) "
                              f"{', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
                continue
        elif key == "petsc_options":
            if not isinstance(value, dict):
                errors.append(f"[solve] petsc_options = {value!r}: must be a table of PETSc "
                              "options, e.g. { ksp_rtol = 1e-10 }")
                continue
            if not petsc_options_ok(value, errors):
                continue
        elif key == "profile":
            if not isinstance(value, str):
                errors.append(f"[tip] profile = {value!r}: must be a file path (string)")
                continue
            path = (base / value).resolve()
            if not path.is_file():
                errors.append(f"[tip] profile = {value!r}: file not found ({path})")
                continue
            value = str(path)
        else:
            value = check_value(name, field, value, errors)
        values[key] = value
    try:
        return cls(**values)
    except TypeError:
        return cls()


PETSC_SOLVERS = ("mech", "contact", "em", "phi", "np")
"""Sub-tables of ``[solve] petsc_options``: the solvers whose options prefix they fill."""

_PETSC_NAME = re.compile(r"[A-Za-z0-9_]+")


def petsc_options_ok(options: dict, errors: list[str]) -> bool:
    """Check ``[solve] petsc_options``: option names, plain values, known solver sub-tables.

    A PETSc option is a name (``ksp_rtol``, without the leading ``-``) and a string,
    boolean, integer or finite number; a sub-table holds such options for one solver.
    """
    ok = True
    for name, value in options.items():
        if isinstance(value, dict):
            if name not in PETSC_SOLVERS:
                errors.append(f"[solve] petsc_options.{name}: unknown solver sub-table; allowed: "
                              f"{', '.join(PETSC_SOLVERS)} (options outside a sub-table apply to every "
                              "solver)")
                ok = False
                continue
            for sub_name, sub_value in value.items():
                ok &= _petsc_option_ok(f"{name}.{sub_name}", sub_name, sub_value, errors)
        else:
            ok &= _petsc_option_ok(name, name, value, errors)
    return ok


def _petsc_option_ok(where: str, name: typing.Any, value: typing.Any, errors: list[str]) -> bool:
    """One PETSc option of ``[solve] petsc_options`` (``where``: its dotted name there)."""
    if not (isinstance(name, str) and _PETSC_NAME.fullmatch(name)):
        errors.append(f"[solve] petsc_options.{where}: {name!r} is not a PETSc option name (letters, "
                      "digits and '_', without the leading '-', e.g. ksp_rtol)")
        return False
    plain = isinstance(value, bool | str) or is_finite_number(value)
    if isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value):
        plain = False
    if not plain:
        errors.append(f"[solve] petsc_options.{where} = {value!r}: must be a string (without control "
                      "characters), true or false, an integer or a finite number")
    return plain


POINT_KEYS = ("position", "start", "end")
"""Keys whose value is a point [x, y] in metres."""
