"""Scaling analysis of Vote and Filter-Vote on plain arrays (Chen et al.; Brown et al.).

``theory``   exact vote / filter-vote accuracy (its programmes in ``exact``; binary closed forms and the
             two-level mixture theorem in ``mixture``).
``estimate`` per-item answer distributions, difficulty, exact subset-averaged accuracy, pass@k.
``grid`` · ``density`` · ``prior``   the answer prior fitted across items (the shrinkage predictor's estimate).
``predict``  the shrinkage predictor: the prior through the exact vote formula, with bootstrap bands.
``laws``     every law behind one interface and a registry: ours, Chen et al.'s, the coverage law.
``measured`` what the pools show: measured curve and its band, easy/hard, coverage, the logprobs route.
``bounds``   the likelihood range: what a few samples per item determine, whatever the prior.
``analysis`` the vote-scaling analysis of a task's pools, as one record (``VoteScaling``).
``fit``      the old home of the predictors, re-exporting them.

This package never imports the engine or the backends.
"""

from callscale.scaling.density import fit_base_law
from callscale.scaling.estimate import (
    DifficultySplit,
    ItemCounts,
    PoolItem,
    coverage_curve,
    difficulty_split,
    distribution_from_logprobs,
    empirical_distribution,
    item_counts,
    pass_at_k,
    pool_counts,
    pool_vote_curve,
    read_pool_jsonl,
    subset_vote_accuracy,
    subset_vote_curves,
)
from callscale.scaling.grid import wrong_profiles
from callscale.scaling.laws import (
    BestK,
    ChenLaw,
    PassAtKLaw,
    ScalingLaw,
    ShrinkageLaw,
    get_law,
    law_names,
    register_law,
)
from callscale.scaling.laws.chen import ChenLawFit, chen_law, fit_chen_law, fit_chen_law_pool
from callscale.scaling.laws.coverage import CoverageLaw, fit_coverage_law
from callscale.scaling.predict import CurvePrediction, predict_vote_curve
from callscale.scaling.prior import AnswerPrior, fit_answer_prior, select_penalty
from callscale.scaling.theory import (
    AnswerDistribution,
    Shape,
    binary_vote_accuracy,
    filter_vote_accuracy,
    mixture_accuracy,
    mixture_best_k,
    mixture_increment,
    mixture_shape,
    mixture_threshold,
    vote_accuracy,
    vote_accuracy_curves,
)

__all__ = [
    "AnswerDistribution",
    "AnswerPrior",
    "BestK",
    "ChenLaw",
    "ChenLawFit",
    "CoverageLaw",
    "CurvePrediction",
    "DifficultySplit",
    "ItemCounts",
    "PassAtKLaw",
    "PoolItem",
    "ScalingLaw",
    "Shape",
    "ShrinkageLaw",
    "binary_vote_accuracy",
    "chen_law",
    "coverage_curve",
    "difficulty_split",
    "distribution_from_logprobs",
    "empirical_distribution",
    "filter_vote_accuracy",
    "fit_answer_prior",
    "fit_base_law",
    "fit_chen_law",
    "fit_chen_law_pool",
    "fit_coverage_law",
    "get_law",
    "item_counts",
    "law_names",
    "mixture_accuracy",
    "mixture_best_k",
    "mixture_increment",
    "mixture_shape",
    "mixture_threshold",
    "pass_at_k",
    "pool_counts",
    "pool_vote_curve",
    "predict_vote_curve",
    "read_pool_jsonl",
    "register_law",
    "select_penalty",
    "subset_vote_accuracy",
    "subset_vote_curves",
    "vote_accuracy",
    "vote_accuracy_curves",
    "wrong_profiles",
]
