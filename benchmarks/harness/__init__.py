"""What the benchmark scripts share: worker processes, thread counts, timing with warm-up and
repeats, memory, test structures, results files, markdown tables and figures.

    import harness                      # from a script in benchmarks/ (its folder is on sys.path)
    harness.measure(fn, device, repeats=5, min_sample=0.5)

Importing it puts the repository root first on sys.path (paths.py).  It must stay importable
from the mace-torch venv (benchmarks/mace_env.py): numpy and torch only, ase, scipy and
matplotlib lazily, never gaunt_md."""
from .memory import memory_mb, peak_rss_mb, reset_peak_rss, rss_mb, settle_memory
from .paths import MOLECULE, RESULTS, ROOT, STRUCTURES, git_state, write_results
from .report import device_label, finish_figure, fmt_ms, markdown_table, save_figure
from .structures import DENSITY, MIN_DISTANCE, molecule, molecule_box, random_packing, structure_path
from .timing import call_times, exponent, forward_backward, measure, sync, timed_with_memory
from .workers import (RESULT_TAG, emit, interrupt_once, mace_python_env, run_worker, serve_request, set_threads,
                      worker_command, worker_main)

__all__ = [
    "DENSITY", "MIN_DISTANCE", "MOLECULE", "RESULTS", "RESULT_TAG", "ROOT", "STRUCTURES", "call_times",
    "device_label", "emit", "exponent", "finish_figure", "fmt_ms", "forward_backward", "git_state",
    "interrupt_once", "mace_python_env", "markdown_table", "measure", "memory_mb", "molecule", "molecule_box",
    "peak_rss_mb", "random_packing", "reset_peak_rss", "rss_mb", "run_worker", "save_figure", "serve_request", "set_threads",
    "settle_memory", "structure_path", "sync", "timed_with_memory", "worker_command", "worker_main",
    "write_results",
]
