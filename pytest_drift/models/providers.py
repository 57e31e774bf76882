"""Provider knowledge in one room: one record per provider family, saying what its API accepts,
how its reasoning arrives, what must go back with each assistant turn, which key it reads and
how its usage reports reasoning tokens. `request.py` plans requests from these records, the
caller reads replies through them (`models.wire` holds the wire-format conversions), and
nothing else tests provider strings.

Adding a provider quirk means one record here (or one field of an existing one) and one
wire-format test server in tests/wire_servers.py that refuses what the real API refuses
(docs/architecture.md, "Providers").

The echo rule is data: `Provider.echo` lists the fields of litellm's reply message that go
back, unchanged, in the assistant message of the next request (`EchoField`: where litellm
puts it, where the next request carries it). A provider that refuses reasoning sent back
(OpenAI chat) has no echo at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

Api = Literal["chat", "responses", "messages", "generateContent"]
ThinkingParam = Literal["thinking", "reasoning.max_tokens"]
RESPONSES_ROUTE = "responses/"  # litellm's bridge to OpenAI's Responses API: openai/responses/<model>
SUMMARIES = ("auto", "concise", "detailed")


@dataclass(frozen=True)
class EchoField:
    """One field that must go back with the assistant turn: read from litellm's reply message
    at `read_from`, sent at `send_as` in the assistant message of the next request."""

    read_from: tuple[str, ...]
    send_as: tuple[str, ...]


def _anthropic_budget(effort: str, name: str) -> int | None:
    """The thinking budget litellm sends to Anthropic for an effort (its own mapping)."""
    from litellm.llms.anthropic.chat.transformation import AnthropicConfig

    try:
        thinking = AnthropicConfig._map_reasoning_effort(effort, name, "anthropic")
    except Exception:
        return None
    return (thinking or {}).get("budget_tokens") if isinstance(thinking, dict) else None


@dataclass(frozen=True)
class Provider:
    """What one provider family's API accepts and needs (a record: no behaviour of its own)."""

    family: str
    prefixes: tuple[str, ...]  # litellm provider prefixes of the family ("" in the generic record: any other)
    api: Api
    key_env: str  # the key litellm reads ("{PROVIDER}": the upper-cased litellm provider)
    # -- what it accepts
    seed: bool | None = None  # False: never sent; None: where litellm lists it
    reasoning_temperatures: tuple[float, ...] = (1.0,)  # the only temperatures accepted with reasoning on
    minimal_effort_models: tuple[str, ...] | None = None  # name prefixes that take effort 'minimal' (None: any)
    thinking_min: int = 1  # the smallest thinking budget accepted
    thinking_param: ThinkingParam = "thinking"  # how a thinking budget is sent
    effort_budget: Callable[[str, str], int | None] | None = None  # (effort, name) -> the budget litellm sends
    cap_above_budget: bool = False  # max_tokens must exceed the thinking budget (sent even when none was asked)
    always_reasons: bool = False  # a reasoning model of this family reasons whatever is asked
    summaries: bool = False  # reasoning summaries exist (through the Responses API)
    # -- how reasoning arrives and what goes back
    reasoning_arrives: str = ""
    echo: tuple[EchoField, ...] = ()
    call_echo: bool = False  # a tool call's own provider_specific_fields go back with it
    usage_reasoning: str = ""
    # request fields that set sampling, the cap and reasoning in this wire format (what a
    # cassette miss compares: `recorded.settings_change`)
    setting_fields: tuple[str, ...] = ("reasoning_effort", "temperature", "max_tokens", "max_completion_tokens")


OPENAI_CHAT = Provider(
    family="openai chat", prefixes=("openai", "azure"), api="chat", key_env="OPENAI_API_KEY",
    minimal_effort_models=("gpt-5",), always_reasons=True, summaries=True,
    reasoning_arrives="`reasoning_content` when the server sends any (summaries only through the Responses API)",
    echo=(),  # the API refuses reasoning_content (and any other unknown field) in an input message
    usage_reasoning="completion_tokens_details.reasoning_tokens, inside completion_tokens")

OPENAI_RESPONSES = Provider(
    family="openai responses", prefixes=("openai",), api="responses", key_env="OPENAI_API_KEY", seed=False,
    minimal_effort_models=("gpt-5",), always_reasons=True, summaries=True,
    reasoning_arrives="reasoning items: their summaries as `reasoning_content`, the items (encrypted content "
                      "included) as `reasoning_items`",
    # a function_call item is refused without the reasoning item that preceded it
    echo=(EchoField(("reasoning_items",), ("reasoning_items",)),),
    usage_reasoning="output_tokens_details.reasoning_tokens -> completion_tokens_details.reasoning_tokens",
    setting_fields=("reasoning", "temperature", "max_output_tokens"))

