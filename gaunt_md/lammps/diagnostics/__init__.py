"""Diagnostics of the LAMMPS bridge, off the per-step path: per-call timing counters
(timing.py, on with GAUNT_MD_BRIDGE_TIMING) and which BLAS torch's calls bind to inside
`lmp` (blas_binding.py)."""
