"""`python -m gaunt_md.lammps`: where the LAMMPS plugin is and what it was built with."""
from __future__ import annotations

import json

from .runtime import PLUGIN_FILE, build_info, libpython_path


def main() -> int:
    info = build_info()
    print(f"plugin:     {PLUGIN_FILE} ({'built' if PLUGIN_FILE.exists() else 'NOT BUILT'})")
    print(f"libpython:  {libpython_path() or '(static: the lmp executable cannot host Python)'}")
    if info:
        print("build info: " + json.dumps(info, indent=2, sort_keys=True))
    else:
        print("build it with: pip install -e .   or   python lammps_plugin/build.py")
    return 0 if PLUGIN_FILE.exists() else 1


if __name__ == "__main__":
    raise SystemExit(main())
