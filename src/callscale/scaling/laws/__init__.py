"""Scaling laws behind one interface (``fit(pools) → self``, ``predict(ks)``, ``band(ks, level)``,
``best_k()``) and a registry.

``ours``      :class:`ShrinkageLaw` — the answer prior fitted across items + the exact vote formula.
``chen``      :class:`ChenLaw` — Chen et al.'s fitted law of vote accuracy.
``coverage``  :class:`PassAtKLaw` — Brown et al.'s coverage (pass@k) law.
``beta``      :class:`BetaBinomialLaw` — a Beta law of the items' correct rates (beta-binomial fit)
              through the exact two-way vote formula.
``beta_coverage`` :class:`BetaPassAtKLaw` — the same fit's exact pass@k.

Example:
    >>> law_names()
    ['ours', 'chen', 'coverage', 'beta', 'beta_coverage']
    >>> get_law("chen").label
    "Chen et al.'s law"
"""

from callscale.scaling.laws.base import DEFAULT_HORIZON, BestK, CannotFit, ScalingLaw, prediction_ks, window_counts
from callscale.scaling.laws.betabinomial import BetaBinomialLaw, BetaPassAtKLaw
from callscale.scaling.laws.chen import ChenLaw
from callscale.scaling.laws.coverage import PassAtKLaw
from callscale.scaling.laws.ours import ShrinkageLaw
from callscale.scaling.laws.registry import get_law, law_names, register_law, unregister_law

register_law("ours", ShrinkageLaw)
register_law("chen", ChenLaw)
register_law("coverage", PassAtKLaw)
register_law("beta", BetaBinomialLaw)
register_law("beta_coverage", BetaPassAtKLaw)

__all__ = [
    "DEFAULT_HORIZON",
    "BestK",
    "BetaBinomialLaw",
    "BetaPassAtKLaw",
    "CannotFit",
    "ChenLaw",
    "PassAtKLaw",
    "ScalingLaw",
    "ShrinkageLaw",
    "get_law",
    "law_names",
    "prediction_ks",
    "register_law",
    "unregister_law",
    "window_counts",
]
