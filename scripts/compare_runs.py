"""Compare two flexotip output folders: summary.json numbers, the set of files, the CSV tables.

    python scripts/compare_runs.py RUN_A RUN_B [--rtol 1e-10] [--csv-rtol 1e-8]

A folder is what ``flexotip run CONFIG --out DIR`` writes; both folders may also hold
sub-folders of runs with the same names (e.g. one per example), which are compared pair
by pair. Every summary.json value is compared: numbers (and lists of numbers) by the
relative difference |a − b| / max(|a|, |b|), strings, booleans and nulls exactly; a key of
RUN_A missing in RUN_B is a difference, a key new in RUN_B is listed (keys are added,
never renamed). Wall
times (keys ``time_*``) and the software versions are listed but not compared. The CSV
tables are compared column by column, each difference relative to the largest magnitude of
its column (so a profile that crosses zero is compared at its own scale): they agree when
|a − b| ≤ csv_rtol·max|column| + csv_atol (nine significant digits are written; the
absolute part, 1e-14 by default, lets round-off columns such as a conservation error of
1e-15 differ by round-off). Exit status 0 when everything agrees, 1 otherwise; the report
names the largest difference of each run and where it is.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import pathlib
import sys

NOT_COMPARED = ("flexotip_version", "dolfinx_version", "petsc_version")
"""Summary keys that may differ between two runs of the same physics."""


def relative_difference(a: float, b: float) -> float:
    """|a − b| / max(|a|, |b|), 0 for two zeros (or two equal infinities), inf for NaN against a number."""
    if a == b:
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    return abs(a - b) / max(abs(a), abs(b))


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare_values(a, b) -> float:
    """The largest relative difference of two summary values (inf when they cannot match)."""
    if _is_number(a) and _is_number(b):
        return relative_difference(float(a), float(b))
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return math.inf
        return max((compare_values(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    return 0.0 if a == b else math.inf


def compare_summaries(a: dict, b: dict) -> tuple[dict[str, float], list[str], list[str]]:
    """Relative differences per compared key; the keys of A missing in B, and B's new keys."""
    differences = {}
    for key in sorted(set(a) & set(b)):
        if key.startswith("time_") or key in NOT_COMPARED:
            continue
        differences[key] = compare_values(a[key], b[key])
    return differences, sorted(set(a) - set(b)), sorted(set(b) - set(a))


def read_csv(path: pathlib.Path) -> dict[str, list[float]]:
    """Columns of a CSV table by header name."""
    with open(path) as handle:
        rows = list(csv.reader(handle))
    header, data = rows[0], rows[1:]
    return {name: [float(row[i]) for row in data] for i, name in enumerate(header)}


def compare_tables(a: pathlib.Path, b: pathlib.Path, rtol: float = 1e-8,
                   atol: float = 1e-14) -> tuple[float, str, bool]:
    """The largest column-scaled difference of two CSV tables, its column, and whether they agree."""
    table_a, table_b = read_csv(a), read_csv(b)
    if list(table_a) != list(table_b):
        return math.inf, "(columns differ)", False
    worst, where, agree = 0.0, "", True
    for name in table_a:
        if len(table_a[name]) != len(table_b[name]):
            return math.inf, f"{name} (lengths differ)", False
        scale = max((abs(v) for v in table_a[name] + table_b[name] if math.isfinite(v)), default=0.0)
        for x, y in zip(table_a[name], table_b[name], strict=True):
            if math.isnan(x) and math.isnan(y):
                continue
            gap = abs(x - y) if math.isfinite(x - y) else math.inf
            agree = agree and gap <= rtol * scale + atol
            difference = gap / scale if scale > 0 else gap
            if difference > worst:
                worst, where = difference, name
    return worst, where, agree


def _files(folder: pathlib.Path) -> set[str]:
    """The names of the files and field folders (``*.bp``) of one run."""
    return {p.name for p in folder.iterdir() if p.is_file() or p.suffix == ".bp"}


def compare_runs(a: pathlib.Path, b: pathlib.Path, rtol: float, csv_rtol: float,
                 csv_atol: float = 1e-14) -> bool:
    """Print the comparison of two run folders; return whether they agree."""
    ok = True
    summary_a = json.loads((a / "summary.json").read_text())
    summary_b = json.loads((b / "summary.json").read_text())
    differences, missing, added = compare_summaries(summary_a, summary_b)
    worst_key = max(differences, key=differences.get, default=None)
    worst = differences.get(worst_key, 0.0)
    print(f"{a.name}: {len(differences)} summary values compared, largest relative difference "
          f"{worst:.2e}" + (f" ({worst_key})" if worst > 0 else ""))
    for key, difference in differences.items():
        if difference > rtol:
            ok = False
            print(f"  DIFFERENT {key}: {summary_a[key]!r} vs {summary_b[key]!r} ({difference:.2e})")
    if missing:
        ok = False
        print(f"  MISSING keys (in {a.name} of the first folder only): {', '.join(missing)}")
    if added:  # keys are added, never renamed: a new key is not a difference
        print(f"  new keys: {', '.join(added)}")
    files_a, files_b = _files(a), _files(b)
    if files_a != files_b:
        ok = False
        print(f"  files only in {a}: {sorted(files_a - files_b)}; only in {b}: {sorted(files_b - files_a)}")
    else:
        print(f"  same {len(files_a)} files")
    for name in sorted(files_a & files_b):
        if name.endswith(".csv"):
            difference, column, agree = compare_tables(a / name, b / name, csv_rtol, csv_atol)
            flag = "" if agree else "  DIFFERENT"
            ok = ok and agree
            print(f"  {name}: largest column-scaled difference {difference:.2e}"
                  + (f" ({column})" if difference > 0 else "") + flag)
    times = [f"{key} {summary_a[key]:.3g} → {summary_b[key]:.3g}" for key in ("time_total_s",)
             if _is_number(summary_a.get(key)) and _is_number(summary_b.get(key))]
    if times:
        print(f"  wall time: {'; '.join(times)} s")
    return ok


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_a", type=pathlib.Path)
    parser.add_argument("run_b", type=pathlib.Path)
    parser.add_argument("--rtol", type=float, default=1e-10, help="summary.json relative tolerance")
    parser.add_argument("--csv-rtol", type=float, default=1e-8, help="CSV tolerance, relative to each column")
    parser.add_argument("--csv-atol", type=float, default=1e-14, help="CSV absolute tolerance")
    args = parser.parse_args(argv)
    pairs = [(args.run_a, args.run_b)]
    if not (args.run_a / "summary.json").is_file():
        names = sorted(p.name for p in args.run_a.iterdir() if (p / "summary.json").is_file())
        missing = [n for n in names if not (args.run_b / n / "summary.json").is_file()]
        if not names or missing:
            print(f"no runs to compare (runs of {args.run_a} missing in {args.run_b}: {missing})")
            return 1
        pairs = [(args.run_a / n, args.run_b / n) for n in names]
    agree = [compare_runs(a, b, args.rtol, args.csv_rtol, args.csv_atol) for a, b in pairs]
    print(f"{sum(agree)} of {len(agree)} runs agree (summary rtol {args.rtol:g}, CSV rtol {args.csv_rtol:g})")
    return 0 if all(agree) else 1


if __name__ == "__main__":
    sys.exit(main())
