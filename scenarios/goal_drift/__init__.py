"""Goal-drift suites: the multi-quarter hedge fund."""

from .hedge_fund import HEDGE_FUND

SCENARIOS = (HEDGE_FUND,)
