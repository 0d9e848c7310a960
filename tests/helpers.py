"""Plain helper functions shared by the test suite (conftest.py exposes some as fixtures)."""
from __future__ import annotations

from typing import Union

import numpy as np
import torch
from e3nn import o3


def as_float64(a) -> torch.Tensor:
    """A CPU float64 tensor of a tensor (detached) or array-like."""
    if isinstance(a, torch.Tensor):
        return a.detach().to(device="cpu", dtype=torch.float64)
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def relative_error(out, ref) -> float:
    """max |out - ref| / max |ref|, in float64, for tensors or arrays of the same shape."""
    out, ref = as_float64(out), as_float64(ref)
    assert out.shape == ref.shape, f"shape {tuple(out.shape)} != {tuple(ref.shape)}"
    if ref.numel() == 0:
        return 0.0
    return float((out - ref).abs().max() / ref.abs().max().clamp_min(1e-300))


def random_rotation(source: Union[int, torch.Generator]) -> torch.Tensor:
    """A random proper rotation [3, 3] (float64): from numpy's default_rng(seed) for an int
    seed, else the next draw of a torch generator."""
    if isinstance(source, torch.Generator):
        a = torch.randn(3, 3, generator=source, dtype=torch.float64)
    else:
        a = torch.from_numpy(np.random.default_rng(source).normal(size=(3, 3)))
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q


def sh_irreps(lmax: int) -> o3.Irreps:
    """1x0e + 1x1o + 1x2e + ...: the representation of a degree <= lmax spherical function."""
    return o3.Irreps([(1, (l, (-1) ** l)) for l in range(lmax + 1)])


def block_wigner_D(lmax: int, R: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """[(lmax+1)^2]^2 block-diagonal D(R) from e3nn, inversion acting as (-1)^l on degree l.

    Coefficients x of f rotate as x -> D x when f -> f o R^-1."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # e3nn builds its generators in the default dtype
    try:
        return sh_irreps(lmax).D_from_matrix(R.to(torch.float64)).to(dtype)
    finally:
        torch.set_default_dtype(default)


def subnormal_survives() -> bool:
    """False when this thread flushes subnormals: 1e-30 x 1e-9 is below float32's smallest
    normal number (1.2e-38)."""
    return bool(torch.tensor([1e-30], dtype=torch.float32).mul(1e-9).item() != 0.0)
