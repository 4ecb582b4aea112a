"""A shipped study (studies/*.toml) with a coarse box and mesh: minutes instead of hours.

The tests run every shipped study this way (tests/shipped.py), and benchmarks/studies.py
measures the studies' run layouts on it. Only the base's box, mesh and written fields are
replaced; the sweeps, members and fits are the shipped ones. The documented results
(docs/studies.md) are at the default resolution.
"""

from __future__ import annotations

import json
import pathlib
import tomllib

SHIPPED = pathlib.Path(__file__).resolve().parent
"""The folder of the shipped study files."""
COARSE = {
    "film": {"half_width": 120e-9, "substrate_thickness": 60e-9},
    "mesh": {"contact_size": 1.5e-9, "far_size": 30e-9, "growth": 0.4, "surface_size": 0.0},
    "output": {"fields": []},
}
"""The coarse base: a 120 nm quarter box on 60 nm of substrate, 1.5 nm contact cells, no surface layers."""


def coarse_copy(name: str, folder: pathlib.Path, fields: bool = False,
                coarse: dict | None = None) -> pathlib.Path:
    """The shipped study ``name`` with :data:`COARSE` in its base, written to ``folder``; its path.

    Args:
        name: A shipped study's stem (``"force_sweep"``).
        folder: Where the copy is written (as ``<name>.toml``).
        fields: Keep the base's ``[output] fields`` (else none are written).
        coarse: The tables merged into the base instead of :data:`COARSE` (a study whose
            box is not the tip's, e.g. the poled film of ``poled_decay``).
    """
    data = tomllib.loads((SHIPPED / f"{name}.toml").read_text())
    if "base" in data and not isinstance(data["base"], dict):
        raise ValueError(f"{name}.toml names its base by path; a coarse copy needs [base] tables")
    base = data.setdefault("base", {})
    for section, table in (COARSE if coarse is None else coarse).items():
        if section == "output" and fields:
            continue
        base[section] = base.get(section, {}) | table
    path = folder / f"{name}.toml"
    path.write_text(to_toml(data))
    return path


def to_toml(data: dict, prefix: str = "") -> str:
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
        text += f"{header}\n" + to_toml(table, sub_prefix or "") + "\n"
    return text
