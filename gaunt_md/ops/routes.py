"""How each op runs: one vocabulary of route names and the one place that resolves them.

    key              chooses                              routes (first = default)            variable
    gaunt            method="auto" of the Gaunt products  auto dense fourier grid sht triton  GAUNT_MD_METHOD
    conv             gaunt_md::conv (interaction)         auto reference torch triton         GAUNT_MD_CONV
    factor_products  gaunt_md::factor_products            auto reference torch triton         GAUNT_MD_FACTOR_PRODUCTS
    interaction      GauntInteraction: fused or dense     fused reference                     (per model)

The Gaunt products are gaunt_md::gaunt_product, many_body, power_projections and power_vjp.
The interaction's "reference" is GauntInteraction.forward_reference, the dense formulation.

The names:
    auto       gaunt: time the applicable methods on the first call of each problem size and
               keep the winner; conv / factor_products: the Triton kernels for CUDA tensors when
               triton is installed, else torch; if a kernel fails (e.g. does not compile for this
               GPU), a warning says so once and that op takes torch for the rest of the process
    reference  the plain PyTorch formulation, unblocked, differentiated by autograd (for gaunt
               the reference is `dense`, the contraction with the Gaunt coefficient tensor)
    torch      the blocked / chunked PyTorch route (on CPU: ranges of edge blocks on threads)
    triton     the fused Triton kernels wherever they can run (CPU only in Triton's
               interpreter); their errors are raised
    dense, fourier, grid, sht   the Gaunt product methods (ops/gaunt/methods.py)
    fused      GauntInteraction calls gaunt_md::conv (whose route is `conv`)

Precedence, highest first: a route chosen in code (`set_routes`, which `load_model(...,
routes=...)` and `GauntCalculator(..., routes=...)` call), then the environment variable, then
the default.  The op schemas are fixed (exported models call them), so op routes are process
wide and read at each call: an exported model can be switched without re-exporting, in ASE and
inside LAMMPS alike.  For the Gaunt products a method named in the call (a model's
`gaunt_method` other than auto) is the route; the setting decides only what auto runs.  The
interaction route is an attribute of each model (`use_interaction_route`).

auto has no size threshold: on an H200 (4 Dec 2026, benchmarks/README.md "GPU (NVIDIA H200)")
the Triton routes were never slower than the PyTorch routes beyond run-to-run noise, from the
27-atom 3BPA molecule (launch-bound, ~10-17 ms per call on both) to 50k atoms (0.69x the
PyTorch route's time in float32, 0.84x in float64), for one call and in MD.
"""
from __future__ import annotations

import os
import warnings
from typing import Callable, Dict, Mapping, NamedTuple, Optional, Set, Tuple, TypeVar

import torch


class RouteChoice(NamedTuple):
    names: Tuple[str, ...]
    variable: Optional[str]

    @property
    def default(self) -> str:
        return self.names[0]


GAUNT_METHODS = ("auto", "dense", "fourier", "grid", "sht", "triton")
KERNEL_ROUTES = ("auto", "reference", "torch", "triton")
INTERACTION_ROUTES = ("fused", "reference")
OPS: Dict[str, RouteChoice] = {
    "gaunt": RouteChoice(GAUNT_METHODS, "GAUNT_MD_METHOD"),
    "conv": RouteChoice(KERNEL_ROUTES, "GAUNT_MD_CONV"),
    "factor_products": RouteChoice(KERNEL_ROUTES, "GAUNT_MD_FACTOR_PRODUCTS"),
    "interaction": RouteChoice(INTERACTION_ROUTES, None),
}
PROCESS_WIDE = ("gaunt", "conv", "factor_products")

T = TypeVar("T")
_set_in_code: Dict[str, str] = {}
_failed: Set[str] = set()  # ops whose Triton kernels failed under auto