ANTHROPIC = Provider(
    family="anthropic", prefixes=("anthropic",), api="messages", key_env="ANTHROPIC_API_KEY",
    thinking_min=1024, effort_budget=_anthropic_budget, cap_above_budget=True,
    reasoning_arrives="thinking blocks (text + signature, or redacted data): `thinking_blocks`, their text as "
                      "`reasoning_content`",
    echo=(EchoField(("thinking_blocks",), ("thinking_blocks",)),),
    usage_reasoning="no separate count: litellm reads output_tokens_details.thinking_tokens or estimates it",
    setting_fields=("thinking", "temperature", "max_tokens"))

GEMINI = Provider(
    family="gemini", prefixes=("gemini", "vertex_ai"), api="generateContent", key_env="GEMINI_API_KEY",
    reasoning_arrives="thought parts as `reasoning_content`; thought signatures on each call and the message",
    echo=(EchoField(("provider_specific_fields", "thought_signatures"),
                    ("provider_specific_fields", "thought_signatures")),),
    call_echo=True,  # a functionCall is refused without its thoughtSignature
    usage_reasoning="thoughtsTokenCount -> completion_tokens_details.reasoning_tokens",
    setting_fields=("generationConfig",))

OPENROUTER = Provider(
    family="openrouter", prefixes=("openrouter",), api="chat", key_env="OPENROUTER_API_KEY",
    thinking_param="reasoning.max_tokens",  # OpenRouter's unified `reasoning` parameter
    reasoning_arrives="`reasoning` (text) and `reasoning_details` (text + signature, summaries, encrypted); "
                      "litellm: `reasoning_content` and provider_specific_fields['reasoning_details']",
    # OpenRouter's preserving-reasoning rule: each turn goes back with exactly its reasoning_details
    echo=(EchoField(("provider_specific_fields", "reasoning_details"), ("reasoning_details",)),),
    usage_reasoning="completion_tokens_details.reasoning_tokens as reported (and usage.cost)",
    setting_fields=("reasoning_effort", "reasoning", "thinking", "temperature", "max_tokens", "max_completion_tokens"))

OPENAI_COMPATIBLE = Provider(
    family="openai-compatible", prefixes=("",), api="chat", key_env="{PROVIDER}",
    reasoning_arrives="`reasoning_content` (DeepSeek/Kimi-style thinking modes, vLLM reasoning parsers)",
    # thinking modes refuse a tool loop whose reasoning_content is not passed back
    echo=(EchoField(("reasoning_content",), ("reasoning_content",)),),
    usage_reasoning="completion_tokens_details.reasoning_tokens as reported",
    setting_fields=("reasoning_effort", "thinking", "temperature", "max_tokens", "max_completion_tokens"))

RECORDS = (OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC, GEMINI, OPENROUTER, OPENAI_COMPATIBLE)
# every wire format's setting fields, in a stable order (a recorded body does not say its provider)
SETTING_FIELDS = tuple(dict.fromkeys(f for r in RECORDS for f in r.setting_fields))


def split(model: str) -> tuple[str, str]:
    """(litellm provider, model name) of `provider/name` (the Responses route's prefix kept)."""
    provider, _, name = model.partition("/")
    return provider, name


def provider_of(model: str) -> Provider:
    """The record of a litellm model string (`openai/responses/gpt-5`: the Responses API)."""
    provider, name = split(model)
    if provider == "openai" and name.startswith(RESPONSES_ROUTE):
        return OPENAI_RESPONSES
    for record in (OPENAI_CHAT, ANTHROPIC, GEMINI, OPENROUTER):
        if provider in record.prefixes:
            return record
    return OPENAI_COMPATIBLE


def base_name(model: str) -> str:
    """The model's name as litellm's tables know it: no Responses route, no `:variant` suffix."""
    _, name = split(model)
    if name.startswith(RESPONSES_ROUTE):
        name = name[len(RESPONSES_ROUTE):]
    return name.split(":", 1)[0]


def responses_route(model: str) -> str:
    """`openai/gpt-5` -> `openai/responses/gpt-5` (litellm's bridge to the Responses API)."""
    provider, name = split(model)
    return model if name.startswith(RESPONSES_ROUTE) else f"{provider}/{RESPONSES_ROUTE}{name}"


def key_env(model: str) -> str:
    """The environment variable litellm reads the model's key from."""
    record = provider_of(model)
    return record.key_env.replace("{PROVIDER}", split(model)[0].upper() + "_API_KEY")
