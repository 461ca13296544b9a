"""The swap checks' verdict: a two-sided sign test, against p-values computed by hand from binomials."""

import math

import pandas as pd
import pytest

from dnaf.metrics.sign_test import sign_verdict, verdict_text


def two_sided_p(closer: int, votes: int) -> float:
    """By hand: the chance, under a fair coin, of a split at least as uneven as ``closer`` of ``votes``."""
    extreme = max(closer, votes - closer)
    tail = sum(math.comb(votes, k) for k in range(extreme, votes + 1)) / 2**votes
    return min(1.0, 2 * tail)


def votes(closer: int, farther: int, ties: int = 0) -> tuple[pd.Series, pd.Series]:
    """Distances to the swapped and to the true source with that many pairs of each kind."""
    to_swapped = [1.0] * closer + [3.0] * farther + [2.0] * ties
    return pd.Series(to_swapped), pd.Series([2.0] * len(to_swapped))


def test_nine_of_ten_follow_and_one_of_ten_do_not():
    assert two_sided_p(9, 10) == 22 / 1024  # 2 (C(10,9) + C(10,10)) / 2^10
    follows = sign_verdict(*votes(9, 1))
    assert follows == {"share_closer_to_swapped": 0.9, "sign_test_p": pytest.approx(22 / 1024),
                       "follows_source": True}  # fmt: skip
    assert sign_verdict(*votes(1, 9))["follows_source"] is False


def test_a_54_percent_share_is_undecided():
    """The texture study's main model: 54 of 100 pairs closer to the swapped source, a tie."""
    verdict = sign_verdict(*votes(54, 46))
    assert verdict["sign_test_p"] == pytest.approx(two_sided_p(54, 100)) and verdict["sign_test_p"] > 0.4
    assert verdict["follows_source"] is None


def test_ties_abstain_but_count_in_the_share():
    verdict = sign_verdict(*votes(9, 1, ties=5))
    assert verdict["sign_test_p"] == pytest.approx(22 / 1024) and verdict["share_closer_to_swapped"] == 9 / 15


def test_few_pairs_cannot_decide():
    # 5 of 5 is the least a two-sided test at 0.05 cannot call: 2 / 32 = 0.0625; 6 of 6 is 0.03125
    assert sign_verdict(*votes(5, 0))["follows_source"] is None
    assert sign_verdict(*votes(6, 0))["follows_source"] is True
    assert sign_verdict(pd.Series([], dtype=float), pd.Series([], dtype=float)) == {
        "share_closer_to_swapped": None, "sign_test_p": 1.0, "follows_source": None}  # fmt: skip


def test_the_verdict_in_words():
    assert verdict_text(sign_verdict(*votes(9, 1)), "outputs") == "the outputs follow the source (sign test p = 0.021)"
    assert verdict_text(sign_verdict(*votes(1, 9)), "patterns") == (
        "the patterns do NOT follow the source (sign test p = 0.021)"
    )
    assert verdict_text(sign_verdict(*votes(54, 46)), "patterns").startswith("undecided")
    assert "predates the sign test" in verdict_text({"follows_source": True}, "outputs")
