"""No holes in the shipped potentials: every H bend climbs by >= 1 eV to 60 deg, every bond
stretched to twice its length costs >= 1 eV, every H pushed to 0.5 A of its nearest true
non-bonded atom (three or more bonds away) >= 2 eV
(gaunt_md/md/scans.py), on the 3BPA start geometry, as deployed (float64).  And the scans can
fail: a model with an attractive pair term gets caught."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.io import read

from gaunt_md import GauntCalculator
from gaunt_md.md.scans import ScanLimits, build_scans, check_scans, run_scans

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("gaunt_mace_3bpa.pt", "gaunt_mace_3bpa_al.pt")   # 300 K only; active-learned
START = ROOT / "examples" / "data" / "3bpa_start.xyz"


@pytest.fixture(scope="module")
def start():
    return read(START)


@pytest.fixture(scope="module", params=SHIPPED)
def shipped_scans(request, start):
    return run_scans(start, GauntCalculator(str(ROOT / "potentials" / request.param)))


def test_scans_cover_every_h_and_bond(start):
    scans = [scan for scan, _ in build_scans(start)]
    kinds = {kind: [s for s in scans if s.kind == kind] for kind in ("bend", "stretch", "contact")}
    n_h = int((start.numbers == 1).sum())
    assert {s.atoms[0] for s in kinds["bend"]} == set(np.nonzero(start.numbers == 1)[0])
    assert len(kinds["contact"]) == n_h
    assert len(kinds["stretch"]) == 28  # 3BPA: 27 atoms, 26 tree bonds + 2 ring closures
    for scan in kinds["bend"]:
        assert scan.coordinate[-1] == pytest.approx(60.0)


def test_contacts_aim_at_true_non_bonded_atoms_and_spare_the_own_bond(start):
    """A contact target is three or more bonds from the H, and on the way in the H never comes
    closer than 85 % of its bond length to its own heavy atom (a geminal target would squeeze that
    bond to ~0.7 A: a peak in any potential, DFT's too, not a hole)."""
    from gaunt_md.md.connectivity import Connectivity

    conn = Connectivity.from_atoms(start)
    b = conn.bonded.astype(int)
    for scan, frames in build_scans(start):
        if scan.kind != "contact":
            continue
        h, target = scan.atoms
        assert not b[h, target] and not (b @ b)[h, target]
        x = int(np.nonzero(b[h])[0][0])
        bond = start.get_distance(h, x)
        assert min(f.get_distance(h, x) for f in frames) >= 0.85 * bond
        assert frames[-1].get_distance(h, target) == pytest.approx(0.5)


def test_bend_keeps_the_bond_and_reaches_the_angle(start):
    for scan, frames in build_scans(start):
        if scan.kind != "bend":
            continue
        h, x, y = scan.atoms
        for angle, frame in zip(scan.coordinate, frames):
            assert frame.get_distance(h, x) == pytest.approx(start.get_distance(h, x), abs=1e-10)
            assert frame.get_angle(h, x, y) == pytest.approx(angle, abs=1e-6)


@pytest.mark.slow
def test_shipped_potential_has_no_holes(shipped_scans):
    failures = check_scans(shipped_scans)
    assert not failures, "\n".join(f"{k}: {'; '.join(v)}" for k, v in failures.items())


class _AttractivePairs(Calculator):
    """-3 eV exp(-r) per pair of atoms not bonded in the start geometry, nothing else: bends and
    contacts pull atoms together, the hole the scans look for."""
    implemented_properties = ["energy"]

    def __init__(self, reference):
        super().__init__()
        d = reference.get_all_distances()
        self.others = np.triu(d >= 1.7, 1)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results["energy"] = float(-3.0 * np.exp(-atoms.get_all_distances()[self.others]).sum())


def test_scans_catch_an_attractive_hole(start):
    failing = check_scans(run_scans(start, _AttractivePairs(start)), ScanLimits())
    assert sum(k.startswith("bend") for k in failing) == 26
    assert sum(k.startswith("contact") for k in failing) == 12


def test_scan_command_writes_json_and_plot_and_fails_on_holes(exported, tmp_path, capsys):
    """`gaunt-md scan` on an untrained model: it writes scans.json and scans.png, lists the
    scans that do not climb, and exits 1 because some do not (a random model has holes)."""
    import json

    from gaunt_md.cli import main

    rc = main(["scan", str(exported("float64").path), "--out", str(tmp_path / "scans")])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "scans" / "scans.json").read_text())
    assert (tmp_path / "scans" / "scans.png").stat().st_size > 0
    assert len(report["scans"]) == 26 + 28 + 12
    assert rc == 1 and report["failures"] and "FAIL" in out
    assert f"{66 - len(report['failures'])}/66 scans climb" in out


def test_scan_command_takes_any_calculator(exported, foreign_calculator_file, tmp_path, capsys):
    """`gaunt-md scan --calculator file.py:make`: the same scans through a foreign calculator
    class as through the built-in one (so a baseline's scans compare with ours); a bad spec or
    --dtype with it is a clear error (exit 2), before any scan runs."""
    import json

    from ase.build import molecule
    from ase.io import write

    from gaunt_md.cli import main

    start = tmp_path / "methanol.xyz"
    write(start, molecule("CH3OH"))
    factory = foreign_calculator_file
    model = str(exported("float64").path)
    main(["scan", model, "--start", str(start), "--out", str(tmp_path / "plain")])
    main(["scan", model, "--start", str(start), "--out", str(tmp_path / "foreign"), "--calculator", f"{factory}:make"])
    plain, foreign = (json.loads((tmp_path / d / "scans.json").read_text()) for d in ("plain", "foreign"))
    assert foreign["calculator"] == f"{factory}:make" and plain["calculator"] is None
    assert len(foreign["scans"]) == len(plain["scans"]) > 0
    for a, b in zip(plain["scans"], foreign["scans"]):
        assert a["label"] == b["label"]
        np.testing.assert_allclose(b["energy"], a["energy"], rtol=0, atol=1e-10)
    assert foreign["failures"] == plain["failures"]
    capsys.readouterr()
    for extra, message in ((["--calculator", "no_colon"], "module:function"),
                           (["--calculator", f"{factory}:make", "--dtype", "float32"], "--dtype")):
        rc = main(["scan", model, "--start", str(start), "--out", str(tmp_path / "bad"), *extra])
        assert rc == 2 and message in capsys.readouterr().err and not (tmp_path / "bad").exists()
