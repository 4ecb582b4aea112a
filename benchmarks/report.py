"""Shared parts of the benchmark scripts: the command line, the JSON record and the README table.

Every script runs its full set of cases by default, which rewrites ``results/<name>.json``
and its table in benchmarks/README.md. With ``--smoke`` it runs its smallest case only
(seconds), to show that it works: the JSON then goes to ``--out`` (default: a new
temporary folder) and the README is left alone. tests/test_benchmarks.py runs every smoke
mode.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import tempfile
import time

import flexotip

HERE = pathlib.Path(__file__).parent

PLAIN_MESH = {"film": {"half_width": 400e-9, "substrate_thickness": 350e-9, "symmetry": "full"},
              "mesh": {"surface_size": 0.0, "growth": 0.15}}
"""The default box and mesh before the surface-resolved default of 2026-12-04: the box and
isotropic cells these benchmarks' recorded results were measured on. Each benchmark
overlays its own keys on these, so that its tables stay reproducible."""


def plain_mesh_sections(sections: dict) -> dict:
    """``sections`` over :data:`PLAIN_MESH`, table by table (the given keys win)."""
    merged = {name: dict(table) for name, table in PLAIN_MESH.items()}
    for name, table in sections.items():
        merged[name] = merged.get(name, {}) | table
    return merged


def arguments(description: str) -> argparse.Namespace:
    """The benchmark's command line: ``--smoke`` and ``--out``.

    Args:
        description: The script's docstring (its first line is the help's description).
    """
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="run the smallest case only; write the JSON to --out, not to results/, "
                             "and leave README.md alone")
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help="folder of the smoke run's JSON (default: a new temporary folder)")
    return parser.parse_args()


def write(name: str, n_ranks: int, key: str, rows: list[dict], table: str,
          smoke_dir: pathlib.Path | None = None, smoke: bool = False) -> pathlib.Path:
    """Write the JSON record and the table, print the table; return the JSON's path.

    A full run writes ``results/<name>.json`` and replaces the ``name`` table in
    benchmarks/README.md; a smoke run writes ``<smoke_dir>/<name>.json`` only.

    Args:
        name: Benchmark name (file stem and table marker).
        n_ranks: MPI ranks of the run.
        key: Name of the list of measurements in the JSON record.
        rows: The measurements.
        table: The Markdown table of the measurements.
        smoke_dir: Folder of a smoke run's JSON; None: a new temporary folder.
        smoke: Whether this is a smoke run.
    """
    record = {"benchmark": name, "flexotip_version": flexotip.__version__, "n_ranks": n_ranks,
              "machine": platform.platform(), "date": time.strftime("%Y-%m-%d"), "smoke": smoke,
              key: rows}
    if smoke:
        folder = smoke_dir or pathlib.Path(tempfile.mkdtemp(prefix=f"flexotip_benchmark_{name}_"))
    else:
        folder = HERE / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(table)
    print(f"wrote {path}")
    if smoke:
        return path
    start, end = f"<!-- {name} table start -->", f"<!-- {name} table end -->"
    block = f"{start}\n{n_ranks} MPI ranks, {record['date']}, {record['machine']}\n\n{table}\n{end}"
    readme = HERE / "README.md"
    text = readme.read_text()
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text += "\n" + block + "\n"
    readme.write_text(text)
    return path
