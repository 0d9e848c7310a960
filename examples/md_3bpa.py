"""MD stability of 3BPA with the shipped Gaunt-MACE potential.

    python examples/md_3bpa.py            # 300, 600, 1200 K; a few minutes on 2 CPU cores
    python examples/md_3bpa.py --full     # the long protocol (10 runs x 100 ps per temperature)
    python examples/md_3bpa.py --model potentials/gaunt_mace_3bpa_al.pt   # the active-learned potential
    python examples/md_3bpa.py --help     # the protocol, the criteria and every option

Prints a table (runs stable, time to failure, bond deviations, temperature, energy drift) and
writes md_3bpa_out/: summary.json, report.md, PNG plots and extxyz trajectories.  Same as
`gaunt-md md-stability`."""
import sys

from gaunt_md.md.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="md_3bpa.py"))
