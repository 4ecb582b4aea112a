"""One run, ``flexotip run CONFIG --out DIR``: config → mesh → tip load → (u, P, φ) → vacancies.

:func:`run` reads as its steps. Each solve gets its parameters from
:mod:`flexotip.pipeline.parameters` and hands its solution to the exports
(:mod:`flexotip.exports`), which write the profiles, maps and fields and return their keys
of summary.json; the output folder (:mod:`flexotip.pipeline.output_folder`) is closed by
summary.json, with ``status = "complete"`` or, when a solver fails, ``"failed"`` and the
solver's reason, or, on SIGTERM/SIGINT, ``"interrupted"`` and how to resume. A vacancy
transient writes checkpoints (:mod:`flexotip.pipeline.checkpoints`) and can be resumed
(``resume=True``) from the last one.
"""

from __future__ import annotations

import logging
import pathlib
import time

from mpi4py import MPI

from flexotip import interrupt
from flexotip.config import Config
from flexotip.errors import RunInterrupted, SolverError
from flexotip.exports import fields
from flexotip.exports.electric import ElectricCuts, ElectricFields
from flexotip.exports.profiles import MechanicsProfiles
from flexotip.exports.surface_map import VacancyMap
from flexotip.fem.checkpoint import State
from flexotip.fem.contact import ApproachNotFoundError, contact_edge, surface_pressure
from flexotip.fem.electromechanical_problem import applied_potential, solve_electromechanics
from flexotip.fem.tip_problem import TipLoadSolution, TipProblemParameters, solve_contact, solve_prescribed
from flexotip.fem.vacancy_problem import solve_with_vacancies
from flexotip.geometry.mesh import StackMesh
from flexotip.pipeline import output_folder, parameters
from flexotip.pipeline.checkpoints import RunCheckpoints, resume_state
from flexotip.pipeline.meshing import mesh
from flexotip.units import Scales

log = logging.getLogger(__name__)


def run(comm: MPI.Comm, config: Config, outdir: pathlib.Path, resume: bool = False) -> dict:
    """Mesh, solve and write every output of one config; return the summary.

    A solved contact whose edge falls outside the refined band is re-meshed once around
    the computed radius (``[mesh] remesh``), or reported with a warning. On a solver
    failure the summary is written with ``status = "failed"`` and the solver's reason,
    and the error is raised again for the caller; likewise on a signal, with ``status =
    "interrupted"`` (:class:`~flexotip.errors.RunInterrupted`).

    Args:
        comm: The run's communicator.
        config: The validated config.
        outdir: The output folder.
        resume: Continue the transient from ``outdir``'s checkpoint (checked against the
            config before anything is meshed; :class:`~flexotip.errors.ResumeError`).
    """
    state = resume_state(comm, config, pathlib.Path(outdir)) if resume else None
    if config.scanning:
        from flexotip.pipeline import scan_run

        return scan_run.run(comm, config, outdir, resume=state)
    if config.solve.solver == "spectral":
        from flexotip.pipeline import spectral_run

        return spectral_run.run(comm, config, outdir)
    start, scales, outdir = time.perf_counter(), Scales(), pathlib.Path(outdir)
    output_folder.prepare(comm, config, outdir)
    summary: dict = output_folder.versions(comm)
    try:
        summary = _solve_and_write(comm, config, outdir, scales, state, summary, start)
    except RunInterrupted as stop:
        output_folder.write_interrupted(comm, summary, stop, start, outdir)
        raise
    summary = output_folder.write_complete(comm, summary, start, outdir)
    log.info("done in %.1f s: axis displacement %.4g m, max shear %.4g Pa at depth %.4g m; "
             "results in %s", summary["time_total_s"], summary["axis_displacement_m"],
             summary["max_shear_stress_Pa"], summary["max_shear_depth_m"], outdir)
    return summary


def _solve_and_write(comm: MPI.Comm, config: Config, outdir: pathlib.Path, scales: Scales,
                     state: State | None, summary: dict, start: float) -> dict:
    """The steps of :func:`run` after the folder is prepared (``start``: the run's start, s).

    Fills ``summary`` in place and returns it. Stops between the steps if a rank received
    SIGTERM/SIGINT (and in a transient after a step, with a checkpoint).
    """
    tip = parameters.tip_problem(config)
    stack = mesh(comm, config, outdir, scales)
    summary |= output_folder.mesh_summary(stack, scales)
    interrupt.check(comm)
    solve_start = time.perf_counter()
    try:
        stack, solution, keys = solve_tip_load(comm, config, tip, stack, scales, outdir)
    except (SolverError, ApproachNotFoundError) as error:
        output_folder.write_failure(comm, summary, error, start, outdir, "config, mesh, log, summary")
        raise
    summary |= keys
    summary |= export_mechanics(config, tip, stack, solution, scales, outdir)
    interrupt.check(comm)
    physics_solved = ["mechanics"]
    if parameters.needs_electromechanics(config):
        try:
            summary |= solve_and_export_electric_state(config, stack, solution, summary, scales, outdir,
                                                       state)
        except SolverError as error:
            output_folder.write_failure(comm, summary, error, start, outdir,
                                        "mechanics fields and profiles, summary")
            raise
        physics_solved += ["polarization", "electrostatics"] + (["vacancies"] if config.physics.vacancies
                                                                else [])
    elif config.physics.vacancies:
        log.info("vacancies: no field acts on them (no flexoelectricity, no bias): they stay uniform")
    summary |= {"physics_solved": physics_solved, "time_solve_s": time.perf_counter() - solve_start}
    return summary


