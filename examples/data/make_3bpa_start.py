"""Generate the starting geometry of the 3BPA stability runs (gaunt_md/md/data/3bpa_start.xyz,
shipped with the package; examples/data/3bpa_start.xyz links to it).

3BPA is 3-(benzyloxy)pyridin-2-amine, C12H12N2O (27 atoms).  The geometry is made here from
its SMILES, never copied from a dataset:

1. RDKit builds the molecule from SMILES (hydrogens added), embeds it in 3D with ETKDG (fixed
   random seed) and optimises it with the MMFF94 force field;
2. with `--relax`, the MMFF geometry is then relaxed with a Gaunt-MACE potential
   (GauntCalculator + ase.optimize.BFGS) so that MD starts at a minimum of that potential.

RDKit is needed only by this script (pip install rdkit), not by gaunt-md at run time.

    python examples/data/make_3bpa_start.py                      # RDKit/MMFF geometry
    python examples/data/make_3bpa_start.py --relax              # + relax with the shipped potential
    python examples/data/make_3bpa_start.py --relax --model m.pt --fmax 0.01
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

SMILES = "Nc1ncccc1OCc1ccccc1"
FORMULA = {"C": 12, "H": 12, "N": 2, "O": 1}
HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE.parent.parent / "gaunt_md" / "md" / "data" / "3bpa_start.xyz"
DEFAULT_MODEL = HERE.parent.parent / "potentials" / "gaunt_mace_3bpa.pt"


def check_formula(atoms: Atoms) -> None:
    counts = Counter(atoms.get_chemical_symbols())
    if dict(counts) != FORMULA or len(atoms) != 27:
        raise ValueError(f"expected C12H12N2O (27 atoms), got {atoms.get_chemical_formula()} ({len(atoms)} atoms)")


def bond_graph(atoms: Atoms) -> set:
    """Bonded pairs: closer than 1.2 x the sum of covalent radii (as the stability criteria)."""
    from gaunt_md.md.connectivity import Connectivity

    return {tuple(map(int, p)) for p in Connectivity.from_atoms(atoms).pairs}


def from_smiles(smiles: str = SMILES, seed: int = 42) -> Atoms:
    """ETKDG embedding + MMFF94 optimisation of the molecule given by `smiles`."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(mol, params) != 0:
        raise RuntimeError(f"RDKit could not embed {smiles}")
    if AllChem.MMFFOptimizeMolecule(mol, maxIters=5000) != 0:
        raise RuntimeError("MMFF optimisation did not converge")
    positions = mol.GetConformer().GetPositions()
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    atoms = Atoms(symbols=symbols, positions=np.asarray(positions, dtype=float))
    atoms.positions -= atoms.get_center_of_mass()
    atoms.info["source"] = f"RDKit ETKDGv3 (seed {seed}) + MMFF94 from SMILES {smiles}"
    return atoms


def relax(atoms: Atoms, model: Path, fmax: float, steps: int, device: str) -> Atoms:
    """BFGS relaxation with a Gaunt-MACE potential."""
    from ase.optimize import BFGS

    from gaunt_md.calculators import GauntCalculator

    atoms = atoms.copy()
    atoms.calc = GauntCalculator(str(model), device=device)
    converged = BFGS(atoms, logfile="-").run(fmax=fmax, steps=steps)
    if not converged:
        raise SystemExit(f"--relax: BFGS did not reach fmax {fmax} eV/A in {steps} steps; nothing written")
    energy = atoms.get_potential_energy()
    atoms.calc = None
    made_by = atoms.info.get("source", "").split("; relaxed with")[0]  # a re-relaxation replaces the note
    atoms.info["source"] = made_by + f"; relaxed with {model.name} (BFGS, fmax {fmax} eV/A)"
    atoms.info["energy_model"] = float(energy)
    return atoms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--seed", type=int, default=42, help="ETKDG random seed")
    parser.add_argument("--relax", action="store_true",
                        help="relax with a Gaunt-MACE potential (starting from --input if given, else from the RDKit geometry)")
    parser.add_argument("--input", type=Path, default=None, help="geometry to relax instead of a new RDKit one")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--fmax", type=float, default=0.01, help="BFGS force threshold (eV/A)")
    parser.add_argument("--steps", type=int, default=1000, help="BFGS step limit")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    atoms = read(args.input) if args.input else from_smiles(seed=args.seed)
    check_formula(atoms)
    if args.relax:
        if not args.model.exists():
            raise SystemExit(f"--relax: model not found: {args.model}")
        before = bond_graph(atoms)
        atoms = relax(atoms, args.model, args.fmax, args.steps, args.device)
        if bond_graph(atoms) != before:
            raise SystemExit("--relax: the bonds changed during the relaxation (is the model sound?); nothing written")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write(args.output, atoms, format="extxyz")
    print(f"wrote {args.output}: {atoms.get_chemical_formula()} ({len(atoms)} atoms); {atoms.info['source']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
