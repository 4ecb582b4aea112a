"""``flexotip study STUDY.toml --out DIR``: run a study's members, then its table, fits, figures, report.

:func:`run` reads as its steps: the members (:mod:`flexotip.studies.runner`), then, on
world rank 0, the results of every member folder (:mod:`flexotip.studies.collect`),
``table.csv``, ``study.json``, ``figures/`` (:mod:`flexotip.studies.figures`) and
``report.md`` (:mod:`flexotip.studies.report`), and a copy of ``paraview_section.py``
(pvpython: a member's fields cut through the tip axis). ``--collect`` does the second half
only.
docs/studies.md describes the file format, the outputs and how to run a study on a cluster.
"""

from __future__ import annotations

import logging
import pathlib
import shutil
import time

from mpi4py import MPI

from flexotip.studies import collect, figures, report
from flexotip.studies.runner import RunSettings, run_members, write_json_atomic
from flexotip.studies.study_file import Study

log = logging.getLogger(__name__)

PARAVIEW_SCRIPT = pathlib.Path(__file__).resolve().parent / "paraview_section.py"
"""pvpython script that opens a run's fields cut through the tip axis; copied into every study."""


def run(world: MPI.Comm, study: Study, outdir: pathlib.Path, settings: RunSettings, *,
        collect_only: bool = False) -> dict:
    """Run (unless ``collect_only``) and collect a study (collective); return study.json's content.

    The study's status is "complete" when every member is, "failed" when a member failed,
    and "incomplete" when some member has no finished run (``--member I`` of a job array).
    """
    start = time.perf_counter()
    outdir = pathlib.Path(outdir)
    if not collect_only:
        log.info("study %s: %d member(s) on %d rank(s), %d per member%s", study.name, len(study.members),
                 world.size, settings.ranks_per_member, " (isolated)" if settings.isolate else "")
        run_members(world, study, outdir, settings)
        if settings.member is not None:
            log.info("study %s: member %d done; `--collect` builds the table when all are", study.name,
                     settings.member)
    record = None
    if world.rank == 0:
        run_info = {"command": settings.command, "n_ranks": world.size,
                    "ranks_per_member": settings.ranks_per_member, "isolate": settings.isolate,
                    "member": settings.member, "collect_only": collect_only,
                    "time_s": time.perf_counter() - start}
        record = write_results(study, outdir, run_info)
    return world.bcast(record, root=0)


def write_results(study: Study, outdir: pathlib.Path, run_info: dict) -> dict:
    """table.csv, study.json, figures/ and report.md from the member folders (one rank)."""
    table = collect.rows(study, outdir)
    shutil.copyfile(PARAVIEW_SCRIPT, outdir / PARAVIEW_SCRIPT.name)
    collect.write_table(outdir / "table.csv", table)
    fit_results = collect.fits(study, table)
    record = collect.study_record(study, table, fit_results, run_info)
    written = figures.write_all(study, table, fit_results, outdir)
    (outdir / "report.md").write_text(report.text(study, table, fit_results, written, run_info, outdir))
    write_json_atomic(outdir / "study.json", record)
    log.info("study %s: %d complete, %d failed, %d missing; table.csv, study.json, report.md and %d "
             "figure(s) in %s", study.name, record["n_complete"], record["n_failed"], record["n_missing"],
             len(written), outdir)
    return record
