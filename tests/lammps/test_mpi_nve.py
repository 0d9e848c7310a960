"""The `lmp` executable, serial and under `mpirun -np 2 / -np 4`, on the periodic box:
the same NVE trajectory (energies and forces) for every decomposition, and energy
conservation.  The small skin forces neighbour-list rebuilds during the run."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # three `lmp` launches, one of 4 MPI ranks

STEPS = 50
EVERY = 10


def nve_input(tools, data, model) -> str:
    return tools.system_commands(data, model, periodic=True) + f"""
neighbor 0.5 bin
neigh_modify every 1 delay 0 check yes
velocity all create 300.0 4928459 loop geom
fix integrate all nve
timestep 0.0005
thermo_style custom step pe ke etotal press
thermo_modify format float %.16e
thermo {EVERY}
dump forces all custom {EVERY} forces.dump id x y z fx fy fz
dump_modify forces sort id format float %.16e
run {STEPS}
"""


@pytest.fixture(scope="module")
def trajectories(tiny_model, lmp_tools, tmp_path_factory):
    """{nprocs: (thermo rows, dump frames, output)} for 1, 2 and 4 MPI ranks."""
    root = tmp_path_factory.mktemp("nve")
    data = lmp_tools.write_data(lmp_tools.periodic_box(), root / "box.data")
    results = {}
    for nprocs in (1, 2, 4):
        workdir = root / f"np{nprocs}"
        run = lmp_tools.run_lmp(workdir, nve_input(lmp_tools, data, tiny_model), nprocs=nprocs)
        assert run.returncode == 0, run.stdout[-3000:]
        results[nprocs] = (lmp_tools.thermo_rows(run.stdout), lmp_tools.read_dump(workdir / "forces.dump"), run.stdout)
    return results


@pytest.mark.parametrize("nprocs", [2, 4])
def test_mpi_matches_serial(trajectories, nprocs):
    serial_thermo, serial_frames, _ = trajectories[1]
    thermo, frames, _ = trajectories[nprocs]
    assert [r["Step"] for r in thermo] == [r["Step"] for r in serial_thermo] == list(range(0, STEPS + 1, EVERY))
    for ref, row in zip(serial_thermo, thermo):
        for key in ("PotEng", "TotEng"):
            assert abs(row[key] - ref[key]) <= 1e-8 * abs(ref[key]), (row["Step"], key)
    assert sorted(frames) == sorted(serial_frames)
    for step, ref in serial_frames.items():
        forces, ref_forces = frames[step][:, 4:7], ref[:, 4:7]
        assert np.abs(forces - ref_forces).max() <= 1e-8 * np.abs(ref_forces).max(), step


def test_nve_conserves_energy(trajectories):
    thermo, _, output = trajectories[1]
    rebuilds = int(output.split("Neighbor list builds =")[1].split()[0])
    assert rebuilds > 0, "the run should cross neighbour-list rebuilds"
    total = np.array([r["TotEng"] for r in thermo])
    kinetic = np.array([r["KinEng"] for r in thermo])
    exchanged = kinetic.max() - kinetic.min()
    assert exchanged > 0.5  # potential energy really turns into kinetic energy
    # velocity Verlet at 0.5 fs: the error is ~5e-4 of the exchanged energy (and falls
    # as dt^2); a force inconsistent with the energy would show at the 1e-1 level
    assert np.abs(total - total[0]).max() < 5e-3 * exchanged