def mesh_only(comm: MPI.Comm, config: Config, outdir: pathlib.Path) -> dict:
    """Build and write the mesh of a config (``flexotip mesh``); return the summary."""
    start, scales, outdir = time.perf_counter(), Scales(), pathlib.Path(outdir)
    output_folder.prepare(comm, config, outdir)
    stack = mesh(comm, config, outdir, scales)
    summary = {**output_folder.versions(comm),
               **output_folder.mesh_summary(stack, scales)}
    return output_folder.write_complete(comm, summary, start, outdir)


def solve_tip_load(comm: MPI.Comm, config: Config, tip: TipProblemParameters, stack: StackMesh,
                   scales: Scales, outdir: pathlib.Path) -> tuple[StackMesh, TipLoadSolution, dict]:
    """The prescribed pressure or the solved contact; a contact edge outside its band re-meshes.

    Returns the (possibly new) mesh, the solution and the summary keys of the re-mesh.
    """
    solve = solve_contact if tip.load == "contact" else solve_prescribed
    solution = solve(stack, tip, scales)
    if solution.contact is None:
        return stack, solution, {}
    inner, outer = stack.geometry.refine_band
    radius = contact_edge(surface_pressure(solution.uh, solution.pressure, solution.ds_load),
                          stack.geometry).radius
    in_band = inner <= radius <= outer
    remeshed = not in_band and config.mesh.remesh
    if not in_band:
        L = scales.length
        log.warning("contact edge at r = %.4g nm lies outside the refined band [%.4g, %.4g] nm%s",
                    radius * L * 1e9, inner * L * 1e9, outer * L * 1e9,
                    "; re-meshing around it" if config.mesh.remesh else
                    " (set [mesh] remesh = true or widen [mesh] contact_band)")
    if remeshed:
        geometry = parameters.stack_geometry(config, scales, radius * scales.length)
        reach = max(abs(c) for c in geometry.contact_center) + geometry.refine_band[1]
        if reach >= geometry.half_width:  # a band across the wall makes a mesh DOLFINx cannot distribute
            L = scales.length
            raise SolverError("contact", f"the computed contact radius {radius * L:.4g} m needs a refined "
                              f"band out to {reach * L:.4g} m from the centre, beyond the box ([film] "
                              f"half_width = {config.film.half_width:.4g} m): widen the box or narrow "
                              "[mesh] contact_band", 0)
        stack = mesh(comm, config, outdir, scales, contact_radius=radius * scales.length)
        solution = solve(stack, tip, scales)
    return stack, solution, output_folder.mesh_summary(stack, scales) | {"remeshed": remeshed}


def export_mechanics(config: Config, tip: TipProblemParameters, stack: StackMesh, solution: TipLoadSolution,
                     scales: Scales, outdir: pathlib.Path) -> dict:
    """Axis and surface profiles, the mechanics fields; returns their summary keys."""
    profiles = MechanicsProfiles(stack, tip, scales).compute(solution)
    profiles.write(outdir, stack.msh.comm)
    fields.write_mechanics(outdir, solution, set(config.output.fields), config.output.format, scales)
    return profiles.summary


def solve_and_export_electric_state(config: Config, stack: StackMesh, solution: TipLoadSolution,
                                    mechanics: dict, scales: Scales, outdir: pathlib.Path,
                                    resume: State | None = None) -> dict:
    """(u, P, φ) (and the vacancies), their cuts, maps and fields; returns their summary keys.

    A vacancy transient writes checkpoints and starts from ``resume`` if given.
    """
    comm, wanted = stack.msh.comm, set(config.output.fields)
    contact_radius = mechanics["contact_radius_m"] / scales.length
    em_params = parameters.electromechanical_problem(config)
    vac = vacancy_map = checkpoints = None
    if config.physics.vacancies:
        map_times = tuple(config.output.map_times)
        vac_params = parameters.vacancy_problem(config, stops=map_times)
        vacancy_map = VacancyMap(stack, scales, contact_radius, config.vacancies.sensing_depth,
                                 config.symmetry_fraction, vac_params.surface, map_times)
        if vac_params.transient:
            checkpoints = RunCheckpoints(comm, config, outdir, scales, resume, observer=vacancy_map)
        em, vac = solve_with_vacancies(stack, vac_params, em_params, scales, solution, contact_radius,
                                       observe=vacancy_map.observe if vac_params.transient else None,
                                       initial=parameters.initial_vacancies(config, stack, scales),
                                       checkpoints=checkpoints)
    else:
        em = solve_electromechanics(stack, em_params, scales, solution, contact_radius)
    phi_applied = (applied_potential(stack, em_params, scales, em, contact_radius) if em_params.bias != 0.0
                   else None)
    keys = em.report.summary()
    if em.report.tdgl is not None:
        em.report.tdgl.history.write_csv(outdir / "tdgl_history.csv", comm)
    electric = ElectricFields.recover(stack, em, scales, phi_applied)
    cuts = ElectricCuts(stack, em_params, scales).compute(em, electric, contact_radius)
    cuts.write(outdir, comm)
    fields.write_electric(outdir, em, electric, wanted, config.output.format, em_params.degree, scales)
    keys |= cuts.summary
    if vac is not None:
        if vac.history is not None:
            vac.history.write_csv(outdir / "vacancy_history.csv", comm)
        vacancy_state = vacancy_map.compute(vac)
        vacancy_state.write(outdir, comm)
        if checkpoints is not None:
            checkpoints.finish()
            keys |= checkpoints.summary()
        else:
            output_folder.write_checkpoint(outdir, vac, scales, config.symmetry_fraction)
        fields.write_vacancies(outdir, vac, wanted, config.output.format, scales)
        keys |= vacancy_state.summary
    return keys

