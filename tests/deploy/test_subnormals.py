"""load_model / GauntCalculator: a float32 model on CPU makes the process compute subnormal
floats as zero (a trained float32 3BPA model was 2.8x slower on them), unless told not to; a
float64 model leaves the CPU's default alone."""
from __future__ import annotations

import warnings

import pytest
import torch

from gaunt_md.calculators.ase import GauntCalculator
from gaunt_md.deploy import load_model
from tests.helpers import subnormal_survives

if not torch.set_flush_denormal(False):
    pytest.skip("this CPU cannot flush subnormals", allow_module_level=True)


@pytest.mark.parametrize("dtype, flush, flushed", [("float32", True, True), ("float32", False, False),
                                                   ("float64", True, False)])
def test_float32_on_cpu_flushes_subnormals(dtype, flush, flushed, exported):
    assert subnormal_survives()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # threads an earlier test started keep theirs
        load_model(exported(dtype).path, device="cpu", flush_denormal=flush)
    assert subnormal_survives() is not flushed


def test_the_calculator_passes_the_choice_on(exported):
    GauntCalculator(exported("float32").path, device="cpu", flush_denormal=False)
    assert subnormal_survives()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        GauntCalculator(exported("float32").path, device="cpu")
    assert not subnormal_survives()
