"""Each measurement in a fresh process: the driver side (run_worker) and the worker side
(serve_request / worker_main) of one JSON request and one tagged JSON result line."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch

RESULT_TAG = "BENCHMARK-RESULT "  # prefix of the one JSON line a worker prints



def worker_command(script: str) -> List[str]:
    """The command that runs `script` (a benchmark's __file__) as a worker of run_worker."""
    return [sys.executable, str(Path(script).resolve()), "--worker"]


def worker_main(argv: Sequence[str], worker: Callable[[dict], dict]) -> Optional[int]:
    """In a benchmark's main(): with `--worker REQUEST.json` serve that request (the exit code);
    None otherwise."""
    if list(argv[:1]) == ["--worker"]:
        return serve_request(argv[1], worker)
    return None


def set_threads(threads: Optional[int]) -> None:
    """torch threads of this process; 0 or None leaves torch's default."""
    if threads:
        torch.set_num_threads(int(threads))


def _child_rss_gb(pid: int) -> float:
    try:
        match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return 0.0
    return int(match.group(1)) / 2 ** 20 if match else 0.0


def run_worker(cmd: Sequence[str], request: dict, env: Optional[dict] = None, timeout: Optional[float] = None,
               max_rss_gb: Optional[float] = None) -> dict:
    """Run `cmd request.json` in a fresh process; return the JSON it prints after RESULT_TAG,
    or {'error': ...} if it failed (non-zero exit, killed, timed out, or stopped by the
    watchdog for a resident set above max_rss_gb -- which keeps a shared machine alive)."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(request, fh)
        req_path = fh.name
    out_file = tempfile.TemporaryFile("w+")
    err_file = tempfile.TemporaryFile("w+")
    why = None
    try:
        proc = subprocess.Popen(list(cmd) + [req_path], env=env, stdout=out_file, stderr=err_file, text=True)
        start = time.time()
        while proc.poll() is None:
            time.sleep(0.2)
            if timeout is not None and time.time() - start > timeout:
                why = f"timed out after {timeout:.0f} s"
            elif max_rss_gb is not None and _child_rss_gb(proc.pid) > max_rss_gb:
                why = f"stopped: resident memory above {max_rss_gb:g} GB"
            if why:
                proc.kill()
                proc.wait()
                break
        out_file.seek(0)
        err_file.seek(0)
        stdout, stderr = out_file.read(), err_file.read()
    finally:
        os.unlink(req_path)
        out_file.close()
        err_file.close()
    if why:
        return {"error": why}
    for line in stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    if proc.returncode < 0:
        why = f"killed by signal {-proc.returncode}" + (" (out of memory?)" if proc.returncode == -9 else "")
    else:
        why = f"exit {proc.returncode}"
    tail = (stderr or stdout).strip().splitlines()[-3:]
    return {"error": f"{why}: {' | '.join(tail)[-400:]}"}


def mace_python_env(python: Optional[str] = None, pythonpath: Optional[str] = None) -> tuple:
    """(interpreter, environment) for a MACE worker (benchmarks/mace_worker.py).  By default the
    mace venv of benchmarks/mace_env.py, created on first use.  With `python` (e.g. a CUDA
    machine without internet, where mace-torch and e3nn 0.4.4 were pip-installed with --target
    into a folder): that interpreter with this process's environment, `pythonpath` (the
    --target folder) put first on PYTHONPATH of the MACE worker only -- the Gaunt workers need
    the project's newer e3nn -- and the flag e3nn 0.4.4 needs under torch >= 2.6."""
    import mace_env
    if not python:
        return str(mace_env.ensure()), mace_env.worker_env()
    env = dict(os.environ)
    env["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return str(python), env


def interrupt_once() -> None:
    """Turn the first SIGINT into KeyboardInterrupt and ignore the ones after it, so that a
    driver stopped by `timeout -s INT` (which signals the process and then its group) can still
    print and save what it measured."""
    import signal

    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


def serve_request(path: str, worker: Callable[[dict], dict]) -> int:
    """The `--worker REQUEST.json` side of run_worker: read the request, set the thread count
    it asks for, run `worker` on it and emit the result."""
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    request = json.loads(Path(path).read_text())
    set_threads(request.get("threads"))
    emit(worker(request))
    return 0


def emit(result: dict) -> None:
    """Print a worker's result as the tagged JSON line run_worker looks for."""
    print(RESULT_TAG + json.dumps(result, default=_jsonable), flush=True)


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)
