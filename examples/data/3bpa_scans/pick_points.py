"""Scan points for a DFT comparison: the start, bend H15-N0 -> C1, stretch C8-H20, contact H16 -> N2."""
from ase.io import read, write
from gaunt_md.md.scans import build_scans
start = read("examples/data/3bpa_start.xyz")
want = {"H15-N0 -> C1": [3, 6, 9, 12], "C8-H20": [2, 4, 6], "H16 -> N2": [3, 5, 6, 7]}
frames = [start.copy()]
frames[0].info.update(scan="start", scan_index=0)
for scan, geoms in build_scans(start):
    if scan.label in want:
        for k in want[scan.label]:
            a = geoms[k].copy()
            a.info.update(scan=scan.label, scan_index=k, scan_coordinate=float(scan.coordinate[k]))
            frames.append(a)
for a in frames:
    a.calc = None
    for key in list(a.arrays):
        if key not in ("numbers", "positions"):
            del a.arrays[key]
write("examples/data/3bpa_scans/scan_points.xyz", frames, format="extxyz")
print(len(frames), [(a.info["scan"], a.info["scan_index"]) for a in frames])
