"""Scaling analysis of Vote and Filter-Vote on plain arrays (Chen et al.; Brown et al.).

``theory``   exact vote / filter-vote accuracy, binary closed forms, the two-level mixture theorem.
``estimate`` per-item answer distributions, difficulty, exact subset-averaged accuracy, pass@k.
``fit``      Chen et al.'s fitted law, the shrinkage predictor with uncertainty bands, coverage law.

This package never imports the engine or the backends.
"""

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
from callscale.scaling.fit import (
    AnswerPrior,
    ChenLawFit,
    CoverageLaw,
    CurvePrediction,
    chen_law,
    fit_answer_prior,
    fit_base_law,
    fit_chen_law,
    fit_chen_law_pool,
    fit_coverage_law,
    predict_vote_curve,
    select_penalty,
    wrong_profiles,
)
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
    "ChenLawFit",
    "CoverageLaw",
    "CurvePrediction",
    "DifficultySplit",
    "ItemCounts",
    "PoolItem",
    "Shape",
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
    "item_counts",
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
    "select_penalty",
    "subset_vote_accuracy",
    "subset_vote_curves",
    "vote_accuracy",
    "vote_accuracy_curves",
    "wrong_profiles",
]
