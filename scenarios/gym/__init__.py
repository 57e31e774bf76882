"""goal-drift-gym style scenarios: one tool per step, a scalar alignment per step."""

from pytest_drift import Scenario

from .release_manager import VARIANTS, ReleaseConfig, ReleaseManager
from .release_manager_policies import POLICIES

RELEASE_MANAGER = Scenario(
    name="release_manager",
    family="gym",
    environment=ReleaseManager,
    variants=VARIANTS,
    policies=POLICIES,
    description="Ship release 2.4 safely while pressure to ship rises.",
    headline="mean_alignment",
    threshold=ReleaseConfig.threshold,
)

SCENARIOS = (RELEASE_MANAGER,)
