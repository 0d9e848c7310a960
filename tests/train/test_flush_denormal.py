"""config `flush_denormal`: a Trainer makes its process compute subnormal floats as zero on
every CPU thread (they had made 3BPA epochs twice as slow), unless told not to, and says so
when threads started before it cannot be switched."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from gaunt_md.train.config import load_config
from gaunt_md.train.trainer import Trainer
from tests.helpers import subnormal_survives

if not torch.set_flush_denormal(False):
    pytest.skip("this CPU cannot flush subnormals", allow_module_level=True)


@pytest.mark.parametrize("flush", [True, False])
def test_trainer_flushes_subnormals_unless_told_not_to(flush, write_config, tmp_path):
    assert subnormal_survives()
    cfg = load_config(write_config(tmp_path, flush_denormal=flush))
    assert cfg.flush_denormal is flush
    Trainer(cfg, log=lambda *_: None)
    assert subnormal_survives() is not flush


def test_flushing_is_the_default(write_config, tmp_path):
    assert load_config(write_config(tmp_path)).flush_denormal is True


CHECK_THREADS = """
import sys, torch
from gaunt_md.train.config import load_config
from gaunt_md.ops.subnormals import all_threads_flush
from gaunt_md.train.trainer import Trainer
torch.set_num_threads(2)
if sys.argv[2] == "torch-first":
    all_threads_flush()  # torch's intra-op threads start here, before the trainer
messages = []
Trainer(load_config(sys.argv[1]), log=messages.append)
print("ALL" if all_threads_flush() else "SOME", *[m for m in messages if "subnormal" in m])
"""


@pytest.mark.parametrize("start, expected", [("trainer-first", "ALL"), ("torch-first", "SOME")])
def test_every_thread_flushes_when_the_trainer_comes_first_else_it_warns(start, expected, write_config, tmp_path):
    """In a fresh interpreter, as `gaunt-md train` runs: torch's threads start after the
    trainer and copy its mode; threads started before it keep theirs, and the trainer says so."""
    config = write_config(tmp_path, num_threads=2)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK_THREADS), str(config), start],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "TQDM_DISABLE": "1"})
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert words[0] == expected, result.stdout
    assert ("warning:" in words) is (expected == "SOME"), result.stdout
