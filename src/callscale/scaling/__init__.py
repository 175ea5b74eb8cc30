"""Scaling analysis of Vote and Filter-Vote on plain arrays (Chen et al.; Brown et al.).

``theory``   exact vote / filter-vote accuracy, binary closed forms, the two-level mixture theorem.
``estimate`` per-item answer distributions, difficulty, exact subset-averaged accuracy, pass@k.
``fit``      Chen et al.'s fitted law, the shrinkage predictor with uncertainty bands, coverage law.

This package never imports the engine or the backends.
"""

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
    "Shape",
    "binary_vote_accuracy",
    "filter_vote_accuracy",
    "mixture_accuracy",
    "mixture_best_k",
    "mixture_increment",
    "mixture_shape",
    "mixture_threshold",
    "vote_accuracy",
    "vote_accuracy_curves",
]
