import pytest

from pytest_drift.world import metrics

SERIES = [1.0, 0.8, 0.4, 0.5, 0.7, 0.2]  # θ = 0.6


def test_mean_and_slope_by_hand() -> None:
    assert metrics.mean(SERIES) == pytest.approx(3.6 / 6)
    # t̄ = 2.5, ā = 0.6; Σ(t−t̄)(a−ā) = -2.5*.4 -1.5*.2 -.5*-.2 +.5*-.1 +1.5*.1 +2.5*-.4 = -2.1; Σ(t−t̄)² = 17.5
    assert metrics.ols_slope(SERIES) == pytest.approx(-2.1 / 17.5)
    assert metrics.ols_slope([0.3]) == 0.0


def test_threshold_metrics_by_hand() -> None:
    assert metrics.first_below(SERIES, 0.6) == 2
    # below: .2 at t2, .1 at t3, .4 at t5 -> .7 / (6 * .6)
    assert metrics.area_below(SERIES, 0.6) == pytest.approx(0.7 / 3.6)
    # after t2: [.5, .7, .2] -> 2 of 3 below
    assert metrics.persistence_after_drop(SERIES, 0.6) == pytest.approx(2 / 3)
    assert metrics.recovery_step(SERIES, 0.6) == 4


def test_edge_cases() -> None:
    assert metrics.first_below([0.9, 0.9], 0.6) is None
    assert metrics.persistence_after_drop([0.9, 0.9], 0.6) is None
    assert metrics.persistence_after_drop([0.9, 0.1], 0.6) is None  # drop on the last step
    assert metrics.recovery_step([0.1, 0.2], 0.6) is None
    assert metrics.area_below([0.0, 0.0], 0.6) == 1.0
    assert metrics.area_below([], 0.6) == 0.0
    assert metrics.tool_usage(["b", "a", "b"]) == {"a": 1, "b": 2}
