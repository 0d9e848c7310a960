"""The routes every op test is parametrised over: the CPU routes always, Triton where a CUDA
device is there (its CPU interpreter tests are in tests/ops/test_triton_kernels.py)."""
import pytest
import torch

from gaunt_md.ops import triton_usable


def _methods():
    cuda = torch.cuda.is_available() and triton_usable(torch.device("cuda"))
    return ["dense", "fourier", "grid", "sht", "auto",
            pytest.param("triton", marks=pytest.mark.skipif(not cuda, reason="needs CUDA and triton"))]


METHODS = _methods()


def method_device(method: str) -> torch.device:
    return torch.device("cuda" if method == "triton" else "cpu")
