"""Per-temperature summary of the runs: the printed table and OUT/summary.json."""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from .._version import __version__
from .record import RunRecord

SUMMARY_FORMAT = "gaunt-md-md-stability"
SUMMARY_VERSION = 1


def _mean(values: Iterable[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _max(values: Iterable[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _min(values: Iterable[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return min(values) if values else None


def temperature_summary(records: List[RunRecord]) -> dict:
    """Numbers of the runs at one temperature (see the README section for each key).  Runs
    interrupted by Ctrl-C count in `runs` and `runs_interrupted` only: neither stable nor failed,
    and out of the times to failure."""
    failed = [r for r in records if r.failure is not None]
    finished = [r for r in records if not r.interrupted]
    stable = [r for r in records if r.stable]
    drifts = [r.energy_drift_mev_atom_ps for r in records]
    return {
        "temperature_K": records[0].temperature_K,
        "runs": len(records),
        "runs_stable": len(stable),
        "runs_interrupted": len(records) - len(finished),
        "stable_fraction": len(stable) / len(finished) if finished else None,
        "run_length_ps": records[0].length_ps,
        "time_to_failure_ps_mean": _mean(r.time_to_failure_ps for r in finished),
        "time_to_failure_ps_min": _min(r.time_to_failure_ps for r in finished),
        "time_to_failure_ps_mean_failed": _mean(r.time_to_failure_ps for r in failed),
        "failures": dict(Counter(r.failure.kind for r in failed)),
        "bond_deviation_mean_A": _mean(r.bond_deviation_mean_A for r in records),
        "bond_deviation_max_A": _max(r.bond_deviation_max_A for r in records),
        "temperature_mean_K": _mean(r.temperature_mean_K for r in records),
        "energy_drift_mev_atom_ps": _mean(drifts),
        "energy_drift_abs_max_mev_atom_ps": _max(abs(d) for d in drifts if d is not None),
        "ms_per_step": _mean(r.ms_per_step for r in records),
        "run_details": [r.to_dict() for r in records],
    }


def build_summary(records: List[RunRecord], protocol: dict, system: dict, engine: str,
                  not_started: Sequence[Tuple[float, int]] = ()) -> dict:
    """`not_started`: the (temperature, run) pairs a Ctrl-C cancelled before they began."""
    temperatures = sorted({r.temperature_K for r in records})
    per_t = [temperature_summary([r for r in records if r.temperature_K == t]) for t in temperatures]
    interrupted = bool(not_started) or any(r.interrupted for r in records)
    return {
        "format": SUMMARY_FORMAT,
        "format_version": SUMMARY_VERSION,
        "gaunt_md_version": __version__,
        "engine": engine,
        "system": system,
        "protocol": protocol,
        "all_stable": not interrupted and all(t["runs_stable"] == t["runs"] for t in per_t),
        "interrupted": interrupted,
        "runs_not_started": [{"temperature_K": float(t), "run": int(r)} for t, r in not_started],
        "temperatures": per_t,
    }


def _json_safe(value):
    """NaN / infinity (not valid JSON) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_summary(summary: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(_json_safe(summary), indent=2, allow_nan=False) + "\n")


def _f(value: Optional[float], fmt: str, prefix: str = "") -> str:
    return "-" if value is None else prefix + format(value, fmt)


COLUMNS = ["T (K)", "stable", "TTF mean (ps)", "TTF min (ps)", "bond dev mean (A)", "bond dev max (A)",
           "T mean (K)", "drift (meV/atom/ps)"]


def table_rows(summary: dict) -> List[List[str]]:
    rows = []
    for t in summary["temperatures"]:
        censored = ">=" if not t["failures"] else ""
        interrupted = f" ({t['runs_interrupted']} interrupted)" if t.get("runs_interrupted") else ""
        rows.append([
            f"{t['temperature_K']:g}",
            f"{t['runs_stable']}/{t['runs']}{interrupted}",
            _f(t["time_to_failure_ps_mean"], ".3f", censored),
            _f(t["time_to_failure_ps_min"], ".3f", censored),
            _f(t["bond_deviation_mean_A"], ".3f"),
            _f(t["bond_deviation_max_A"], ".3f"),
            _f(t["temperature_mean_K"], ".0f"),
            _f(t["energy_drift_mev_atom_ps"], ".3f"),
        ])
    return rows


def format_table(summary: dict) -> str:
    """Plain-text table for the terminal."""
    rows = [COLUMNS] + table_rows(summary)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    line = lambda r: "  ".join(c.rjust(w) for c, w in zip(r, widths))
    return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]])


def markdown_table(summary: dict) -> str:
    rows = table_rows(summary)
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---:" for _ in COLUMNS) + "|"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])
