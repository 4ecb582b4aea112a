"""Command line: ``flexotip check|mesh|run|converge|crosscheck|study``.

``flexotip check|mesh|run|converge [CONFIG]``, ``flexotip crosscheck CASE --out DIR``,
``flexotip study STUDY.toml --out DIR``.

User errors (a bad config, a missing file) print one clear message per problem and exit
with status 2, without a traceback; a solver that does not converge exits with status 3
after writing its partial results. ``flexotip converge`` exits with 1 when some key did
not converge; ``flexotip study`` with 3 when a member failed (the others complete). SIGTERM
or SIGINT stops a run cleanly (a checkpoint in a transient, summary.json with ``status =
"interrupted"``) with status 143 or 130; ``flexotip run --resume`` continues it.
Works under ``mpiexec -n N``: every rank validates
the same file, rank 0 prints.

The command line is the one module of the core that reaches up: each command imports
what it runs (the pipeline, the verification harness) inside its own branch, so that
``import flexotip.cli`` and ``flexotip check`` load no DOLFINx.
"""

from __future__ import annotations

import argparse
import logging
import pathlib
import sys

EXIT_USER_ERROR = 2
EXIT_SOLVER_FAILED = 3
EXIT_NOT_CONVERGED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flexotip",
        description="SPM tip on a SrTiO3 film: mechanics, flexoelectric polarisation and its "
                    "depolarisation field, oxygen-vacancy transport; finite elements (DOLFINx) "
                    "with a spectral (FFT) reference to cross-check them.")
    sub = parser.add_subparsers(dest="command", required=True)
    help_config = "TOML config in SI units (omit for the built-in defaults)"
    check = sub.add_parser("check", help="validate a config and print it resolved")
    check.add_argument("config", nargs="?", help=help_config)
    for name, text in (("mesh", "build the mesh only"), ("run", "mesh, solve, write outputs")):
        command = sub.add_parser(name, help=text)
        command.add_argument("config", nargs="?", help=help_config)
        command.add_argument("--out", required=True, type=pathlib.Path,
                             help="output folder (created)")
        command.add_argument("--quiet", action="store_true", help="log warnings only")
        if name == "run":
            command.add_argument("--resume", action="store_true",
                                 help="continue the vacancy transient in --out from its checkpoint.h5 "
                                      "(the config may differ only in [solve] t_end, [vacancies] max_steps "
                                      "and [output] checkpoint_*; the same number of ranks)")
    crosscheck = sub.add_parser("crosscheck", help="FEM ↔ spectral cross-check of one case at three "
                                "resolutions (cases: eigenstrain, electromechanics, nernst-planck, "
                                "gaussian-film, hertz-film, film-electromechanics)")
    crosscheck.add_argument("case", help="the case")
    crosscheck.add_argument("--out", required=True, type=pathlib.Path, help="output folder (created)")
    crosscheck.add_argument("--levels", type=int, nargs="+", default=[0, 1, 2],
                            help="resolutions: 0 coarse, 1 default, 2 fine (default: all three)")
    crosscheck.add_argument("--quiet", action="store_true", help="log warnings only")
    _add_converge(sub, help_config)
    _add_study(sub)
    _add_decay(sub)
    return parser


def _add_decay(sub) -> None:
    decay = sub.add_parser("analyse-decay", help="S(t) of a poled region from a series of surface maps, "
                           "and the diffusivity D that Fick's second law fits to it (docs/studies.md, "
                           "'S(t) → D'): decay.json, decay.csv, decay.png")
    decay.add_argument("maps", type=pathlib.Path,
                       help="a run folder (its surface_maps.npz or scan_maps.npz), or an .npz with t_s "
                            "(s, shape n) and s (the maps, shape n × nx × ny; KPFM contrast in any unit), "
                            "optionally x_m and y_m (m)")
    decay.add_argument("--out", required=True, type=pathlib.Path, help="output folder (created)")
    decay.add_argument("--thickness", type=float, default=None,
                       help="film thickness, m (default: the run's)")
    decay.add_argument("--sensing-depth", type=float, default=None,
                       help="depth the probe averages over, m (default: the run's)")
    decay.add_argument("--region", type=_box, default=None, metavar="XMIN,XMAX,YMIN,YMAX",
                       help="the poled region, m, e.g. --region=-1e-6,1e-6,-1e-6,1e-6 (default: the "
                            "whole map)")
    decay.add_argument("--reference", type=_box, default=None, metavar="XMIN,XMAX,YMIN,YMAX",
                       help="a pristine region whose mean is subtracted, m (default: none)")


