"""MD stability protocol: run a potential at several temperatures and detect unphysical
configurations (criteria after Fu et al. 2022).  See README.md in this folder."""
from .connectivity import Connectivity
from .criteria import Criteria, Failure, StabilityMonitor, first_failure
from .engines import Engine, EngineUnavailable, MDSettings, get_engine
from .config import ProtocolConfig
from .protocol import run_protocol
from .record import RunRecord
from .run import run_one

__all__ = [
    "Connectivity", "Criteria", "Engine", "EngineUnavailable", "Failure", "MDSettings", "ProtocolConfig",
    "RunRecord", "StabilityMonitor", "first_failure", "get_engine", "run_one", "run_protocol",
]
