"""What an export computes: CSV tables by file name and its keys of summary.json (SI)."""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np

from flexotip.fem import io


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """The tables and summary keys of one export.

    Attributes:
        tables: {file name: {column: values}}, each written as a CSV table with a header.
        summary: The export's keys of summary.json.
    """

    tables: dict[str, dict[str, np.ndarray]]
    summary: dict

    def write(self, outdir: pathlib.Path, comm) -> None:
        """Every table as ``outdir``/name (collective; rank 0 writes)."""
        for name, columns in self.tables.items():
            io.write_csv(outdir / name, columns, comm)
