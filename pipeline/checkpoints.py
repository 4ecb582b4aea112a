"""A transient run's checkpoints: when they are written, the clean stop on a signal, ``--resume``.

:class:`RunCheckpoints` is the policy the vacancy transient calls after every accepted step
(:class:`flexotip.fem.vacancy_checkpoint.Checkpointing`): it writes ``checkpoint.h5`` every
``[output] checkpoint_interval`` seconds of wall-clock time and/or ``checkpoint_steps``
steps, and once more at the end; on SIGTERM/SIGINT (any rank) it writes one and stops
the run (:class:`~flexotip.errors.RunInterrupted`). Every rank takes the same decision: one
collective maximum per step carries rank 0's clock and every rank's signal.

:func:`resume_state` checks, before anything is meshed, that a folder's checkpoint can be
continued by this config on this many ranks, and reads it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import pathlib
import time
import tomllib
from collections.abc import Callable

from mpi4py import MPI

from flexotip import config as config_module
from flexotip import interrupt
from flexotip.config import Config
from flexotip.config_values import CHECKPOINT_NAME
from flexotip.errors import ResumeError, RunInterrupted
from flexotip.fem import checkpoint
from flexotip.fem.checkpoint import State
from flexotip.fem.time_stepping import Progress
from flexotip.units import Scales

log = logging.getLogger(__name__)

RESUMABLE = (("solve", "t_end"), ("vacancies", "max_steps"), ("output", "checkpoint_interval"),
             ("output", "checkpoint_steps"))
"""The keys a resumed run may change: how long it runs, and how often it checkpoints."""


def _fixed_part(config: Config) -> dict:
    """The config without its resumable keys, as nested dicts."""
    data = dataclasses.asdict(config)
    for section, key in RESUMABLE:
        data[section].pop(key)
    return data


def config_hash(config: Config) -> str:
    """SHA-256 of the config without its resumable keys: equal hashes, same run."""
    return hashlib.sha256(json.dumps(_fixed_part(config), sort_keys=True, default=str).encode()).hexdigest()


def _differences(old: dict, new: dict) -> list[str]:
    """"[section] key: old → new" for every key that differs."""
    return [f"[{section}] {key}: {old[section][key]!r} → {new[section][key]!r}"
            for section in new for key in new[section] if old[section].get(key) != new[section][key]]


def _resume_problem(config: Config, outdir: pathlib.Path, comm: MPI.Comm) -> str | None:
    """Why the run in ``outdir`` cannot be continued with ``config`` on this many ranks, or None."""
    transient = (config.solve.mode == "transient" and config.physics.vacancies) or config.scanning
    if not transient:
        return "--resume continues a vacancy transient ([solve] mode = 'transient' with [physics] " \
               "vacancies = true); this config has none"
    path = outdir / CHECKPOINT_NAME
    if not path.is_file():
        return f"no {CHECKPOINT_NAME} in {outdir}: nothing to resume (was it written by a transient run?)"
    meta = checkpoint.read_meta(path)
    if meta is None:
        return f"{path} holds final vacancies only, not a transient's state: nothing to resume"
    old = config_module.from_dict(tomllib.loads(meta["config"]), source=str(path))
    if meta["config_hash"] != config_hash(config):
        changes = _differences(_fixed_part(old), _fixed_part(config))
        return (f"the config differs from the checkpointed run's in {'; '.join(changes) or 'its hash'}; "
                f"a resumed run may change only {', '.join(f'[{s}] {k}' for s, k in RESUMABLE)}")
    if meta["n_ranks"] != comm.size:
        return (f"{path} was written by {meta['n_ranks']} rank(s) and is read back by as many: run "
                f"mpiexec -n {meta['n_ranks']} flexotip run ... --resume")
    t_end = config.solve.t_end
    summary = outdir / "summary.json"
    complete = summary.is_file() and json.loads(summary.read_text()).get("status") == "complete"
    if complete and meta["last"] and t_end == old.solve.t_end and (
            config.vacancies.max_steps == old.vacancies.max_steps):
        return (f"the run in {outdir} is complete (t = {meta['t_s']:.6g} s, {meta['steps']} steps): raise "
                "[solve] t_end or [vacancies] max_steps to continue it")
    if config.scanning:
        return None  # a scan ends with its path; an interrupted one resumes (or redoes its reference)
    if t_end is not None and t_end <= meta["t_s"] * (1 + 1e-12):
        return (f"the checkpoint is at t = {meta['t_s']:.6g} s, at or past [solve] t_end = {t_end:g} s: "
                "raise t_end to continue the run")
    if config.vacancies.max_steps <= meta["steps"]:
        return (f"the checkpoint is after {meta['steps']} steps, [vacancies] max_steps = "
                f"{config.vacancies.max_steps}: raise max_steps to continue the run")
    return None


def resume_state(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> State:
    """The state of ``outdir``'s checkpoint, checked against ``config`` (collective; before meshing).

    Raises:
        ResumeError: Saying why the run cannot be continued.
    """
    problem = None
    if comm.rank == 0:
        try:
            problem = _resume_problem(config, outdir, comm)
        except (OSError, KeyError, ValueError) as error:
            problem = f"{outdir / CHECKPOINT_NAME} cannot be read: {error}"
    problem = comm.bcast(problem, root=0)
    if problem:
        raise ResumeError(f"cannot resume: {problem}")
    state = checkpoint.read_state(outdir / CHECKPOINT_NAME, comm)
    log.info("resuming from %s: t = %.6g s after %d steps", outdir / CHECKPOINT_NAME, state.meta["t_s"],
             state.meta["steps"])
    return state


class RunCheckpoints:
    """The checkpoints of one vacancy transient (see the module docstring).

    Args:
        comm: The run's communicator.
        config: The run's config (its hash and text go into every checkpoint).
        outdir: The output folder.
        scales: Unit scales.
        resume: The state to resume from (:func:`resume_state`), or None.
        observer: An export with ``state()`` → {name: array} and ``set_state(arrays)``
            (e.g. the saved surface maps), kept in the checkpoint with the fields.
    """

    def __init__(self, comm: MPI.Comm, config: Config, outdir: pathlib.Path, scales: Scales,
                 resume: State | None = None, observer=None):
        self.comm, self.config, self.path, self.scales = comm, config, outdir / CHECKPOINT_NAME, scales
        self.resume, self.observer = resume, observer
        self.interval = config.output.checkpoint_interval
        self.every = config.output.checkpoint_steps
        self._since_write, self._clock = 0, time.monotonic()
        self._final: Callable[[], State] | None = None
        self.written, self.time_s = 0, 0.0

    def resumed(self) -> None:
        """Put back the observer's records (after its t = 0 record; collective)."""
        if self.resume is not None and self.observer is not None:
            self.observer.set_state({k[len("observer/"):]: v for k, v in self.resume.shared.items()
                                     if k.startswith("observer/")})

    def after_step(self, progress: Progress, capture: Callable[[], State], last: bool) -> None:
        """Write a checkpoint when due; on a signal, write one and stop (collective)."""
        if last:
            self._final = capture
            return
        self._since_write += 1
        due_by_clock = int(self.interval > 0 and time.monotonic() - self._clock >= self.interval
                           and self.comm.rank == 0)
        due_by_steps = int(self.every > 0 and self._since_write >= self.every)
        signal, by_clock, by_steps = interrupt.agreed(self.comm, due_by_clock, due_by_steps)
        if signal or by_clock or by_steps:
            self.write(capture(), last=False)
        if signal:
            raise RunInterrupted(signal, progress.t, self.path)

    def finish(self) -> None:
        """The final checkpoint, with the state after the last step (collective; if there was one)."""
        if self._final is not None:
            self.write(self._final(), last=True)

    def write(self, state: State, last: bool) -> None:
        """``checkpoint.h5`` with ``state`` and the observer's arrays (collective; replaces the last)."""
        start = time.perf_counter()
        if self.observer is not None:
            state.shared |= {f"observer/{k}": v for k, v in self.observer.state().items()}
        state.meta |= {"config_hash": config_hash(self.config), "config": config_module.to_toml(self.config),
                       "last": last, "written_unix_s": time.time()}
        material = self.config.vacancy_material()
        checkpoint.write(self.path, state.log_density, c0=material.c0, length_scale=self.scales.length,
                         time=state.meta["t_s"], total=state.meta["total"],
                         symmetry_fraction=self.config.symmetry_fraction, state=state)
        self._since_write, self._clock = 0, time.monotonic()
        self.written += 1
        self.time_s += time.perf_counter() - start
        log.info("checkpoint at t = %.6g s (step %d) in %.2f s: %s", state.meta["t_s"], state.meta["steps"],
                 time.perf_counter() - start, self.path)

    def summary(self) -> dict:
        """The checkpoint keys of summary.json."""
        keys = {"checkpoints_written": self.written, "time_checkpoints_s": self.time_s}
        if self.resume is not None:
            keys["resumed_from_t_s"] = self.resume.meta["t_s"]
        return keys