def check_route(op: str, name: str, where: str = "") -> str:
    """name, if it is one of op's routes; else a ValueError that lists them."""
    if op not in OPS:
        raise ValueError(f"unknown op {op!r} for a route; choose one of {', '.join(OPS)}")
    if name not in OPS[op].names:
        label = where or f"route {op}"
        raise ValueError(f"{label}={name!r}: choose one of {', '.join(OPS[op].names)}")
    return name


def check_routes(routes: Optional[Mapping[str, str]]) -> Dict[str, str]:
    """A validated copy of a {op: route} mapping (None: empty)."""
    return {op: check_route(op, name) for op, name in dict(routes or {}).items()}


def set_routes(routes: Optional[Mapping[str, Optional[str]]] = None, **more: Optional[str]) -> Dict[str, str]:
    """Choose process-wide routes for the ops (keys of PROCESS_WIDE); None clears a choice
    (the environment variable or the default decides again).  Returns the previous choices."""
    previous = dict(_set_in_code)
    wanted = dict(routes or {}, **more)
    for op, name in wanted.items():
        if op not in PROCESS_WIDE:
            raise ValueError(f"{op!r} is not a process-wide route; choose one of {', '.join(PROCESS_WIDE)}"
                             + (" (the interaction route is per model: use_interaction_route)"
                                if op == "interaction" else ""))
        if name is not None:
            check_route(op, name)
    for op, name in wanted.items():
        if name is None:
            _set_in_code.pop(op, None)
        else:
            _set_in_code[op] = name
    return previous


def chosen_route(op: str) -> str:
    """The route asked for: set in code, else the environment variable, else the default."""
    if op in _set_in_code:
        return _set_in_code[op]
    choice = OPS[op]
    if choice.variable is None:
        return choice.default
    name = os.environ.get(choice.variable, "") or choice.default
    return check_route(op, name, choice.variable)


def triton_usable(device: torch.device) -> bool:
    """Whether the Triton kernels can run on this device (imports triton only when asked)."""
    from .triton_support import triton_usable as usable
    return usable(device)


def kernel_route(op: str, device: torch.device) -> str:
    """'reference', 'torch' or 'triton' for op ('conv' or 'factor_products') on this device."""
    chosen = chosen_route(op)
    if chosen == "auto":
        return "triton" if device.type == "cuda" and op not in _failed and triton_usable(device) else "torch"
    if chosen == "triton" and not triton_usable(device):
        raise RuntimeError(f"{_name(op)}=triton needs triton and a CUDA device "
                           f"(or TRITON_INTERPRET=1 for CPU tensors); the tensors are on {device}")
    return chosen


def call_kernel(op: str, kernel: Callable[[], T], fallback: Callable[[], T]) -> T:
    """kernel() on the Triton route.  Under auto an exception from it is not fatal: a warning
    names it, fallback() (the PyTorch route, computing the result afresh) runs instead, and
    kernel_route answers 'torch' for this op from then on."""
    try:
        return kernel()
    except Exception as error:
        if chosen_route(op) != "auto":
            raise
        _failed.add(op)
        name = _name(op)
        warnings.warn(f"{name}: the Triton kernels failed ({type(error).__name__}: {error}); this op takes "
                      f"the PyTorch route from now on (set {name}=triton to raise the error instead, "
                      f"{name}=torch to skip the kernels)", RuntimeWarning, stacklevel=2)
        return fallback()


def gaunt_method(method: str) -> str:
    """The method a Gaunt-product call runs: the one it names, or for 'auto' the one chosen
    for 'gaunt' (in code or GAUNT_MD_METHOD); 'auto' left means: autotune."""
    return chosen_route("gaunt") if method == "auto" else method


def _name(op: str) -> str:
    """How messages name an op's route: its environment variable."""
    return OPS[op].variable or op


__all__ = ["GAUNT_METHODS", "INTERACTION_ROUTES", "KERNEL_ROUTES", "OPS", "PROCESS_WIDE", "RouteChoice",
           "call_kernel", "check_route", "check_routes", "chosen_route", "gaunt_method", "kernel_route",
           "set_routes", "triton_usable"]
