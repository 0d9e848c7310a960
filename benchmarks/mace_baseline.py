"""Train the mace-torch baseline that the shipped potential is compared with (issue: the 3BPA
potential): a MACE of the shipped potential's size (64x0e+64x1o, max_ell 3, correlation 3,
2 interactions, r_max 5) on the same 450 training / 50 validation frames (the split of
examples/train_3bpa.yaml), with MACE's own 3BPA recipe (AMSGrad lr 0.01, batch 5, EMA 0.99,
E:F weights 1:1000, stage two 1000:100 from epoch 70), float32, 95 epochs: about 85-95 min on
the 2 cores of the development machine, the wall-clock budget of the shipped potential.

    python benchmarks/mace_baseline.py [--data DIR] [--out DIR] [--epochs 95] [--extra-train FILE ...]

`--extra-train` adds labelled frames to the training set only (as `data.extra_train_files` does
for gaunt-md: the shipped potential's 32 frames from 1200 K MD, examples/data/3bpa_al/).

Runs mace_run_train in the mace venv (benchmarks/mace_env.py creates it); re-running the same
command resumes from MACE's latest checkpoint.  The model to compare is the stage-two one,
OUT/mace_3bpa_stagetwo.model (its SWA/EMA weights under the stage-two loss; compiled copy
OUT/mace_3bpa_stagetwo_compiled.model); OUT/mace_3bpa.model is the best stage-one model, fitted
with energies weighted 1:1000 (validation E ~20x worse).  The log: OUT/logs/.
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from ase.io import read, write

import harness  # first: the gaunt_md of this checkout
import mace_env
from gaunt_md.data.splits import train_valid_split  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = harness.ROOT

N_VALID, SPLIT_SEED = 50, 123  # as examples/train_3bpa.yaml


def write_split(data: Path, out: Path, extra_train=()) -> tuple[Path, Path]:
    frames = read(data / "train_300K.xyz", ":")
    train, valid = train_valid_split(len(frames), N_VALID, SPLIT_SEED)
    extra = [frame for path in extra_train for frame in read(path, ":")]
    paths = out / "train.xyz", out / "valid.xyz"
    write(paths[0], [frames[i] for i in train] + extra, format="extxyz")
    write(paths[1], [frames[i] for i in valid], format="extxyz")
    return paths


def isolated_energies(data: Path) -> dict:
    from ase.data import atomic_numbers
    return {atomic_numbers[a.get_chemical_symbols()[0]]: float(a.get_potential_energy())
            for a in read(data / "iso_atoms.xyz", ":")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "3bpa")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "mace_3bpa")
    parser.add_argument("--epochs", type=int, default=95)
    parser.add_argument("--stage-two", type=int, default=70)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--extra-train", type=Path, nargs="+", default=[], metavar="FILE",
                        help="labelled extxyz frames added to the training set (never validated on)")
    args = parser.parse_args(argv)

    args.out = args.out.resolve()   # mace_run_train runs inside it: relative paths would break
    args.out.mkdir(parents=True, exist_ok=True)
    train, valid = write_split(args.data, args.out, [p.resolve() for p in args.extra_train])
    python = mace_env.ensure()
    command = [
        str(python.parent / "mace_run_train"), "--name", "mace_3bpa", "--work_dir", str(args.out),
        "--train_file", str(train), "--valid_file", str(valid), "--test_file", str(valid),
        "--energy_key", "energy", "--forces_key", "forces", "--E0s", repr(isolated_energies(args.data)),
        "--model", "MACE", "--num_channels", "64", "--max_L", "1", "--max_ell", "3",
        "--correlation", "3", "--num_interactions", "2", "--r_max", "5.0",
        "--batch_size", "5", "--valid_batch_size", "10", "--max_num_epochs", str(args.epochs),
        "--lr", "0.01", "--amsgrad", "--ema", "--ema_decay", "0.99",
        "--loss", "weighted", "--energy_weight", "1", "--forces_weight", "1000",
        "--stage_two", "--start_stage_two", str(args.stage_two),
        "--swa_energy_weight", "1000", "--swa_forces_weight", "100",
        "--default_dtype", "float32", "--device", "cpu", "--seed", str(args.seed),
        "--error_table", "PerAtomRMSE", "--restart_latest", "--save_cpu",
    ]
    print(" ".join(command), flush=True)
    return subprocess.run(command, env=mace_env.worker_env(), cwd=args.out).returncode


if __name__ == "__main__":
    raise SystemExit(main())
