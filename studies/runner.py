"""Running a study's members: MPI groups that claim members, restartable folders, isolation.

``mpiexec -n N flexotip study STUDY.toml --out DIR --ranks-per-member k`` splits COMM_WORLD
into N/k groups (each a communicator DOLFINx meshes and solves on). A group's first rank
claims the next unclaimed member (:class:`MemberClaims`: an exclusive file creation in the
study's folder), so a group that finishes a cheap member takes the next one: members of a
force sweep differ ×10 in cost. Each member runs the normal pipeline
(:func:`flexotip.pipeline.run.run`) in ``DIR/members/<name>/``, with the outputs of
``flexotip run``.

A member is complete when its ``summary.json`` says ``complete``, ``member.json`` (written
last, under a temporary name and renamed) says ``complete``, and its ``config.toml``, read
back, hashes to the member's hash: re-running the same command skips it (also after an
upgrade that added config keys, whose defaults the written config then takes). A member whose solver
fails is recorded in ``member.json`` (status, solver, PETSc's reason) and the study goes on.

With several groups the JIT cache is warmed first (:func:`warm_jit`): world rank 0 runs a
coarse copy of one member per distinct set of forms, so that no two groups compile the same
form at once (FFCx's file lock gives up after 10 s).

``--isolate`` runs each member as its own ``mpiexec -n k flexotip run`` subprocess, so that
a segfault or an out-of-memory kill costs one member, not the study.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

from mpi4py import MPI

import numpy as np

from flexotip import config as config_module
from flexotip.studies.study_file import Member, Study, config_hash

log = logging.getLogger(__name__)

MEMBER_RECORD = "member.json"
STATUS_COMPLETE, STATUS_FAILED = "complete", "failed"
WARM_UP_COARSENING = (0.25, 0.5)
"""Mesh-refinement factors tried, in turn, for the JIT warm-up's coarse copy of a member."""


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """How a study is run.

    Attributes:
        ranks_per_member: MPI ranks of each group (divides the world size).
        isolate: Each member in its own ``mpiexec -n k flexotip run`` process.
        member: Run this member index alone (a job-array task), or None for all.
        command: The command line, for the report.
    """

    ranks_per_member: int = 1
    isolate: bool = False
    member: int | None = None
    command: str = ""


def member_folder(outdir: pathlib.Path, member: Member) -> pathlib.Path:
    """``DIR/members/<name>``."""
    return pathlib.Path(outdir) / "members" / member.name


