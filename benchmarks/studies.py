"""Benchmark: the shipped studies on 2 ranks as one group and as two, with cold and warm caches.

For each shipped study (``studies/*.toml``), three runs of
``mpiexec -n 2 flexotip study STUDY --out DIR``, each into a new folder:

1. one group of 2 ranks, cold caches: an empty JIT cache (``XDG_CACHE_HOME``) and mesh
   cache (``FLEXOTIP_MESH_CACHE``), both new folders;
2. one group of 2 ranks, warm caches (those run 1 filled);
3. two groups of 1 rank (``--ranks-per-member 1``), warm caches.

Run 1 − run 2 is the time the caches save (the meshing part is the members' summed
``time_mesh_s``, the rest is FFCx compiling); run 3 against run 2 is what two groups gain.
Each run records its wall time, the largest resident memory of any of its processes (the
peak per rank, from ``getrusage`` in a wrapper process), the members' summed times and
meshing times, and the JIT warm-up's time (two groups only). Writes
``results/studies.json`` and the table in benchmarks/README.md.

Run: ``python benchmarks/studies.py [--resolution coarse|default] [--studies a,b]``
(``coarse``, the default: the tests' box and mesh, ``flexotip.studies.coarse``, minutes;
``default``: as shipped, hours, and two groups of 1 rank need twice a member's one-rank
memory). ``--smoke [--out DIR]``: a two-member trim of the coarse force sweep.
"""

from __future__ import annotations

import argparse
import csv
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

import flexotip  # noqa: F401  (loads MPI first for the pip wheel)
from flexotip.studies import coarse
from flexotip.studies.runner import mpiexec

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import report

STUDIES = ("tip_shape", "force_sweep", "bias_sweep", "force_voltage")
RANKS = 2
RUNS = ((1, "cold"), (1, "warm"), (2, "warm"))
"""(groups, caches) of each study's three runs, in order."""

PEAK_WRAPPER = """
import resource, subprocess, sys
status = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(status)
"""
"""Runs a command and writes the largest resident set (kB) of any process under it."""


def study_file(name: str, resolution: str, folder: pathlib.Path, smoke: bool) -> pathlib.Path:
    """The study file to run: the shipped one, its coarse copy, or the smoke trim."""
    if resolution == "default":
        return coarse.SHIPPED / f"{name}.toml"
    path = coarse.coarse_copy(name, folder)
    if smoke:  # two members of the first sweep, no fit
        data = tomllib.loads(path.read_text())
        data.pop("fit", None)
        sweep = data["sweep"][0] if isinstance(data["sweep"], list) else data["sweep"]
        sweep["tip.force"] = sweep["tip.force"][:2]
        data["sweep"] = [sweep]
        path.write_text(coarse.to_toml(data))
    return path


def run_study(path: pathlib.Path, out: pathlib.Path, groups: int, caches: pathlib.Path) -> dict:
    """One ``flexotip study`` run on :data:`RANKS` ranks in ``groups`` groups; its measurements."""
    env = os.environ | {"XDG_CACHE_HOME": str(caches / "xdg"), "FLEXOTIP_MESH_CACHE": str(caches / "meshes")}
    peak_file = out.parent / f"{out.name}.peak"
    command = [sys.executable, "-c", PEAK_WRAPPER, str(peak_file), mpiexec(), "-n", str(RANKS),
               sys.executable, "-m", "flexotip.cli", "study", str(path), "--out", str(out),
               "--ranks-per-member", str(RANKS // groups), "--quiet"]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[4:])} exited {result.returncode}:\n{result.stderr[-3000:]}")
    with (out / "table.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    log = (out / "log.txt").read_text()
    warm_up = re.search(r"JIT cache warmed with \d+ coarse run\(s\) in ([\d.]+) s", log)
    return {"members": len(rows), "time_wall_s": wall,
            "time_members_s": sum(float(r["time_s"]) for r in rows),
            "time_mesh_s": sum(float(r["time_mesh_s"]) for r in rows),
            "meshes_from_cache": sum(r["mesh_from_cache"] == "True" for r in rows),
            "time_jit_warm_up_s": float(warm_up.group(1)) if warm_up else 0.0,
            "peak_memory_per_rank_MB": int(peak_file.read_text()) / 1024.0}


def measure(name: str, resolution: str, work: pathlib.Path, smoke: bool) -> list[dict]:
    """The three runs of one study (:data:`RUNS`), with a cache folder of its own."""
    folder = work / name
    folder.mkdir(parents=True)
    path = study_file(name, resolution, folder, smoke)
    caches = folder / "caches"
    rows = []
    for number, (groups, state) in enumerate(RUNS):
        print(f"{name}: {groups} group(s) of {RANKS // groups} rank(s), {state} caches …", flush=True)
        row = {"study": name, "resolution": resolution, "groups": groups,
               "ranks_per_member": RANKS // groups, "caches": state}
        rows.append(row | run_study(path, folder / f"run{number}", groups, caches))
    return rows


def table(rows: list[dict]) -> str:
    """The measurements as a Markdown table."""
    lines = ["| study | resolution | members | groups × ranks | caches | wall (s) | members' time (s) "
             "| meshing (s) | meshes from cache | JIT warm-up (s) | peak memory/rank (MB) |",
             "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['study']} | {r['resolution']} | {r['members']} | {r['groups']} × "
                     f"{r['ranks_per_member']} | {r['caches']} | {r['time_wall_s']:.1f} | "
                     f"{r['time_members_s']:.1f} | {r['time_mesh_s']:.1f} | {r['meshes_from_cache']} | "
                     f"{r['time_jit_warm_up_s']:.1f} | {r['peak_memory_per_rank_MB']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--resolution", choices=("coarse", "default"), default="coarse")
    parser.add_argument("--studies", default=",".join(STUDIES),
                        help=f"comma-separated shipped studies (default: {','.join(STUDIES)})")
    parser.add_argument("--smoke", action="store_true", help="a two-member coarse study; JSON to --out")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="folder of the smoke run's JSON")
    args = parser.parse_args()
    names = ["force_sweep"] if args.smoke else [n.strip() for n in args.studies.split(",") if n.strip()]
    unknown = sorted(set(names) - set(STUDIES))
    if unknown:
        parser.error(f"--studies: unknown {unknown}; shipped: {', '.join(STUDIES)}")
    resolution = "coarse" if args.smoke else args.resolution
    work = pathlib.Path(tempfile.mkdtemp(prefix="flexotip_benchmark_studies_"))
    try:
        rows = [row for name in names for row in measure(name, resolution, work, args.smoke)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name = "studies" if resolution == "coarse" or args.smoke else "studies_default"
    report.write(name, RANKS, "runs", rows, table(rows), smoke_dir=args.out, smoke=args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
