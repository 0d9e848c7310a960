"""Where things are: the repository, the results folder, the git state of the model code.

Importing the harness puts the repository root first on sys.path, so that every script runs
the gaunt_md of this checkout (installed or not)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
STRUCTURES = RESULTS / "structures"
MOLECULE = ROOT / "examples" / "data" / "3bpa_start.xyz"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def git_state() -> str:
    """'<short HEAD>' plus ' + uncommitted changes in gaunt_md/' when the model code differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "gaunt_md"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" + uncommitted changes in gaunt_md/" if dirty else "")



def write_results(name: str, data, indent: int = 1) -> Path:
    """benchmarks/results/<name> holding `data` as JSON; says where it went."""
    import json

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(data, indent=indent))
    print(f"wrote {path.relative_to(ROOT)}")
    return path
