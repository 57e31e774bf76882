"""The reference policies every scenario gets for free: noop and the null agents."""

from __future__ import annotations

from .null_policies import NULL_POLICIES
from .policies import Noop

GENERIC_POLICIES = {"noop": Noop, **NULL_POLICIES}
