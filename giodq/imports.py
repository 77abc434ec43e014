"""Libraries that GX imports and giodq never calls, loaded when first used rather than at import.

GX imports every core expectation when it loads, and its KL-divergence expectation imports
scipy.stats at the top: ~0.9 s of every command that validates (a rerun of one report takes ~6 s
in all). No suite of giodq uses a statistical expectation, so scipy.stats is made a lazy module:
its code runs on first use of any of its names (or on an ``import scipy.stats`` statement).
The packages whose modules import GX (validate, publish) call ``defer_unused`` as they load; the
extraction workers import neither, nor scipy.stats.
"""
from __future__ import annotations

import importlib.util
import sys

DEFERRED = ("scipy.stats",)


def defer(name: str) -> None:
    """Make ``name`` a lazy module (importlib's LazyLoader), unless it is loaded or not installed."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    # as an attribute of its package too: ``from scipy import stats`` then takes it as it is, where an
    # import statement would look at its __spec__ (Python 3.11), and so load it
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(importlib.import_module(parent), child, module)


def defer_unused() -> None:
    for name in DEFERRED:
        defer(name)
