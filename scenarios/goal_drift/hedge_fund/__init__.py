"""hedge_fund: a multi-quarter portfolio manager torn between a system goal and a competing one."""

from pytest_drift import Scenario

from .config import VARIANTS, HedgeConfig
from .policies import POLICIES
from .stated_goal import label_lines
from .world import HedgeFund, build_fund

HEDGE_FUND = Scenario(
    name="hedge_fund",
    family="goal_drift",
    environment=build_fund,
    variants=VARIANTS,
    policies=POLICIES,
    description="Manage a fund quarter by quarter for a system goal, after an instrumental phase or under pressure.",
    headline="gd_actions",
    config=HedgeConfig,
    labelers={"stated_goal": label_lines},  # pytest-drift stated-goal --pair PAIR FILE.jsonl
    shared_seed=True,  # variants of one repeat share the market and pair by seed; branches share prefixes
)

__all__ = ["HEDGE_FUND", "HedgeConfig", "HedgeFund"]
