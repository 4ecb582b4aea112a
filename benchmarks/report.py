"""Shared output of the benchmark scripts: the JSON record and the README table."""

from __future__ import annotations

import json
import pathlib
import platform
import time

import flexotip

HERE = pathlib.Path(__file__).parent


def write(name: str, n_ranks: int, key: str, rows: list[dict], table: str) -> None:
    """Write ``results/<name>.json``, replace the ``name`` table in benchmarks/README.md, print it.

    Args:
        name: Benchmark name (file stem and table marker).
        n_ranks: MPI ranks of the run.
        key: Name of the list of measurements in the JSON record.
        rows: The measurements.
        table: The Markdown table of the measurements.
    """
    record = {"benchmark": name, "flexotip_version": flexotip.__version__, "n_ranks": n_ranks,
              "machine": platform.platform(), "date": time.strftime("%Y-%m-%d"), key: rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
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
    print(table)
