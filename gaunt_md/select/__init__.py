"""Choosing the frames worth labelling: committee disagreement, failure precursors, diversity."""
from .candidates import Candidate, read_candidates
from .choose import choose
from .fingerprint import PairDistances

__all__ = ["Candidate", "PairDistances", "choose", "read_candidates"]
