"""Plain helper functions shared by the test suite (conftest.py exposes some as fixtures)."""
from __future__ import annotations

import numpy as np
import torch


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


def random_rotation(seed: int) -> torch.Tensor:
    """A random proper rotation [3, 3] (float64), reproducible from its seed."""
    gen = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q
