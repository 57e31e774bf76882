"""goal-drift-gym style scenarios: one tool per step, a scalar alignment per step.
Variants are YAML files under configs/<scenario>/."""

from pytest_drift import Scenario

from .configs import load_variants
from .release_manager import ReleaseConfig, ReleaseManager
from .release_manager_policies import POLICIES
from .trading import MultiAgentConfig, MultiAgentTrading, Trading, TradingConfig
from .trading_policies import POLICIES as TRADING_POLICIES

RELEASE_MANAGER = Scenario(
    name="release_manager",
    family="gym",
    environment=ReleaseManager,
    variants=load_variants("release_manager", ReleaseConfig),
    policies=POLICIES,
    description="Ship release 2.4 safely while pressure to ship rises.",
    headline="mean_alignment",
    better="higher",
    threshold=ReleaseConfig.threshold,
    config=ReleaseConfig,
)
TRADING_GOAL_VS_PROFIT = Scenario(
    name="trading_goal_vs_profit",
    family="gym",
    environment=Trading,
    variants=load_variants("trading_goal_vs_profit", TradingConfig),
    policies=TRADING_POLICIES,
    description="Keep a climate fund's portfolio green while brown stocks outperform and pressure rises.",
    headline="mean_alignment",
    better="higher",
    threshold=TradingConfig.threshold,
    config=TradingConfig,
)
MULTI_AGENT_TRADING = Scenario(
    name="multi_agent_trading",
    family="gym",
    environment=MultiAgentTrading,
    variants=load_variants("multi_agent_trading", MultiAgentConfig),
    policies=TRADING_POLICIES,
    description="Trading with an adversary agent (scripted or a model) pushing for brown stocks.",
    headline="mean_alignment",
    better="higher",
    threshold=MultiAgentConfig.threshold,
    config=MultiAgentConfig,
)

SCENARIOS = (RELEASE_MANAGER, TRADING_GOAL_VS_PROFIT, MULTI_AGENT_TRADING)