def _box(text: str) -> tuple[float, float, float, float]:
    """XMIN,XMAX,YMIN,YMAX (m) of ``--region`` and ``--reference``."""
    try:
        xmin, xmax, ymin, ymax = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give four numbers XMIN,XMAX,YMIN,YMAX (m)") from None
    if not (xmin < xmax and ymin < ymax):
        raise argparse.ArgumentTypeError(f"{text!r}: needs XMIN < XMAX and YMIN < YMAX")
    return xmin, xmax, ymin, ymax


def _add_study(sub) -> None:
    study = sub.add_parser("study", help="run a parameter study (a base config and a sweep; "
                           "docs/studies.md): "
                           "every member's outputs, table.csv, fits, figures, report.md")
    study.add_argument("study", help="study file (TOML)")
    study.add_argument("--out", required=True, type=pathlib.Path, help="output folder (created)")
    study.add_argument("--ranks-per-member", type=int, default=None,
                       help="MPI ranks per member; the ranks form N/k groups that take members as they "
                            "finish (default: all ranks; with --isolate: 1)")
    study.add_argument("--isolate", action="store_true",
                       help="run each member as its own `mpiexec -n k flexotip run` (a crash costs one "
                            "member); run the study itself without mpiexec")
    study.add_argument("--member", type=int, default=None,
                       help="run member I only (0-based; e.g. a Slurm job-array task), then write the table")
    study.add_argument("--collect", action="store_true",
                       help="run nothing: build table.csv, study.json, figures and report.md from the "
                            "member folders")
    study.add_argument("--quiet", action="store_true", help="log warnings only")


def _add_converge(sub, help_config: str) -> None:
    converge = sub.add_parser("converge", help="run one config at N levels, every mesh length divided by "
                              "r per level, and report whether its summary keys converge")
    converge.add_argument("config", nargs="?", help=help_config)
    converge.add_argument("--out", required=True, type=pathlib.Path, help="output folder (created)")
    converge.add_argument("--levels", type=int, default=3,
                          help="number of levels, ≥ 2; level 0 is the config as given (default: 3)")
    converge.add_argument("--ratio", type=float, default=2.0,
                          help="refinement ratio between levels, > 1 (default: 2)")
    converge.add_argument("--rtol", type=float, default=0.02,
                          help="largest relative change between the last two levels, > 0 (default: 0.02)")
    converge.add_argument("--atol-density", type=float, default=0.02,
                          help="largest absolute change of the surface-map densities delta_*, s_*, > 0 "
                               "(default: 0.02)")
    converge.add_argument("--quiet", action="store_true", help="log warnings only")