def read_json(path: pathlib.Path) -> dict | None:
    """A JSON file's content, or None if it is missing or not (yet) valid JSON."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_json_atomic(path: pathlib.Path, data: dict) -> None:
    """Write JSON under a temporary name in the same folder and rename it (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w") as stream:
        stream.write(json.dumps(data, indent=2, default=_json_default) + "\n")
    os.replace(temporary, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def is_complete(folder: pathlib.Path, member: Member) -> bool:
    """Whether the member's folder holds a complete run of exactly this member's config."""
    record = read_json(folder / MEMBER_RECORD) or {}
    summary = read_json(folder / "summary.json") or {}
    if record.get("status") != STATUS_COMPLETE or summary.get("status") != "complete":
        return False
    # The hash is that of config.toml read back by this flexotip, not the one member.json
    # recorded: a key added since (at its default) leaves a finished member complete, while
    # a changed value or default (config.toml holds every value) makes it run again.
    try:
        written = config_module.from_dict(
            tomllib.loads((folder / "config.toml").read_text()), source=str(folder))
    except (OSError, ValueError):
        return False
    return config_hash(written) == member.config_hash


def member_record(member: Member, status: str, seconds: float, n_ranks: int, error=None,
                  group: int = 0) -> dict:
    """The content of ``member.json``: also which group ran it and when it ended (Unix time, s)."""
    record = {"name": member.name, "index": member.index, "values": member.values,
              "config_hash": member.config_hash, "status": status, "time_s": seconds, "n_ranks": n_ranks,
              "group": group, "ended_at_s": time.time()}
    if error is not None:
        record |= {"failed_solver": getattr(error, "solver", type(error).__name__),
                   "failure_reason": getattr(error, "reason", str(error)),
                   "failure_iterations": getattr(error, "iterations", None)}
    return record


# -- in-process groups ------------------------------------------------------------------
class MemberClaims:
    """Which member each group runs next, claimed through the study's folder.

    A group's first rank claims member i by creating ``<folder>/<i>`` with
    ``O_CREAT | O_EXCL``: of several ranks trying at once exactly one succeeds, on a local
    disk as on NFS, Lustre or GPFS (the study's folder is shared by all ranks anyway: every
    group writes its members there). No rank waits on another, so a claim never stalls
    while another rank is inside a solver. One-sided MPI did stall: a fetch-and-add on a
    counter on world rank 0 completes, with MPICH and no asynchronous progress thread, only
    when rank 0 enters MPI, and a rank solving a member on its own communicator does not for
    minutes. Finished members are marked ``<i>.done`` or ``<i>.failed`` (for the progress
    line). The folder is unique to one invocation (the tasks of a job array share the study
    folder) and removed when it ends; one left by a killed study is safe to delete.
    """

    def __init__(self, world: MPI.Comm, outdir: pathlib.Path, n_members: int):
        name = f".claims-{os.getpid()}-{time.time_ns()}" if world.rank == 0 else None
        self.folder = pathlib.Path(outdir) / world.bcast(name, root=0)
        if world.rank == 0:
            self.folder.mkdir(parents=True)
        world.Barrier()
        self.n_members, self.next = n_members, 0

    def claim(self) -> int:
        """A member index no group has claimed yet, or the number of members when none is left."""
        while self.next < self.n_members:
            index, self.next = self.next, self.next + 1
            try:
                os.close(os.open(self.folder / str(index), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            return index
        return self.n_members

    def finish(self, index: int, failed: bool) -> None:
        """Mark a claimed member finished."""
        (self.folder / f"{index}.{'failed' if failed else 'done'}").touch()

    def counts(self) -> tuple[int, int, int]:
        """Members claimed, done and failed so far (by all groups)."""
        names = [path.name for path in self.folder.iterdir()]
        return (sum(name.isdigit() for name in names), sum(name.endswith(".done") for name in names),
                sum(name.endswith(".failed") for name in names))

    def remove(self, world: MPI.Comm) -> None:
        """Delete the folder (collective over the world, after every group has finished)."""
        world.Barrier()
        if world.rank == 0:
            shutil.rmtree(self.folder, ignore_errors=True)


def run_members(world: MPI.Comm, study: Study, outdir: pathlib.Path, settings: RunSettings) -> list[dict]:
    """Run the study's members (all, or ``settings.member``) on groups of ranks; return their records.

    Collective over ``world``. Returns, on every rank, the ``member.json`` record of each
    member that was asked for (complete ones skipped are reported with their record).
    """
    members = list(study.members) if settings.member is None else [study.members[settings.member]]
    if settings.isolate:
        records = _run_isolated(world, members, outdir, settings) if world.rank == 0 else None
        return world.bcast(records, root=0)
    # petsc4py initialises PETSc collectively over COMM_WORLD when it is first imported:
    # import the pipeline (dolfinx, petsc4py) on every rank before any rank runs alone (the
    # JIT warm-up on world rank 0), or rank 0 waits in PetscInitialize for the others.
    from flexotip.pipeline import run as _pipeline  # noqa: F401

    k = settings.ranks_per_member
    n_groups = world.size // k
    group = world.Split(world.rank // k, world.rank)
    if n_groups > 1:
        warm_jit(world, members, outdir)
    claims = MemberClaims(world, outdir, len(members))
    start, records = time.perf_counter(), {}
    while True:
        index = group.bcast(claims.claim() if group.rank == 0 else None, root=0)
        if index >= len(members):
            break
        member = members[index]
        record = run_member(group, member, outdir, world.rank // k)
        if group.rank == 0:
            claims.finish(index, record["status"] == STATUS_FAILED)
            _log_progress(claims, len(members), time.perf_counter() - start)
            records[member.name] = record
    claims.remove(world)
    group.Free()
    gathered = world.allgather(records)
    merged = {name: record for part in gathered for name, record in part.items()}
    return [merged[m.name] for m in members]


def _log_progress(claims: MemberClaims, n_members: int, elapsed: float) -> None:
    """Members done, running and failed, and the time left at the study's rate so far."""
    claimed, done, failed = claims.counts()
    finished = done + failed
    running = max(claimed - finished, 0)
    eta = elapsed / finished * (n_members - finished) if finished else float("nan")
    log.info("study: %d of %d members done, %d running, %d failed; about %.0f s left",
             finished, n_members, running, failed, eta)


def run_member(group: MPI.Comm, member: Member, outdir: pathlib.Path, group_index: int = 0) -> dict:
    """Run one member on ``group`` (collective) unless its folder is already complete.

    A solver failure (or any exception raised on every rank of the group) is recorded in
    ``member.json`` and returned, not raised: the study goes on.
    """
    from flexotip import log as flexotip_log
    from flexotip.pipeline import run as pipeline

    folder = member_folder(outdir, member)
    complete = group.bcast(is_complete(folder, member) if group.rank == 0 else None, root=0)
    if complete:
        record = read_json(folder / MEMBER_RECORD) if group.rank == 0 else None
        if group.rank == 0:
            log.info("study: member %s is complete: skipped", member.name)
        return group.bcast(record, root=0)
    if group.rank == 0:
        if (folder / MEMBER_RECORD).exists():
            (folder / MEMBER_RECORD).unlink()
        folder.mkdir(parents=True, exist_ok=True)
        log.info("study: member %s (group %d, %d rank(s)): %s", member.name, group_index, group.size,
                 ", ".join(f"{k} = {v}" for k, v in member.values.items()) or "the base config")
    group.Barrier()
    study_handlers = flexotip_log.push_file(folder / "log.txt", group)
    start, error = time.perf_counter(), None
    try:
        pipeline.run(group, member.config, folder)
    except Exception as failure:  # recorded per member: the study goes on
        error = failure
    finally:
        flexotip_log.pop_file(study_handlers)
    seconds = time.perf_counter() - start
    status = STATUS_FAILED if error is not None else STATUS_COMPLETE
    record = member_record(member, status, seconds, group.size, error, group_index)
    if group.rank == 0:
        write_json_atomic(folder / MEMBER_RECORD, record)
        if error is not None:
            log.error("study: member %s failed: %s (partial results in %s)", member.name, error, folder)
    group.Barrier()
    return record


def warm_jit(world: MPI.Comm, members: list[Member], outdir: pathlib.Path) -> None:
    """Compile the forms of every distinct member kind once, on world rank 0, before groups start.

    Members that differ only in floating-point values (force, bias, radius, sizes) share
    their forms; one coarse copy (in a temporary folder) of the
    first member of each other kind is run (:func:`_coarse`). A copy that fails is only logged: the members
    themselves report their failures.
    """
    if world.rank == 0:
        from flexotip.pipeline import run as pipeline

        kinds: dict[str, Member] = {}
        for member in members:
            kinds.setdefault(_form_kind(member), member)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="flexotip-jit-", dir=outdir) as scratch:
            for number, member in enumerate(kinds.values()):
                try:
                    pipeline.run(MPI.COMM_SELF, _coarse(member), pathlib.Path(scratch) / str(number))
                except Exception as error:  # a warm-up only
                    log.warning("study: JIT warm-up with member %s did not finish: %s", member.name, error)
        log.info("study: JIT cache warmed with %d coarse run(s) in %.1f s", len(kinds),
                 time.perf_counter() - start)
    world.Barrier()


def _coarse(member: Member):
    """The member's config with its mesh coarsened as far as its checks allow (×4, ×2, or as is).

    A vacancy transient (or a scan) stops after two steps: they compile every form the
    member's thousands of steps use.
    """
    from flexotip.verification.convergence import refined_config

    config = member.config
    for factor in WARM_UP_COARSENING:
        try:
            config = refined_config(member.config, factor, source=f"JIT warm-up of {member.name}")
            break
        except config_module.ConfigError:
            continue
    return dataclasses.replace(config, vacancies=dataclasses.replace(config.vacancies, max_steps=2))


def _form_kind(member: Member) -> str:
    """The member's config with every float replaced: members with equal kinds share forms."""
    def strip(value):
        if isinstance(value, float):
            return "float"
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(dataclasses.asdict(member.config)), sort_keys=True, default=str)


# -- isolated members -------------------------------------------------------------------
def mpiexec() -> str:
    """The launcher for isolated members: ``$FLEXOTIP_MPIEXEC``, the one beside Python, or PATH's."""
    if os.environ.get("FLEXOTIP_MPIEXEC"):
        return os.environ["FLEXOTIP_MPIEXEC"]
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.is_file() else (shutil.which("mpiexec") or "mpiexec")


def _clean_environment() -> dict:
    """This process's environment without the MPI launcher's variables (a child gets its own)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PMI_", "PMIX_", "HYDRA_", "MPIR_", "OMPI_", "MPI_LOCALRANK"))}


def _run_isolated(world: MPI.Comm, members: list[Member], outdir: pathlib.Path,
                  settings: RunSettings) -> list[dict]:
    """Each member as ``mpiexec -n k flexotip run`` (rank 0 of a one-rank study)."""
    records = []
    for member in members:
        folder = member_folder(outdir, member)
        if is_complete(folder, member):
            log.info("study: member %s is complete: skipped", member.name)
            records.append(read_json(folder / MEMBER_RECORD))
            continue
        if (folder / MEMBER_RECORD).exists():
            (folder / MEMBER_RECORD).unlink()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "input.toml").write_text(config_module.to_toml(member.config))
        command = [mpiexec(), "-n", str(settings.ranks_per_member), sys.executable, "-m", "flexotip.cli",
                   "run", str(folder / "input.toml"), "--out", str(folder), "--quiet"]
        log.info("study: member %s: %s", member.name, " ".join(command))
        start = time.perf_counter()
        result = subprocess.run(command, env=_clean_environment(), capture_output=True, text=True)
        seconds = time.perf_counter() - start
        summary = read_json(folder / "summary.json") or {}
        if result.returncode == 0 and summary.get("status") == "complete":
            record = member_record(member, STATUS_COMPLETE, seconds, settings.ranks_per_member)
        else:
            reason = summary.get("failure_reason") or _exit_reason(result.returncode, result.stderr)
            error = _IsolatedFailure(summary.get("failed_solver", "flexotip run"), reason)
            record = member_record(member, STATUS_FAILED, seconds, settings.ranks_per_member, error)
            log.error("study: member %s failed (exit status %d): %s", member.name, result.returncode, reason)
        write_json_atomic(folder / MEMBER_RECORD, record)
        records.append(record)
    return records


@dataclasses.dataclass
class _IsolatedFailure:
    solver: str
    reason: str
    iterations: int | None = None


def _exit_reason(returncode: int, stderr: str) -> str:
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if returncode < 0:
        return f"killed by signal {-returncode}" + (f": {last}" if last else "")
    return f"exit status {returncode}" + (f": {last}" if last else "")
