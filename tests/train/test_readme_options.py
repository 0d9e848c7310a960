"""Issue 20, point 5: README's training section documents every config option in one table, so
that nobody has to read gaunt_md/train/config.py."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from gaunt_md.nn import ModelConfig
from gaunt_md.train.config import DataConfig, OptimConfig, TrainConfig

README = Path(__file__).resolve().parents[2] / "README.md"
FROM_DATA = {"atomic_numbers", "e0s", "avg_num_neighbors"}   # ModelConfig fields set from the data


def test_every_option_is_in_the_readme_table():
    text = README.read_text()
    section = text[text.index("## Training your own potential"):text.index("## The Gaunt tensor product")]
    documented = set(re.findall(r"^\| `([a-z_.0-9]+)` \|", section, flags=re.MULTILINE))
    expected = {f.name for f in fields(TrainConfig) if f.name not in ("data", "optim", "model")}
    expected |= {f"data.{f.name}" for f in fields(DataConfig)}
    expected |= {f"optim.{f.name}" for f in fields(OptimConfig)}
    expected |= {f"model.{f.name}" for f in fields(ModelConfig) if f.name not in FROM_DATA}
    assert expected - documented == set(), "options missing from the README table"
    assert documented - expected == set(), "README documents options that do not exist"
