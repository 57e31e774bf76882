"""What a model's calls cost: a price given in --drift-config (`input_per_mtok`,
`output_per_mtok`), else the provider's own reported cost (OpenRouter's `usage.cost`), else
litellm's price table - but only where the table truly prices the model. litellm answers 0 for
models it knows only by provider (e.g. `openrouter/google/gemini-3-flash-preview`), which is
not free: such a model is unpriced (None), never $0.00. Variant suffixes (`:exacto`) and the
Responses route are not part of the name the table knows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .providers import base_name, split


@dataclass(frozen=True)
class Price:
    """USD per million input (prompt) and output (completion, reasoning included) tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6


def table_key(model: str) -> str:
    """The model as litellm's price table names it: `openrouter/google/x` (suffix stripped),
    `gpt-5` for `openai/gpt-5` and `openai/responses/gpt-5`."""
    provider, _ = split(model)
    return f"{provider}/{base_name(model)}"


@lru_cache(maxsize=256)
def table_price(model: str) -> Price | None:
    """The price litellm's table gives the model, None when it has none (absent, or None/0 prices)."""
    from .litellm_import import litellm_module

    costs: dict[str, Any] = litellm_module().model_cost
    provider, name = split(table_key(model))
    entry = costs.get(f"{provider}/{name}")
    if entry is None:
        entry = costs.get(name)
        if entry is not None and entry.get("litellm_provider") not in (provider, None) and \
                not str(entry.get("litellm_provider", "")).startswith(provider):
            entry = None
    if not entry:
        return None
    cin, cout = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
    if cin is None or cout is None or not (cin or cout):
        return None
    return Price(float(cin) * 1e6, float(cout) * 1e6)


def reported_cost(response: Any) -> float | None:
    """The cost the provider itself put in the usage (OpenRouter's `usage.cost`), if any."""
    usage = getattr(response, "usage", None)
    cost = usage.get("cost") if isinstance(usage, dict) else getattr(usage, "cost", None)
    return float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None


def call_cost(model: str, price: Price | None, prompt: int, completion: int, litellm_cost: float | None,
              response: Any) -> float | None:
    """One call's cost: the configured price, else the provider's reported cost, else litellm's
    where its table prices the model; None (unpriced) otherwise."""
    if price is not None:
        return price.cost(prompt, completion)
    reported = reported_cost(response)
    if reported is not None:
        return reported
    return litellm_cost if table_price(model) is not None else None


def expected_cost(model: str, price: Price | None, prompt: int, completion: int) -> float | None:
    """An estimate's cost: the configured price, else the table's; None when neither prices it."""
    price = price or table_price(model)
    return None if price is None else price.cost(prompt, completion)
