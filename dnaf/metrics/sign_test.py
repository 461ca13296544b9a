"""The verdict of a swap check, shared by its colour form (dnaf.metrics.swap) and its pattern form
(dnaf.metrics.texture_swap): does the output follow the swapped source?

Each pair votes: its output is closer to the swapped source than to the true one, or farther (ties
abstain). A two-sided sign test (a binomial test of the votes against one half) decides: the
outputs follow the source when significantly more pairs are closer to it, do not when
significantly fewer are, and the check is undecided otherwise. Comparing the two mean distances
alone called a 54 % share of 100 pairs "follows", which a coin does often.
"""

from __future__ import annotations

import pandas as pd
from scipy.stats import binomtest

SIGNIFICANCE = 0.05
"""The sign test's level: below it the majority of the votes decides the verdict."""


def sign_verdict(to_swapped: pd.Series, to_true: pd.Series) -> dict:
    """Per-pair distances of the outputs to the swapped source and to the true source ->
    ``share_closer_to_swapped`` (of all pairs), ``sign_test_p`` and ``follows_source``: True or
    False when the sign test is significant, None when it is not (or there is no vote)."""
    closer = int((to_swapped < to_true).sum())
    farther = int((to_swapped > to_true).sum())
    votes = closer + farther
    p = float(binomtest(closer, votes).pvalue) if votes else 1.0
    return {
        "share_closer_to_swapped": closer / len(to_swapped) if len(to_swapped) else None,
        "sign_test_p": p,
        "follows_source": closer > farther if p < SIGNIFICANCE else None,
    }


def verdict_text(summary: dict, things: str) -> str:
    """``summary`` of a swap check -> "the <things> follow the source", "... do NOT ..." or
    "undecided"; each with the sign test's p-value."""
    if "sign_test_p" not in summary:  # a swap.json written before the sign test: its verdict compared means
        return "no verdict: this swap.json predates the sign test; run the swap check again"
    p = f"sign test p = {summary['sign_test_p']:.2g}"
    if summary["follows_source"] is None:
        return f"undecided: the pairs split between the two sources as chance would ({p})"
    return f"the {things} {'follow' if summary['follows_source'] else 'do NOT follow'} the source ({p})"
