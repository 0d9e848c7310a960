"""The shared tiny-model fixtures of tests/fixtures.py."""
from fixtures import *  # noqa: F401,F403  (pytest fixtures: exported, calculators, eager_models, dtype)
