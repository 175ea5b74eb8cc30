"""Where the predictors of Vote accuracy used to live, kept so ``callscale.scaling.fit`` imports work.

Each name has one home now:

* the answer prior: :mod:`callscale.scaling.prior` (its grid in :mod:`~callscale.scaling.grid`, its
  density fit in :mod:`~callscale.scaling.density`);
* the shrinkage predictor: :mod:`callscale.scaling.predict`;
* the laws behind one interface: :mod:`callscale.scaling.laws` (``ours``, ``chen``, ``coverage``).

Example:
    >>> from callscale.scaling.fit import predict_vote_curve
    >>> predict_vote_curve.__module__
    'callscale.scaling.predict'
"""

from callscale.scaling.density import BASE_CONCENTRATION, fit_base_law
from callscale.scaling.grid import DEFAULT_P_GRID, EXTEND_MAX, extend_curves, signature_table, wrong_profiles
from callscale.scaling.laws.chen import ChenLawFit, chen_law, fit_chen_law, fit_chen_law_pool
from callscale.scaling.laws.coverage import CoverageLaw, fit_coverage_law
from callscale.scaling.predict import CurvePrediction, predict_vote_curve, thinning_matrix
from callscale.scaling.prior import (
    FALLBACK_PENALTY,
    PENALTY_CANDIDATES,
    PROFILE_BANDS,
    AnswerPrior,
    fit_answer_prior,
    select_penalty,
)

__all__ = [
    "BASE_CONCENTRATION",
    "DEFAULT_P_GRID",
    "EXTEND_MAX",
    "FALLBACK_PENALTY",
    "PENALTY_CANDIDATES",
    "PROFILE_BANDS",
    "AnswerPrior",
    "ChenLawFit",
    "CoverageLaw",
    "CurvePrediction",
    "chen_law",
    "extend_curves",
    "fit_answer_prior",
    "fit_base_law",
    "fit_chen_law",
    "fit_chen_law_pool",
    "fit_coverage_law",
    "predict_vote_curve",
    "select_penalty",
    "signature_table",
    "thinning_matrix",
    "wrong_profiles",
]
