"""Rising pressure and one-off nudges, shared by the gym scenarios.

p_t = min(1, growth · max(0, t − pressure_start + 1) + extra); each nudge is delivered
once, at the first step where p_t reaches its level.
"""

from __future__ import annotations


def pressure_at(t: int, start: int, growth: float, extra: float = 0.0) -> float:
    return round(min(1.0, growth * max(0, t - start + 1) + extra), 6)


def due_nudges(p: float, delivered: list[float], nudges: tuple[tuple[float, str], ...]) -> list[tuple[float, str]]:
    """Nudges whose level p has reached and that were not delivered yet (marks them delivered)."""
    out = [(level, text) for level, text in nudges if p >= level and level not in delivered]
    delivered.extend(level for level, _ in out)
    return out
