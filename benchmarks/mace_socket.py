"""A mace-torch model as an ASE calculator of the project's Python, through ASE's socket
calculator (i-PI protocol): mace-torch lives in its own venv (benchmarks/mace_env.py), so the
model runs in a client process there and the MD stays in gaunt-md's process.

    gaunt-md md-stability --calculator benchmarks/mace_socket.py:calculator --model MACE.model ...

`calculator(model)` is the factory `--calculator` calls (once per MD process); the client
starts at the first energy call and ends with the process.  MACE runs in float64 on the CPU
with one thread (MACE_SOCKET_DTYPE / MACE_SOCKET_THREADS change that).  Run as a script in the
mace venv it is that client:  python mace_socket.py client MODEL SOCKET_NAME < atoms.extxyz
"""
from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_names = itertools.count()


def calculator(model: str):
    from ase.calculators.socketio import SocketIOCalculator
    from ase.io import write

    sys.path.insert(0, str(HERE))
    import mace_env

    python = mace_env.ensure(quiet=True)
    socket_name = f"gaunt_md_mace_{os.getpid()}_{next(_names)}"

    def launch(atoms, properties=None, port=None, unixsocket=None):
        text = io.StringIO()
        write(text, atoms, format="extxyz")
        env = mace_env.worker_env()
        env["OMP_NUM_THREADS"] = os.environ.get("MACE_SOCKET_THREADS", "1")
        proc = subprocess.Popen([str(python), str(Path(__file__).resolve()), "client", str(Path(model).resolve()),
                                 unixsocket], stdin=subprocess.PIPE, env=env, cwd="/", text=True)
        proc.stdin.write(text.getvalue())
        proc.stdin.close()
        return proc

    return SocketIOCalculator(unixsocket=socket_name, launch_client=launch)


def client(model: str, socket_name: str) -> None:
    import torch
    from ase.calculators.socketio import SocketClient
    from ase.io import read
    from mace.calculators import MACECalculator

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    atoms = read(io.StringIO(sys.stdin.read()), format="extxyz")
    atoms.calc = MACECalculator(model_paths=model, device="cpu",
                                default_dtype=os.environ.get("MACE_SOCKET_DTYPE", "float64"))
    SocketClient(unixsocket=socket_name).run(atoms)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "client":
        raise SystemExit(__doc__)
    client(sys.argv[2], sys.argv[3])
