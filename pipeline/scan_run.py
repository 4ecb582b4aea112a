"""A scanning tip, ``flexotip run`` of a config with a [scan] section.

:func:`run` reads as its steps: mesh refined along the path → the prescribed pressure
at the start → the tip's path → (u, P, φ) with the vacancies' space charge → the vacancy
transient over the whole scan, the tip moved after each step
(:mod:`flexotip.fem.scan_problem`) and the maps saved at the frame times
(:mod:`flexotip.exports.scan`) → the scan's maps, lines, keys and fields.
"""

from __future__ import annotations

import logging
import pathlib
import time

from mpi4py import MPI

import numpy as np

from flexotip.config import Config
from flexotip.errors import RunInterrupted, SolverError
from flexotip.exports import fields
from flexotip.exports.scan import ScanRecorder
from flexotip.exports.surface_map import vacancy_totals
from flexotip.fem.checkpoint import State
from flexotip.fem.scan_problem import MovingTip
from flexotip.fem.tip_problem import solve_prescribed
from flexotip.fem.vacancy_problem import solve_with_vacancies
from flexotip.pipeline import output_folder, parameters
from flexotip.pipeline.checkpoints import RunCheckpoints
from flexotip.pipeline.meshing import mesh
from flexotip.units import Scales

log = logging.getLogger(__name__)


def run(comm: MPI.Comm, config: Config, outdir: pathlib.Path, stack=None,
        resume: State | None = None) -> dict:
    """Mesh, scan and write every output of a scan config; return the summary.

    Args:
        comm: The run's communicator.
        config: A config with [scan] start set.
        outdir: Output folder.
        stack: A mesh to scan on instead of the config's (tests: a mirrored mesh).
        resume: The checkpointed state to continue the scan from
            (:func:`flexotip.pipeline.checkpoints.resume_state`).

    Raises:
        SolverError: After writing summary.json with ``status = "failed"``.
    """
    start, scales, outdir = time.perf_counter(), Scales(), pathlib.Path(outdir)
    output_folder.prepare(comm, config, outdir)
    summary: dict = output_folder.versions(comm)
    tip = parameters.tip_problem(config)
    if stack is None:
        stack = mesh(comm, config, outdir, scales)
    summary |= output_folder.mesh_summary(stack, scales)
    path = parameters.scan_path(config)
    frame_times = np.linspace(0.0, path.duration, config.scan.frames)
    vac_params = parameters.vacancy_problem(config, stops=tuple(frame_times[1:-1]))
    recorder = ScanRecorder(stack, scales, path, config.contact_radius, config.vacancies.sensing_depth,
                            config.vacancies.step_x, frame_times, outdir, config.symmetry_fraction,
                            enriched=config.vacancies.initial != "uniform")
    log.info("scanning: %d pass(es) of %.4g nm at %.4g m/s (%.4g s), Péclet v·a/D = %.3g, at most %.3g s "
             "per step", len(path.segments), path.speed * path.segments[0].duration * 1e9, path.speed,
             path.duration, path.speed * config.contact_radius / config.vacancies.diffusivity, path.max_step)
    solve_start = time.perf_counter()
    checkpoints = RunCheckpoints(comm, config, outdir, scales, resume, observer=recorder)
    try:
        solution = solve_prescribed(stack, tip, scales)
        moving = MovingTip(solution.prescribed, path, config.tip.force, scales)
        moving.place(0.0)
        em, vac = solve_with_vacancies(
            stack, vac_params, parameters.electromechanical_problem(config), scales, solution,
            config.contact_radius / scales.length, observe=recorder.observe,
            initial=parameters.initial_vacancies(config, stack, scales), tip_motion=moving,
            checkpoints=checkpoints)
        checkpoints.finish()  # the scan's end, before the reference run (which has no checkpoints)
        reference = (lifted_reference(stack, config, vac_params, scales, solution) if config.scan.reference
                     else None)
    except SolverError as error:
        recorder.close()
        output_folder.write_failure(comm, summary, error, start, outdir, "config, mesh, the maps so far, log")
        raise
    except RunInterrupted as stop:
        recorder.close()
        output_folder.write_interrupted(comm, summary | checkpoints.summary(), stop, start, outdir)
        raise
    result = recorder.compute(vac, reference)
    result.write(outdir, comm)
    vac.history.write_csv(outdir / "vacancy_history.csv", comm)
    wanted = set(config.output.fields)
    fields.write_vacancies(outdir, vac, wanted, config.output.format, scales)
    steps = max(len(vac.history), 1)
    summary |= em.report.summary() | vac.report.summary() | result.summary | checkpoints.summary() | {
        "physics_solved": ["mechanics", "polarization", "electrostatics", "vacancies"],
        **vacancy_totals(vac, scales.length, config.symmetry_fraction),
        "scan_em_newton_iterations": em.solver.newton_iterations, "contact_radius_m": config.contact_radius,
        "time_solve_s": time.perf_counter() - solve_start,
        "time_per_step_s": (time.perf_counter() - solve_start) / steps,
        "time_em_per_step_s": vac.report.time_em_updates_s / steps}
    summary = output_folder.write_complete(comm, summary, start, outdir)
    log.info("scan done in %.1f s (%d steps, %.3g s each, %.3g s of it (u, P, φ)): results in %s",
             summary["time_total_s"], steps, summary["time_per_step_s"], summary["time_em_per_step_s"],
             outdir)
    return summary


def lifted_reference(stack, config: Config, vac_params, scales: Scales, solution):
    """The vacancies after the scan's time with the tip lifted throughout, from the same start.

    The prescribed pressure's force is set to zero (the tip stays where the scan ended; it
    does not press), and (u, P, φ) follows the space charge by linear updates.
    """
    log.info("scan: the lifted-tip reference over the same %.4g s", vac_params.t_end)
    solution.prescribed.force.value = 0.0
    _, reference = solve_with_vacancies(
        stack, vac_params, parameters.electromechanical_problem(config), scales, solution,
        config.contact_radius / scales.length, initial=parameters.initial_vacancies(config, stack, scales))
    return reference
