"""gaunt-md command line: train | eval | export | card | scan | md-stability | label | select | distort."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _train(args) -> int:
    from .interrupts import EXIT_CODE, stop_on_interrupt
    from .train.config import load_config
    from .train.logs import training_log
    from .train.progress import set_progress
    from .train.schedule import check_lr_override
    from .train.trainer import Trainer

    cfg = load_config(args.config)
    if args.output_dir:
        cfg.output_dir = args.output_dir
    if args.max_epochs is not None:
        if args.max_epochs < 0:
            raise ValueError(f"--max-epochs must be >= 0, got {args.max_epochs}")
        cfg.optim.max_epochs = args.max_epochs
    if args.device:
        cfg.device = args.device
    if args.lr is not None:
        check_lr_override(cfg.optim)  # before the data are read
    set_progress(not args.no_progress)
    with training_log():
        trainer = Trainer(cfg, resume=args.resume, overwrite=args.overwrite)
        if args.lr is not None:
            trainer.set_lr(args.lr)
        with stop_on_interrupt("Ctrl-C: stopping before the next batch (Ctrl-C again to quit at once)") as stop:
            final = trainer.run(time_limit_s=None if args.time_limit is None else 60.0 * args.time_limit, stop=stop)
    if trainer.interrupted:
        again = " ".join(["gaunt-md train", str(args.config), "--resume"]
                         + (["--output-dir", str(args.output_dir)] if args.output_dir else [])
                         + (["--device", str(args.device)] if args.device else []))
        print(f"gaunt-md train: interrupted; {Path(cfg.output_dir) / 'last.pt'} holds epoch {trainer.epoch}. "
              f"Continue with: {again}", file=sys.stderr)
        return EXIT_CODE
    print(json.dumps(final, indent=2))
    return 0


def _eval(args) -> int:
    from .eval_cli import run_eval

    run_eval(args.model, args.data, args.out, args.energy_key, args.forces_key, args.batch_size, args.dtype,
             args.stress_key)
    return 0


def _export(args) -> int:
    from .deploy.export import export_model

    meta = export_model(args.checkpoint, args.output, args.dtype)
    print(f"wrote {args.output}: {', '.join(meta['symbols'])}, r_max {meta['r_max']} A, {meta['dtype']}")
    return 0


def _card(args) -> int:
    from .deploy.model_card import write_model_card

    notes = Path(args.notes).read_text() if args.notes else ""
    write_model_card(args.checkpoint, args.output, args.title, notes)
    print(f"wrote {args.output}")
    return 0


def _scan(args) -> int:
    from .md.scans import scan_model

    result = scan_model(args.model, args.start, args.out, args.dtype, calculator=args.calculator)
    for label, problems in result["failures"].items():
        print(f"FAIL {label}: {'; '.join(problems)}")
    print(f"{result['scans'] - len(result['failures'])}/{result['scans']} scans climb as they must; "
          f"wrote {Path(args.out) / 'scans.json'} and scans.png")
    return 1 if result["failures"] else 0


def _md_stability(args) -> int:
    from .md.cli import exit_code, run_from_args
    from .md.engines import EngineUnavailable

    try:
        return exit_code(run_from_args(args))
    except EngineUnavailable as err:
        print(f"gaunt-md md-stability: error: {err}", file=sys.stderr)
        return 2


def _spin(text: str):
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or 2S (an integer >= 0), got {text!r}") from None


def _label(args) -> int:
    from .interrupts import EXIT_CODE
    from .label.pyscf_label import PySCFMissing, SCFNotConverged
    from .label.run import label_file
    from .label.settings import LabelSettings

    try:
        settings = LabelSettings(xc=args.method, basis=args.basis, density_fit=not args.no_density_fit,
                                 grid_level=args.grid_level, charge=args.charge, spin=args.spin,
                                 conv_tol=args.conv_tol, max_memory=args.max_memory, threads=args.threads)
        summary = label_file(args.input, args.output, settings, energy_key=args.energy_key,
                             forces_key=args.forces_key, isolated_atoms=args.isolated_atoms,
                             max_frames=args.max_frames)
    except PySCFMissing as err:
        print(f"gaunt-md label: error: {err}", file=sys.stderr)
        return 2
    except SCFNotConverged as err:
        print(f"gaunt-md label: error: {err}; {args.output} keeps the frames labelled before it", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ngaunt-md label: interrupted; {args.output} keeps every frame labelled so far. "
              f"Run the same command again to continue.", file=sys.stderr)
        return EXIT_CODE
    print(f"wrote {summary.out}: {summary.total} labelled structures "
          f"({summary.labelled} now, {summary.already} from earlier runs) in {summary.wall_s:.1f} s")
    return 0


def _select(args) -> int:
    from .select.run import SelectSettings, describe, select_frames

    settings = SelectSettings(count=args.count, models=args.models or (), min_distance=args.min_distance,
                              precursor_ps=args.precursor_ps, precursors_first=not args.no_precursors,
                              skip_ps=args.skip_ps, min_force_std=args.min_force_std, known=args.known or (),
                              device=args.device)
    chosen, total = select_frames(args.inputs, args.output, settings)
    print(describe(chosen, total))
    print(f"wrote {args.output}; label it with: gaunt-md label {args.output} LABELLED.xyz")
    return 0


def _distort(args) -> int:
    import ase.io

    from .data.splits import train_valid_split
    from .select.distort import DistortRanges, distorted_frames

    bases = ase.io.read(args.input, index=":")
    ids = list(range(len(bases)))
    if args.train_split:
        n_valid, seed = args.train_split
        ids = train_valid_split(len(bases), float(n_valid) if "." in n_valid else int(n_valid), int(seed))[0]
        bases = [bases[i] for i in ids]
    ranges = DistortRanges(bend_deg=tuple(args.bend_deg), stretch_factor=tuple(args.stretch),
                           contact_A=tuple(args.contact), jitter_A=args.jitter)
    frames = distorted_frames(bases, args.count, seed=args.seed, kinds=args.kinds, ranges=ranges,
                              exclude=args.exclude or (), base_ids=ids, config_type=args.config_type)
    ase.io.write(args.output, frames, format="extxyz")
    made = {k: sum(f.info["distort_kind"] == k for f in frames) for k in args.kinds}
    print(f"wrote {args.output}: {len(frames)} frames ({', '.join(f'{v} {k}' for k, v in made.items())}); "
          f"label it with: gaunt-md label {args.output} LABELLED.xyz")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gaunt-md", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a Gaunt-MACE potential from a YAML config")
    train.add_argument("config", help="YAML config (see examples/train_3bpa.yaml)")
    train.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/last.pt")
    train.add_argument("--overwrite", action="store_true",
                       help="start afresh in an OUTPUT_DIR that holds another run (its outputs are removed)")
    train.add_argument("--no-progress", action="store_true",
                       help="no progress bars (there are none anyway when stderr is not a terminal)")
    train.add_argument("--output-dir", default=None, help="override output_dir of the config")
    train.add_argument("--max-epochs", type=int, default=None, help="override optim.max_epochs")
    train.add_argument("--lr", type=float, default=None,
                       help="set the learning rate now (e.g. to fine-tune a resumed run at a lower rate)")
    train.add_argument("--device", default=None, help="override device (cpu, cuda, cuda:1, ...)")
    train.add_argument("--time-limit", type=float, default=None, metavar="MIN",
                       help="stop after the epoch that passes MIN minutes (checkpointed; continue with --resume)")
    train.set_defaults(func=_train)

    ev = sub.add_parser("eval", help="errors of a model on labelled structures")
    ev.add_argument("model", help="training checkpoint (best.pt) or exported model file (gaunt-md export)")
    ev.add_argument("data", help="extxyz with reference energies and forces (and stress)")
    ev.add_argument("--out", default="eval",
                    help="output directory (metrics.json, table.md, predictions.xyz, parity.png)")
    ev.add_argument("--energy-key", default=None, help="default: the training data's key, else energy")
    ev.add_argument("--forces-key", default=None, help="default: the training data's key, else forces; none: off")
    ev.add_argument("--stress-key", default=None, help="default: the training data's key (if any); none: off")
    ev.add_argument("--batch-size", type=int, default=10)
    ev.add_argument("--dtype", choices=["float32", "float64"], default=None)
    ev.set_defaults(func=_eval)

    ex = sub.add_parser("export", help="export a checkpoint to a TorchScript model file")
    ex.add_argument("checkpoint", help="training checkpoint (best.pt)")
    ex.add_argument("-o", "--output", required=True, help="model file to write (e.g. model.pt)")
    ex.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    ex.set_defaults(func=_export)

    card = sub.add_parser("card", help="write a Markdown model card from a training checkpoint")
    card.add_argument("checkpoint", help="training checkpoint (best.pt)")
    card.add_argument("-o", "--output", required=True, help="card to write (e.g. model.md)")
    card.add_argument("--title", default="Gaunt-MACE potential")
    card.add_argument("--notes", default=None, help="Markdown file appended as the card's notes")
    card.set_defaults(func=_card)

    scan = sub.add_parser("scan", help="energy scans for holes: H bends, bond stretches, close contacts "
                                        "(exit 1 if a scan does not climb)")
    scan.add_argument("model", help="exported model (.pt), or what --calculator takes")
    from .md.starts import SHIPPED_START
    scan.add_argument("--start", default=str(SHIPPED_START),
                      help="molecule to scan from (extxyz/xyz; default: the 3BPA start geometry)")
    scan.add_argument("--out", default="scans", help="output directory (scans.json, scans.png)")
    scan.add_argument("--dtype", choices=["float32", "float64"], default=None)
    scan.add_argument("--calculator", default=None, metavar="MODULE:FUNCTION",
                      help="scan another ASE calculator: FUNCTION(model) from 'package.module' or 'file.py' returns "
                           "it (e.g. benchmarks/mace_socket.py:calculator for a mace-torch model)")
    scan.set_defaults(func=_scan)

    from .md.cli import PROTOCOL, add_arguments

    md = sub.add_parser("md-stability", help="MD stability protocol (3BPA at 300/600/1200 K by default)",
                        epilog=PROTOCOL, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(md)
    md.set_defaults(func=_md_stability)

    lab = sub.add_parser("label", help="DFT energies and forces (PySCF) for every frame of an extxyz file "
                                        "(resumable: run again to continue)",
                         description="Label every frame of IN with a PySCF DFT energy and forces, appended to OUT "
                                     "frame by frame. Running the same command again skips the frames OUT "
                                     "already holds. Needs PySCF: pip install 'gaunt-md[label]'.")
    lab.add_argument("input", metavar="IN", help="extxyz file of molecules (non-periodic)")
    lab.add_argument("output", metavar="OUT", help="extxyz file to write (or to continue)")
    lab.add_argument("--method", default="wb97x", help="exchange-correlation functional, PySCF/libxc name "
                                                        "(default wb97x, as the 3BPA labels)")
    lab.add_argument("--basis", default="6-31g*", help="basis set, PySCF name (default 6-31g*; spherical d functions)")
    lab.add_argument("--no-density-fit", action="store_true",
                     help="exact two-electron integrals (3-4x slower; density fitting changes energies by ~meV)")
    lab.add_argument("--threads", type=int, default=None, help="PySCF threads (default: all cores)")
    lab.add_argument("--energy-key", default="energy", help="info key of the energy written (default energy)")
    lab.add_argument("--forces-key", default="forces", help="array key of the forces written (default forces)")
    lab.add_argument("--isolated-atoms", action="store_true",
                     help="also one isolated atom of each element of IN (ground-state spin, UKS), written with "
                          "config_type=IsolatedAtom: the trainer takes them as E0s")
    lab.add_argument("--max-frames", type=int, default=None, metavar="N", help="label only the first N frames of IN")
    lab.add_argument("--charge", type=int, default=0, help="total charge of every frame (default 0)")
    lab.add_argument("--spin", type=_spin, default=None, metavar="2S",
                     help="N_alpha - N_beta of every frame (default auto: 0 or 1 by electron count, a single atom its "
                          "ground state; 2S > 0 is UKS)")
    lab.add_argument("--grid-level", type=int, default=3, help="PySCF DFT grid level 0-9 (default 3)")
    lab.add_argument("--conv-tol", type=float, default=1e-9, help="SCF convergence, Hartree (default 1e-9)")
    lab.add_argument("--max-memory", type=int, default=4000, help="MB PySCF may use (default 4000)")
    lab.set_defaults(func=_label)

    sel = sub.add_parser("select", help="choose the MD frames worth labelling (committee disagreement, failure "
                                         "precursors, no near-duplicates)",
                         description="Choose up to N frames to label from MD trajectories (extxyz files) or "
                                     "stability-protocol output directories. Order of preference: frames from the "
                                     "last --precursor-ps before a run failed, then the largest committee force "
                                     "disagreement (--models), then the frame farthest from those already chosen; "
                                     "a frame within --min-distance of a chosen or --known frame is skipped.")
    sel.add_argument("inputs", nargs="+", metavar="INPUT",
                     help="trajectory extxyz files and/or md-stability output directories")
    sel.add_argument("-o", "--output", required=True, help="extxyz file of the chosen frames (unlabelled)")
    sel.add_argument("-n", "--count", type=int, required=True, help="how many frames to choose")
    sel.add_argument("--models", nargs="+", default=None, metavar="MODEL",
                     help="two or more exported models: a committee whose force disagreement ranks the frames")
    sel.add_argument("--min-force-std", type=float, default=None, metavar="EV_PER_A",
                     help="only frames where the committee's force std reaches this (eV/A)")
    sel.add_argument("--min-distance", type=float, default=0.05, metavar="A",
                     help="frames closer than this (RMS of sorted pair distances, A) count as duplicates "
                          "(default 0.05)")
    sel.add_argument("--precursor-ps", type=float, default=0.1,
                     help="frames this close before a run's failure are precursors (default 0.1 ps)")
    sel.add_argument("--no-precursors", action="store_true", help="do not prefer failure precursors")
    sel.add_argument("--skip-ps", type=float, default=0.0,
                     help="leave out frames before this time (thermalisation), ps (default 0)")
    sel.add_argument("--known", nargs="+", default=None, metavar="XYZ",
                     help="frames already labelled (e.g. the training set): nothing near them is chosen")
    sel.add_argument("--device", default="auto", help="device for the committee (default auto)")
    sel.set_defaults(func=_select)

    from .select import distort as distort_module

    dis = sub.add_parser("distort", help="frames to label where the hole scans look: known frames bent, stretched "
                                          "or pressed along one scan coordinate",
                         description=distort_module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dis.add_argument("input", metavar="IN", help="extxyz file of molecules (e.g. the training file)")
    dis.add_argument("output", metavar="OUT", help="extxyz file of the distorted frames (unlabelled)")
    dis.add_argument("-n", "--count", type=int, required=True, help="how many frames")
    dis.add_argument("--seed", type=int, default=0)
    dis.add_argument("--kinds", nargs="+", choices=["bend", "stretch", "contact"],
                     default=["bend", "stretch", "contact"])
    dis.add_argument("--exclude", nargs="+", default=None, metavar="MOVE",
                     help="moves left out, as gaunt-md scan labels them (e.g. 'H15-N0 -> C1' 'C8-H20')")
    dis.add_argument("--train-split", nargs=2, default=None, metavar=("N_VALID", "SEED"),
                     help="distort only the training part of the split gaunt-md train makes of IN with "
                          "data.n_valid N_VALID and split seed SEED (validation frames stay unseen)")
    dis.add_argument("--bend-deg", nargs=2, type=float, default=[70.0, 100.0], metavar=("LOW", "HIGH"),
                     help="H-X-Y angle reached (default 70 100)")
    dis.add_argument("--stretch", nargs=2, type=float, default=[1.15, 1.6], metavar=("LOW", "HIGH"),
                     help="bond length / its start length (default 1.15 1.6)")
    dis.add_argument("--contact", nargs=2, type=float, default=[1.2, 1.8], metavar=("LOW", "HIGH"),
                     help="H to contact atom distance, A (default 1.2 1.8)")
    dis.add_argument("--config-type", default="distorted",
                     help="config_type written to every frame, for data.config_type_weights (default distorted)")
    dis.add_argument("--jitter", type=float, default=0.02, help="Gaussian shake of every coordinate, A (default 0.02)")
    dis.set_defaults(func=_distort)
    return parser


def main(argv=None) -> int:
    from .interrupts import run_command

    args = build_parser().parse_args(argv)
    return run_command(f"gaunt-md {args.command}", lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
