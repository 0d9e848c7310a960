"""Command line of the stability protocol: `python examples/md_3bpa.py` and
`gaunt-md md-stability` share this parser and `run_from_args`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# relative to the working directory: the repository's shipped potential when run from its root
DEFAULT_MODEL = "potentials/gaunt_mace_3bpa.pt"
DEFAULT_START = "the shipped 3BPA molecule, package data gaunt_md/md/data/3bpa_start.xyz"
DEFAULT_TEMPERATURES = (300.0, 600.0, 1200.0)
QUICK = {"runs": 2, "time_ps": 0.5}      # the plain run: a few minutes on 2 CPU cores
FULL = {"runs": 10, "time_ps": 100.0}    # --full

DEFAULT_JOBS = max(1, min(2, os.cpu_count() or 1))
DESCRIPTION = "MD stability protocol: does a Gaunt-MACE potential keep a molecule (3BPA by default) physical?"

PROTOCOL = f"""\
protocol (criteria after Fu et al. 2022, "Forces are not enough"):
  For each temperature (default 300, 600, 1200 K), --runs independent runs, each with its own seed
  and Maxwell-Boltzmann starting velocities (no centre-of-mass motion or rotation), from the shipped
  optimised molecule (gaunt_md/md/data/3bpa_start.xyz) or from frames evenly spaced through --data.
  Dynamics: Langevin NVT (ase.md.langevin, friction --friction, default 0.01 /fs) or velocity-Verlet
  NVE (--ensemble nve, which also reports the total-energy drift in meV/atom/ps), time step 0.5 fs.
  Bonds are those of the starting geometry (distance < 1.2 x the sum of covalent radii, ase
  natural_cutoffs).  A run FAILS at the first step where
    - a bond deviates by more than 0.5 A from its starting length       (bond_stretch)
    - a hydrogen is farther than 2.5 A from every heavy atom            (h_detached)
    - a pair that was not bonded comes within the bond cutoff           (new_bond)
    - energy, forces or positions are not finite                       (non_finite)
  and its time to failure is recorded (a stable run counts with its full length).
  Default size: {QUICK['runs']} runs x {QUICK['time_ps']:g} ps per temperature (minutes on 2 CPU cores);
  --full: {FULL['runs']} runs x {FULL['time_ps']:g} ps per temperature (the long protocol).

