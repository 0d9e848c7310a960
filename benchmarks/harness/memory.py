"""Memory of a measurement: peak resident set size of this process, from /proc (Linux).  Writing
5 to clear_refs resets the high-water mark, so the peak of one phase (the timed calls) can be
taken on its own."""
from __future__ import annotations

import ctypes
import gc
import re
import sys
from pathlib import Path
from typing import Optional


def _status_kb(field: str) -> Optional[int]:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return float("nan") if kb is None else kb / 1024


def peak_rss_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:  # not Linux: ru_maxrss (kB on Linux, bytes on macOS), not resettable
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform == "darwin" else 1)
    return kb / 1024


def settle_memory() -> None:
    """Free what can be freed and give the heap's free pages back, so that the resident set
    measured next is live data, not allocator cache."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def memory_mb(timing: Optional[dict], device: str = "cpu") -> Optional[float]:
    """The memory of a timed call: peak resident set above the baseline on CPU, torch's peak
    allocated above the allocated on CUDA."""
    if not timing:
        return None
    return timing.get("cuda_peak_extra_mb" if device.startswith("cuda") else "peak_extra_mb")