def _say(message: str, stream=None) -> None:
    """Print on rank 0, to ``stream`` or the current stdout (looked up now, so that it can be captured)."""
    from mpi4py import MPI

    if MPI.COMM_WORLD.rank == 0:
        print(message, file=stream or sys.stdout, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``flexotip`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from mpi4py import MPI

    import flexotip
    from flexotip import config as config_module

    comm = MPI.COMM_WORLD
    if args.command == "crosscheck":
        return _crosscheck(comm, args)
    if args.command == "converge":
        return _converge(comm, args, sys.argv[1:] if argv is None else argv)
    if args.command == "study":
        return _study(comm, args, sys.argv[1:] if argv is None else argv)
    if args.command == "analyse-decay":
        return _analyse_decay(comm, args)
    try:
        config = config_module.load(args.config)
    except config_module.ConfigError as error:
        _say(f"flexotip: {error}", sys.stderr)
        return EXIT_USER_ERROR
    if args.command == "check":
        _say(config_module.to_toml(config))
        _say(f"# {args.config or 'built-in defaults'}: valid")
        return 0

    from flexotip.pipeline import run as pipeline

    def work(outdir: pathlib.Path) -> None:
        logging.getLogger("flexotip.cli").info(
            "flexotip %s on %d rank(s): %s %s → %s", flexotip.__version__, comm.size, args.command,
            args.config or "(built-in defaults)", outdir)
        if args.command == "mesh":
            pipeline.mesh_only(comm, config, outdir)
        else:
            pipeline.run(comm, config, outdir, resume=args.resume)

    return _in_output_folder(comm, args, work)


def _in_output_folder(comm, args, work) -> int:
    """Create ``args.out``, log there, run ``work(outdir)``; map failures to exit statuses."""
    from flexotip import interrupt
    from flexotip import log as flexotip_log
    from flexotip.errors import ResumeError, RunInterrupted, SolverError

    outdir = args.out.resolve()
    if args.command == "run":  # a study keeps the default stop: it is restartable member by member
        interrupt.install()
    try:
        if comm.rank == 0:
            outdir.mkdir(parents=True, exist_ok=True)
        comm.Barrier()
        flexotip_log.setup(logging.WARNING if args.quiet else logging.INFO, outdir / "log.txt",
                           append=getattr(args, "resume", False))
        work(outdir)
    except SolverError as error:
        _say(f"flexotip: {error}; partial results in {outdir}", sys.stderr)
        return EXIT_SOLVER_FAILED
    except RunInterrupted as stop:
        where = f"checkpoint in {stop.checkpoint}" if stop.checkpoint else "no checkpoint"
        _say(f"flexotip: {stop}; {where}; summary in {outdir / 'summary.json'}", sys.stderr)
        return stop.exit_status
    except ResumeError as error:
        _say(f"flexotip: {error}", sys.stderr)
        return EXIT_USER_ERROR
    except PermissionError as error:
        _say(f"flexotip: cannot write the output folder: {error}", sys.stderr)
        return EXIT_USER_ERROR
    finally:
        interrupt.uninstall()
    return 0


def _crosscheck(comm, args) -> int:
    from flexotip.verification import crosscheck

    if args.case not in crosscheck.CASES or not set(args.levels) <= {0, 1, 2}:
        _say(f"flexotip: crosscheck {args.case!r} --levels {' '.join(map(str, args.levels))}: the case must "
             f"be one of {', '.join(crosscheck.CASES)} and the levels among 0, 1, 2", sys.stderr)
        return EXIT_USER_ERROR
    return _in_output_folder(comm, args,
                             lambda outdir: crosscheck.run(comm, args.case, outdir, tuple(args.levels)))


def _converge_argument_error(args) -> str | None:
    """What is wrong with the numbers of ``flexotip converge``, or None."""
    import math

    if args.levels < 2:
        return f"--levels {args.levels}: must be an integer ≥ 2"
    if not (math.isfinite(args.ratio) and args.ratio > 1):
        return f"--ratio {args.ratio:g}: must be a finite number > 1"
    for option, value in (("--rtol", args.rtol), ("--atol-density", args.atol_density)):
        if not (math.isfinite(value) and value > 0):
            return f"{option} {value:g}: must be a finite number > 0"
    return None


def _converge(comm, args, argv: list[str]) -> int:
    """``flexotip converge``: arguments and every level's config checked, then the levels run."""
    import shlex

    from flexotip import config as config_module

    problem = _converge_argument_error(args)
    if problem:
        _say(f"flexotip: converge {problem}", sys.stderr)
        return EXIT_USER_ERROR
    from flexotip.verification import convergence

    name = args.config or "built-in defaults"
    try:
        configs = convergence.level_configs(config_module.load(args.config), args.levels, args.ratio, name)
    except config_module.ConfigError as error:
        _say(f"flexotip: {error}", sys.stderr)
        return EXIT_USER_ERROR
    launcher = f"mpiexec -n {comm.size} " if comm.size > 1 else ""
    settings = convergence.Settings(name, args.ratio, args.rtol, args.atol_density,
                                    launcher + "flexotip " + shlex.join(argv))
    reports = []
    status = _in_output_folder(comm, args, lambda outdir: reports.append(
        convergence.run(comm, configs, outdir, settings)))
    if status != 0:
        return status
    from flexotip.verification.convergence_report import verdict

    report = reports[0]
    _say(f"{args.out.resolve() / 'convergence.md'}: {verdict(report)}")
    if report["status"] == "failed":
        _say(f"flexotip: converge: {verdict(report)}; partial results in {args.out.resolve()}", sys.stderr)
        return EXIT_SOLVER_FAILED
    return 0 if report["all_converged"] else EXIT_NOT_CONVERGED


def _study_argument_error(args, comm, n_members: int) -> str | None:
    """What is wrong with the options of ``flexotip study``, or None."""
    k = args.ranks_per_member
    if args.isolate and comm.size > 1:
        return (f"--isolate on {comm.size} ranks: run the study itself on one process (each member gets "
                "its own `mpiexec -n k`); drop mpiexec, or drop --isolate")
    if k is not None and (k < 1 or (not args.isolate and comm.size % k)):
        return f"--ranks-per-member {k}: must be ≥ 1 and divide the number of ranks ({comm.size})"
    if args.member is not None and not 0 <= args.member < n_members:
        return f"--member {args.member}: the study has members 0–{n_members - 1}"
    if args.member is not None and args.collect:
        return "--member and --collect: give one of them"
    return None


def _study(comm, args, argv: list[str]) -> int:
    """``flexotip study``: the file and every member's config checked, then the study run."""
    import shlex

    from flexotip.studies import study_file

    try:
        study = study_file.load(args.study)
    except study_file.StudyError as error:
        _say(f"flexotip: {error}", sys.stderr)
        return EXIT_USER_ERROR
    problem = _study_argument_error(args, comm, len(study.members))
    if problem:
        _say(f"flexotip: study {problem}", sys.stderr)
        return EXIT_USER_ERROR
    from flexotip.studies import study as study_module
    from flexotip.studies.runner import RunSettings

    launcher = f"mpiexec -n {comm.size} " if comm.size > 1 else ""
    ranks = args.ranks_per_member or (1 if args.isolate else comm.size)
    settings = RunSettings(ranks_per_member=ranks, isolate=args.isolate, member=args.member,
                           command=launcher + "flexotip " + shlex.join(argv))
    records = []
    status = _in_output_folder(comm, args, lambda outdir: records.append(
        study_module.run(comm, study, outdir, settings, collect_only=args.collect)))
    if status != 0:
        return status
    record = records[0]
    _say(f"{args.out.resolve() / 'report.md'}: {record['n_complete']} of {record['n_members']} members "
         "complete, "
         f"{record['n_failed']} failed, {record['n_missing']} not run")
    return EXIT_SOLVER_FAILED if record["n_failed"] else 0


def _analyse_decay(comm, args) -> int:
    """``flexotip analyse-decay``: one rank analyses, the others wait (the fit is small)."""
    from flexotip.studies import decay

    status = 0
    if comm.rank == 0:
        try:
            result = decay.analyse(args.maps, args.out, thickness=args.thickness,
                                   sensing_depth=args.sensing_depth,
                                   region=args.region, reference=args.reference)
        except (ValueError, OSError) as error:
            print(f"flexotip analyse-decay: {error}", file=sys.stderr, flush=True)
            status = EXIT_USER_ERROR
        else:
            stderr = result["decay_diffusivity_stderr_m2_per_s"]
            print(f"D = {result['decay_diffusivity_m2_per_s']:.4g}"
                  + (f" ± {stderr:.2g}" if stderr is not None else "")
                  + f" m²/s from {result['decay_points']} maps; S(t) and the fit in {args.out}", flush=True)
    return comm.bcast(status, root=0)


if __name__ == "__main__":
    sys.exit(main())
