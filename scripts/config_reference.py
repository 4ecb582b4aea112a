"""Write docs/configuration.md, the reference of every config key, from the config's own metadata.

Each key of :mod:`flexotip.config` carries its meaning, unit, allowed choices and range as
dataclass field metadata (``_key(...)``); this script turns that metadata into one Markdown
table per section. Run it after changing a key::

    python scripts/config_reference.py

``tests/test_docs.py`` renders the page in memory with :func:`render` and fails while the
committed file differs.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import tomllib

from flexotip import config

OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

INTRO = """\
# Configuration

Every key of a flexotip config file, with its default, unit, allowed values and meaning.
This page is generated from the config's own field metadata (`flexotip/config.py`) by
`python scripts/config_reference.py`: change the metadata, then regenerate; the tests fail
while this page is stale.

## The config file

- TOML, SI units. The section and key names, their units and meanings are a public
  interface: scripts outside this repository write these files. Keys are added, never
  renamed.
- Every key is optional. The defaults are the paper's sharp-tip configuration (Das et al.,
  *Nat. Commun.* **8**, 615 (2017)): a rigid sphere pressed with 4 µN on a 120-unit-cell
  SrTiO3 film, Hertz contact radius 8 nm, short circuit, vacancies on. A run without a
  config uses them all.
- Loading validates everything before anything is meshed: unknown sections and keys,
  wrong types, values out of range, and the checks across keys (a tip that does not fit
  in the box, cells larger than the film or than half the contact radius, a missing
  profile file, a flexocoupling that the gradient energy cannot hold at short
  wavelengths, options a solver does not support). Each problem is one line naming the
  key, the value and what is allowed; all of a file's problems are reported together, and
  the command exits with status 2.
- `flexotip check CONFIG` prints the resolved config: every key, with the defaults that
  depend on other keys filled in (the tip radius, the contact radius, α1 at the
  temperature), its unit and its meaning. `flexotip run` writes the same text to
  `config.toml` in its output folder; it loads back to the same run.
- Relative file paths (`[tip] profile`) are read relative to the config file's folder.
- In the tables below, a dash as the default means that the default depends on other
  keys; the meaning says how.
"""

EXAMPLE = """\
# The paper's blunt tip with the contact solved: a flat punch with a rounded edge.
[tip]
shape = "flat"
radius = 15e-9          # m
edge_radius = 2e-9      # m
force = 4e-6            # N
load = "contact"

[mesh]
contact_size = 0.5e-9   # m
degree = 2

[physics]
vacancies = false       # the electromechanics only

[solve.petsc_options.contact]
snes_rtol = 1e-10       # PETSc options of the contact's Newton solver
"""

PETSC_OPTIONS = """\
## PETSc options

`[solve] petsc_options = { ksp_rtol = 1e-12 }` overlays options on the defaults of every
solver. A sub-table named after one solver applies to that solver only, and each solver has
its own options prefix, so the same option also works on the command line:

| sub-table | solver | prefix |
|---|---|---|
| `[solve.petsc_options.mech]` | linear elasticity (prescribed load) | `flexotip_mech_` |
| `[solve.petsc_options.contact]` | Newton solver of the solved contact | `flexotip_contact_` |
| `[solve.petsc_options.em]` | Newton solver of the electromechanics (u, P, φ) | `flexotip_em_` |
| `[solve.petsc_options.phi]` | linear solve of the applied potential (a biased tip) | `flexotip_phi_` |
| `[solve.petsc_options.np]` | Newton solver of the vacancies' Nernst–Planck steps | `flexotip_np_` |

For example `-flexotip_mech_ksp_monitor` on the command line, or, for an exact Schur
complement solve in the block preconditioner of the electromechanics (sub-solver prefixes
`flexotip_em_block_u_`, `flexotip_em_block_P_`, `flexotip_em_block_S_`):

```toml
[solve.petsc_options.em]
block_S_pc_type = "lu"
block_S_pc_factor_mat_solver_type = "mumps"
```
"""


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (a bare ``|`` would split the cell)."""
    return text.replace("|", "\\|")


def _number(value: float | int) -> str:
    """A number as TOML accepts it, short: 3.36e11 rather than 336000000000.0."""
    if isinstance(value, int) or value == 0 or 1e-3 <= abs(value) < 1e5:
        return repr(value)
    for digits in range(1, 18):
        text = f"{value:.{digits}e}"
        if float(text) == value:
            break
    mantissa, exponent = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _value(value: object) -> str:
    """A default as TOML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _default(value: object) -> str:
    """The default column: the TOML value, or a dash when it depends on other keys."""
    return "—" if value is None else f"`{_value(value)}`"


def _allowed(field: dataclasses.Field) -> str:
    """The allowed column: choices, a range, or the kind of value."""
    meta, kind = field.metadata, str(field.type)
    if field.name == "fields":
        return "a list of: " + ", ".join(f"`{c}`" for c in meta["choices"])
    if meta["choices"] is not None:
        return " \\| ".join(f"`{_value(c)}`" for c in meta["choices"])
    if kind == "bool":
        return "`true` \\| `false`"
    if kind == "list":
        return "[x, y]"
    if kind == "dict":
        return "a table of PETSc options"
    if kind.startswith("str"):
        return "a file path" if meta["unit"] == "path" else "a string"
    bounds = []
    if meta["low"] is not None:
        bounds.append(f"{'>' if meta['open_low'] else '≥'} {meta['low']:g}")
    if meta["high"] is not None:
        bounds.append(f"{'<' if meta['open_high'] else '≤'} {meta['high']:g}")
    what = "an integer" if kind.startswith("int") else "a number"
    return what + (" " + " and ".join(bounds) if bounds else "")


def _section(name: str, table: object) -> list[str]:
    """One section's heading, its one-line purpose and its table."""
    purpose = (type(table).__doc__ or "").split(":", 1)[-1].strip()
    lines = [f"## [{name}]", "", purpose[:1].upper() + purpose[1:], "",
             "| key | default | unit | allowed | meaning |", "|---|---|---|---|---|"]
    for field in dataclasses.fields(table):
        meta = field.metadata
        unit = "" if meta["unit"] == "path" else meta["unit"]
        lines.append(f"| `{field.name}` | {_cell(_default(getattr(table, field.name)))} | "
                     f"{_cell(unit)} | {_allowed(field)} | {_cell(meta['doc'])} |")
    return lines


def render() -> str:
    """The whole page, as written to docs/configuration.md.

    Raises:
        flexotip.config.ConfigError: If the page's TOML example is not a valid config.
    """
    config.from_dict(tomllib.loads(EXAMPLE), source="the example of docs/configuration.md")
    defaults = config.Config()
    lines = [INTRO, "## Example", "", "```toml", EXAMPLE.rstrip("\n"), "```", ""]
    for section in dataclasses.fields(defaults):
        lines += [*_section(section.name, getattr(defaults, section.name)), ""]
    lines.append(PETSC_OPTIONS)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    """Write docs/configuration.md."""
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
