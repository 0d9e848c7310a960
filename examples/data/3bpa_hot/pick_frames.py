"""Uniform test frames from the stability runs at 600 and 1200 K, half from our MD, half from MACE's.
Ordered round-robin so any prefix is balanced."""
from ase.io import read, write
from ase import Atoms
order = []
for slot in (0.5, 1.0):
    for run in range(4):
        for T in (600, 1200):
            for src in ("floor_md_seed0", "mace_md_seed0"):
                order.append((src, T, run, slot))
frames = []
for src, T, run, t in order:
    traj = read(f"runs/{src}/trajectories/T{T}K_run{run}.extxyz", ":")
    a = min(traj, key=lambda f: abs(f.info["time_ps"] - t))
    b = Atoms(a.get_chemical_symbols(), positions=a.positions)
    b.info.update(source=src.replace("floor_md_seed0", "gaunt_md").replace("mace_md_seed0", "mace"),
                  md_temperature_K=T, md_run=run, time_ps=a.info["time_ps"])
    frames.append(b)
write("runs/hot_test/frames.xyz", frames, format="extxyz")
print(len(frames))