output (in --out): summary.json (numbers per temperature and per run), report.md (verdict, table,
  runs, figures), temperature_energy.png, bond_deviation.png, bond_lengths.png, and
  trajectories/T<T>K_run<i>.extxyz (every --traj-every steps, plus the last/failing step)."""


def _model_path(value: str) -> Path:
    """--model as a path; the default one must exist in the working directory."""
    path = Path(value)
    if value == DEFAULT_MODEL and not path.exists():
        raise FileNotFoundError(
            f"--model: no {DEFAULT_MODEL} in {Path.cwd()} (the default is relative to the working directory: "
            "run from the repository root, where the shipped potential lives, or pass --model)")
    return path


def _temperatures(text: str):
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"temperatures must be numbers, got {text!r}")
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("temperatures must be positive")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    a = parser.add_argument
    a("--model", default=DEFAULT_MODEL,
      help=f"exported model file (default {DEFAULT_MODEL}, relative to the working directory)")
    a("--temperatures", type=_temperatures, nargs="+", default=[list(DEFAULT_TEMPERATURES)],
      help="temperatures in K, comma or space separated (default 300,600,1200)")
    a("--runs", type=int, default=None, help=f"runs per temperature (default {QUICK['runs']}; --full {FULL['runs']})")
    a("--time-ps", type=float, default=None,
      help=f"length of each run in ps (default {QUICK['time_ps']:g}; --full {FULL['time_ps']:g})")
    a("--timestep-fs", type=float, default=0.5, help="time step in fs (default 0.5)")
    a("--friction", type=float, default=0.01, help="Langevin friction in 1/fs (default 0.01)")
    a("--ensemble", choices=["nvt", "nve"], default="nvt", help="nvt: Langevin (default); nve: velocity Verlet + energy drift")
    a("--seed", type=int, default=0, help="base seed; each (temperature, run) gets its own stream (default 0)")
    a("--engine", choices=["ase", "lammps"], default="ase", help="MD engine (default ase)")
    a("--calculator", default=None, metavar="MODULE:FUNCTION",
      help="run another ASE calculator instead of GauntCalculator (ase engine): FUNCTION(model) from "
           "'package.module' or 'file.py' returns it, once per MD process (e.g. "
           "benchmarks/mace_socket.py:calculator for a mace-torch model)")
    a("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    a("--dtype", choices=["float32", "float64"], default=None, help="model precision (default: the model's)")
    a("--data", default=None, help="extxyz dataset: start the runs from frames evenly spaced through it")
    a("--start", default=None, help=f"starting geometry (default {DEFAULT_START})")
    a("--name", default=None, help="name of the molecule in the report (default 3BPA for the shipped start, else the formula)")
    a("--out", default="md_3bpa_out", help="output directory (default md_3bpa_out)")
    a("--traj-every", type=int, default=20, help="write a trajectory frame every k steps; 0: none (default 20)")
    a("--full", action="store_true", help=f"the long protocol: {FULL['runs']} runs x {FULL['time_ps']:g} ps per temperature")
    a("--jobs", type=int, default=DEFAULT_JOBS,
      help=f"runs in parallel processes (default {DEFAULT_JOBS}: one per core, at most 2)")
    a("--threads", type=int, default=1,
      help="torch threads per process (default 1: a small molecule gains nothing from more)")
    a("--no-progress", action="store_true", help="no progress bars")
    return parser


def build_parser(prog: str = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION, epilog=PROTOCOL,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    return add_arguments(parser)


def run_from_args(args) -> dict:
    """Run the protocol as the arguments say; write OUT/*; print the table; return the summary."""
    from .checks import check_device, check_model, check_numbers
    from .criteria import Criteria
    from .engines import get_engine
    from .plots import make_plots
    from ..interrupts import stop_on_interrupt
    from .config import ProtocolConfig
    from .protocol import protocol_tasks, run_protocol
    from .report import write_report
    from .starts import SHIPPED_START, load_starts
    from .summary import build_summary, format_table, write_summary

    sizes = FULL if args.full else QUICK
    runs = args.runs if args.runs is not None else sizes["runs"]
    time_ps = args.time_ps if args.time_ps is not None else sizes["time_ps"]
    # everything is checked before the header is printed or a file is written
    check_numbers(runs, time_ps, args.timestep_fs, args.friction, args.ensemble, args.traj_every, args.jobs,
                  args.threads, [t for group in args.temperatures for t in group])
    check_device(args.device, args.dtype)
    engine = get_engine(args.engine)
    model = _model_path(args.model)
    start = None if args.data else Path(args.start) if args.start else SHIPPED_START
    starts = load_starts(None if start is None else str(start), args.data, runs)
    first = starts[0][1]
    if args.calculator:
        from .engines.external import calculator_factory

        if args.engine != "ase":
            raise ValueError("--calculator runs with --engine ase")
        calculator_factory(args.calculator)  # importable, before any work
        if not model.exists():
            raise FileNotFoundError(f"--model: no file {model}")
    else:
        check_model(model, first)
    shipped = start is not None and args.start is None
    name = args.name or ("3BPA" if shipped else first.get_chemical_formula())
    config = ProtocolConfig(
        model=str(model), temperatures=[t for group in args.temperatures for t in group], runs=runs, time_ps=time_ps,
        timestep_fs=args.timestep_fs, friction_per_fs=args.friction, ensemble=args.ensemble, seed=args.seed,
        device=args.device, dtype=args.dtype, calculator=args.calculator, traj_every=args.traj_every,
        criteria=Criteria(),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"{name} ({first.get_chemical_formula()}, {len(first)} atoms) with {model.name}: "
          f"{len(config.temperatures)} temperatures x {runs} runs x {config.n_steps} steps "
          f"({time_ps:g} ps, {args.ensemble}, engine {args.engine}, {min(args.jobs, runs * len(config.temperatures))} "
          f"process(es)) -> {out}/", flush=True)
    import torch

    torch.set_num_threads(args.threads)
    with stop_on_interrupt("Ctrl-C: stopping the runs in progress and writing the summary of what ran "
                           "(Ctrl-C again to quit at once)") as stop:
        records = run_protocol(engine, starts, config, out=out, progress=not args.no_progress, jobs=args.jobs,
                               threads=args.threads, stop=stop)
    started = {(r.temperature_K, r.run) for r in records}
    not_started = [(t.temperature, t.run) for t in protocol_tasks(starts, config) if (t.temperature, t.run) not in started]
    system = {
        "name": name, "formula": first.get_chemical_formula(), "n_atoms": len(first),
        "start": args.data if args.data else str(start), "n_bonds": len(records[0].ref_lengths) if records else None,
    }
    summary = build_summary(records, config.to_dict(), system, engine.describe(), not_started)
    figures = make_plots(records, out, config.criteria.max_bond_deviation) if records else {}
    summary["files"] = {"report": "report.md", **{k: Path(v).name for k, v in figures.items()},
                        "trajectories": "trajectories/" if args.traj_every else None}
    write_summary(summary, out / "summary.json")
    write_report(summary, figures, out / "report.md")
    print()
    print(format_table(summary))
    print()
    if summary["interrupted"]:
        stopped = sum(r.interrupted for r in records)
        print(f"{name}: INTERRUPTED by Ctrl-C: {len(records) - stopped} run(s) finished, {stopped} stopped early "
              f"(marked interrupted), {len(not_started)} not started.  Details: {out / 'report.md'}, "
              f"{out / 'summary.json'}")
        return summary
    verdict = "stable in every run" if summary["all_stable"] else "NOT stable in every run"
    print(f"{name}: {verdict}.  Details: {out / 'report.md'}, {out / 'summary.json'}")
    return summary


def exit_code(summary: dict) -> int:
    """0, or 130 (as for Ctrl-C) when the runs were interrupted."""
    from ..interrupts import EXIT_CODE

    return EXIT_CODE if summary.get("interrupted") else 0


def main(argv=None, prog: str = None) -> int:
    from ..interrupts import run_command
    from .engines import EngineUnavailable

    args = build_parser(prog).parse_args(argv)
    return run_command(prog or "md-stability", lambda: exit_code(run_from_args(args)),
                       (ValueError, FileNotFoundError, EngineUnavailable))


if __name__ == "__main__":
    sys.exit(main())
