"""`gaunt-md select`: candidates in, the chosen frames (unlabelled, with why they were chosen) out."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import ase.io

from ..data.extxyz import read_extxyz_frames
from .candidates import Candidate, read_candidates
from .choose import choose
from .committee import committee_scores


@dataclass
class SelectSettings:
    count: int
    models: Sequence[str] = ()
    min_distance: float = 0.05
    precursor_ps: float = 0.1
    precursors_first: bool = True
    skip_ps: float = 0.0
    min_force_std: Optional[float] = None
    known: Sequence[str] = ()           # extxyz files of frames already labelled
    device: str = "auto"
    progress: bool = True


def _output_frame(candidate: Candidate, rank: int):
    atoms = candidate.atoms.copy()
    info = {"select_rank": rank, "select_source": candidate.source, "select_frame": candidate.index,
            "select_precursor": candidate.precursor}
    if candidate.time_ps is not None:
        info["time_ps"] = candidate.time_ps
    if candidate.temperature_K is not None:
        info["md_temperature_K"] = candidate.temperature_K
    if candidate.ps_before_failure is not None:
        info["ps_before_failure"] = candidate.ps_before_failure
    info.update({f"select_{k}": v for k, v in candidate.scores.items()})
    atoms.info.update(info)
    return atoms


def select_frames(inputs: Sequence[str], output: str, settings: SelectSettings) -> Tuple[List[Candidate], int]:
    """The chosen candidates (also written to `output`) and the number of candidates."""
    candidates = read_candidates(inputs, precursor_ps=settings.precursor_ps, skip_ps=settings.skip_ps)
    if not candidates:
        raise ValueError(f"no candidate frames in {', '.join(map(str, inputs))}")
    score = None
    if len(settings.models) >= 2:
        committee_scores(candidates, settings.models, device=settings.device, progress=settings.progress)
        score = "force_std"
    elif settings.models:
        raise ValueError("--models needs two or more models (a committee); leave it out to select by "
                         "failure precursors and diversity only")
    elif settings.min_force_std is not None:
        raise ValueError("--min-force-std needs a committee (--models A.pt B.pt ...)")
    known = [atoms for path in settings.known for atoms in read_extxyz_frames(path)]
    chosen = choose(candidates, settings.count, score=score, precursors_first=settings.precursors_first,
                    min_distance=settings.min_distance, min_score=settings.min_force_std, known=known)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    ase.io.write(output, [_output_frame(c, rank) for rank, c in enumerate(chosen)], format="extxyz")
    return chosen, len(candidates)


def describe(chosen: List[Candidate], total: int) -> str:
    """A few lines on what was chosen, for the terminal."""
    lines = [f"chose {len(chosen)} of {total} candidate frames"]
    by_t = Counter("?" if c.temperature_K is None else f"{c.temperature_K:g} K" for c in chosen)
    lines.append("by temperature: " + ", ".join(f"{t}: {n}" for t, n in sorted(by_t.items())))
    lines.append(f"failure precursors: {sum(c.precursor for c in chosen)}")
    stds = [c.scores["force_std"] for c in chosen if "force_std" in c.scores]
    if stds:
        lines.append(f"committee force std (eV/A): {min(stds):.3f} .. {max(stds):.3f}")
    return "\n".join(lines)
