"""The output directory of a training run: a new run never overwrites another's checkpoints
unless asked to (`--overwrite`), and a run continues one only with `--resume`."""
from __future__ import annotations

from pathlib import Path

# what a run writes; --overwrite removes these (and nothing else) before the new run starts
RUN_OUTPUTS = ("best.pt", "last.pt", "log.csv", "learning_curve.png", "config.json", "train.log",
               "test_metrics.json")


def prepare_output_dir(out: Path, resume: bool, overwrite: bool, check_only: bool = False) -> None:
    """Refuses (ValueError) a new run into a directory that holds a run's checkpoints; with
    check_only, only checks (before any work), else also makes the directory and, with
    overwrite, removes the old run's outputs."""
    out = Path(out)
    if resume and overwrite:
        raise ValueError("--resume and --overwrite exclude each other")
    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir {out} exists and is not a directory")
    existing = [name for name in ("best.pt", "last.pt") if (out / name).exists()]
    if existing and not resume and not overwrite:
        raise ValueError(
            f"output_dir {out} already holds a run ({', '.join(existing)}): continue it with --resume, "
            f"replace it with --overwrite, or choose another output_dir (--output-dir)"
        )
    if check_only:
        return
    out.mkdir(parents=True, exist_ok=True)
    if overwrite:
        for name in RUN_OUTPUTS:
            (out / name).unlink(missing_ok=True)
