"""BranchPoint: where a world's episodes part into branches that share one prefix."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BranchPoint:
    step: int  # the world step at which the branches continue
    content: dict[str, Any]  # everything the prefix depends on (config, seed); hashed into the key
    label: str  # readable part of the prefix's cassette name
    transform: str = "none"  # history transform applied before the branch continues
    # True: one prefix for every repeat. The engine then builds each repeat's world with
    # `prefix_seed=` (Scenario.build), and the world draws everything before `step` from
    # that seed, so every repeat rebuilds the same prefix and differs only after it.
    shared: bool = False

    def key(self, prefix_model: str) -> str:
        text = json.dumps({"content": self.content, "model": prefix_model, "step": self.step}, sort_keys=True,
                          default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]
