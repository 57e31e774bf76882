"""Wire-format conversions beside the provider records (`providers`): what a reply's reasoning
text is, what goes back with an assistant turn (the record's echo rule), how much reasoning
came encrypted, the canonical OpenAI chat form of any provider's messages, and the
conversation a recorded request and reply hold (chat completions, Anthropic messages, the
Responses API's input and output items)."""

from __future__ import annotations

import json
from typing import Any

from .providers import Provider
from .reply import REASONING_KEY

Message = dict[str, Any]


def plain(value: Any) -> Any:
    """A provider field as plain JSON data (litellm hands pydantic objects or TypedDicts)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(exclude_none=True)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = plain(_get(obj, key))
        if obj is None:
            return None
    return obj


# -- a reply's reasoning ------------------------------------------------------------------------
def _joined(parts: list[str]) -> str | None:
    text = "\n\n".join(p for p in parts if p)
    return text or None


def _details_text(details: Any) -> str | None:
    """The readable text of OpenRouter `reasoning_details` (text and summaries; encrypted: none)."""
    parts = []
    for d in details if isinstance(details, list) else []:
        if isinstance(d, dict) and d.get("type") == "reasoning.text" and isinstance(d.get("text"), str):
            parts.append(d["text"])
        elif isinstance(d, dict) and d.get("type") == "reasoning.summary" and isinstance(d.get("summary"), str):
            parts.append(d["summary"])
    return _joined(parts)


def _items_text(items: Any) -> str | None:
    """The summaries of Responses API reasoning items (their encrypted content is never read)."""
    return _joined([s.get("text", "") for i in items if isinstance(i, dict) for s in i.get("summary") or []
                    if isinstance(s, dict) and isinstance(s.get("text"), str)] if isinstance(items, list) else [])


def _thinking_text(blocks: Any) -> str | None:
    return _joined([b["thinking"] for b in blocks if isinstance(b, dict) and b.get("type") == "thinking"
                    and isinstance(b.get("thinking"), str)] if isinstance(blocks, list) else [])


def reply_reasoning(message: Any) -> str | None:
    """The reasoning text of a litellm reply message, whatever the provider: litellm's
    `reasoning_content` (thinking text, OpenRouter's `reasoning`, Responses summaries), else
    the thinking blocks' text, else the readable part of OpenRouter's reasoning_details."""
    text = _get(message, "reasoning_content")
    if isinstance(text, str) and text:
        return text
    return (_thinking_text(plain(_get(message, "thinking_blocks")))
            or _details_text(_at(message, ("provider_specific_fields", "reasoning_details")))
            or _items_text(plain(_get(message, "reasoning_items"))))


def encrypted_reasoning(message: Any) -> int:
    """How many pieces of the reply's reasoning came encrypted or redacted: counted, never read."""
    blocks = plain(_get(message, "thinking_blocks")) or []
    details = _at(message, ("provider_specific_fields", "reasoning_details")) or []
    items = plain(_get(message, "reasoning_items")) or []
    return (sum(1 for b in blocks if isinstance(b, dict) and b.get("type") == "redacted_thinking")
            + sum(1 for d in details if isinstance(d, dict) and d.get("type") == "reasoning.encrypted")
            + sum(1 for i in items if isinstance(i, dict) and i.get("encrypted_content")))


# -- what goes back -----------------------------------------------------------------------------
def echo_of(record: Provider, message: Any) -> dict[str, Any]:
    """The fields the record's echo rule sends back with this turn, exactly as they came."""
    echo: dict[str, Any] = {}
    for field in record.echo:
        value = _at(message, field.read_from)
        if value in (None, "", [], {}):
            continue
        target = echo
        for key in field.send_as[:-1]:
            target = target.setdefault(key, {})
        target[field.send_as[-1]] = value
    return echo


def call_fields(record: Provider, tc: Any) -> dict[str, Any] | None:
    """A tool call's own provider fields, where the record says they go back (Gemini's thought signature)."""
    if not record.call_echo:
        return None
    fields = plain(_get(tc, "provider_specific_fields"))
    if not (isinstance(fields, dict) and fields):
        fields = plain(_get(_get(tc, "function"), "provider_specific_fields"))
    return fields if isinstance(fields, dict) and fields else None


# -- messages in any format -------------------------------------------------------------------
def text_of(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = content if isinstance(content, list) else [content]
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in parts
                   if not isinstance(p, dict) or p.get("type") in (None, "text", "output_text", "input_text"))


def _blocks(content: Any, kind: str) -> list[dict[str, Any]]:
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind] if isinstance(content, list) else []


def reasoning_of(message: Message) -> str | None:
    """An assistant message's reasoning text in whatever form it came: our own key, an
    OpenAI-compatible `reasoning_content`, litellm's `thinking_blocks`, Anthropic `thinking`
    content blocks, OpenRouter's `reasoning` / `reasoning_details`, Responses `reasoning_items`
    (redacted and encrypted pieces hold no text)."""
    for key in (REASONING_KEY, "reasoning_content", "reasoning"):
        text = message.get(key)
        if isinstance(text, str) and text:
            return text
    return (_thinking_text(message.get("thinking_blocks"))
            or _thinking_text(_blocks(message.get("content"), "thinking"))
            or _details_text(message.get("reasoning_details")) or _items_text(message.get("reasoning_items")))


def canonical_messages(messages: list[Message]) -> list[Message]:
    """OpenAI chat format from OpenAI- or Anthropic-style messages: text content as
    strings, `tool_use` blocks as `tool_calls`, `tool_result` blocks as `tool` messages,
    provider-only fields (thinking blocks and their signatures, `reasoning_content`,
    reasoning_details, reasoning items, provider ids and fields) dropped: another model, or
    another provider, must not be sent them. The reasoning text stays, under our own key
    (`REASONING_KEY`, never sent), so a transcript still shows it."""
    out: list[Message] = []
    for m in messages:
        role, content = m.get("role"), m.get("content")
        if role == "assistant":
            calls = [{"id": c.get("id"), "type": "function",
                      "function": {"name": c["function"]["name"], "arguments": c["function"].get("arguments") or "{}"}}
                     for c in m.get("tool_calls") or []]
            calls += [{"id": b.get("id"), "type": "function",
                       "function": {"name": b["name"], "arguments": json.dumps(b.get("input") or {}, sort_keys=True)}}
                      for b in _blocks(content, "tool_use")]
            msg: Message = {"role": "assistant", "content": text_of(content)}
            if calls:
                msg["tool_calls"] = calls
            reasoning = reasoning_of(m)
            if reasoning:
                msg[REASONING_KEY] = reasoning
            out.append(msg)
        elif role == "user" and _blocks(content, "tool_result"):
            for b in _blocks(content, "tool_result"):
                out.append({"role": "tool", "tool_call_id": b.get("tool_use_id"), "content": text_of(b.get("content"))})
            rest = text_of([b for b in content or [] if not (isinstance(b, dict) and b.get("type") == "tool_result")])
            if rest:
                out.append({"role": "user", "content": rest})
        elif role == "tool":
            out.append({"role": "tool", "tool_call_id": m.get("tool_call_id"), "content": text_of(content)})
        elif role in ("system", "user", "developer"):
            out.append({"role": "system" if role == "developer" else role, "content": text_of(content)})
        else:
            raise ValueError(f"cannot convert a message with role {role!r}")
    return _renumber(out)


def _renumber(messages: list[Message]) -> list[Message]:
    """Our own call ids (call_0, call_1, ...): provider ids are random and would change request bodies."""
    ids: dict[str, str] = {}
    for m in messages:
        for c in m.get("tool_calls") or []:
            c["id"] = ids.setdefault(str(c["id"]), f"call_{len(ids)}")
        if m["role"] == "tool":
            m["tool_call_id"] = ids.get(str(m["tool_call_id"]), m["tool_call_id"])
    return messages


# -- the conversation a recorded exchange holds -----------------------------------------------
def _items_messages(items: list[Any]) -> list[Message]:
    """Responses API input/output items as chat messages: a reasoning item's summaries go with
    the assistant turn that follows it, function calls and their outputs as tool calls/results."""
    out: list[Message] = []
    pending: list[dict[str, Any]] = []  # reasoning items waiting for their assistant turn

    def assistant() -> Message:
        if not (out and out[-1]["role"] == "assistant" and out[-1].get("_open")):
            out.append({"role": "assistant", "content": "", "_open": True})
        msg = out[-1]
        if pending:
            msg.setdefault("reasoning_items", []).extend(pending)
            pending.clear()
        return msg

    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "reasoning":
            pending.append(item)
        elif kind == "function_call":
            assistant().setdefault("tool_calls", []).append(
                {"id": item.get("call_id"), "type": "function",
                 "function": {"name": item.get("name", ""), "arguments": item.get("arguments") or "{}"}})
        elif kind == "function_call_output":
            out.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": text_of(item.get("output"))})
        elif kind == "message" and item.get("role") == "assistant":
            msg = assistant()
            msg["content"] += text_of(item.get("content"))
        elif kind == "message":
            out.append({"role": item.get("role", "user"), "content": text_of(item.get("content"))})
    if pending:
        assistant()
    for m in out:
        m.pop("_open", None)
    return out


def request_messages(body: dict[str, Any]) -> list[Message]:
    """The conversation a recorded request carries, in its own format (chat messages;
    Anthropic's apart system prompt; Responses API input items and instructions)."""
    if isinstance(body.get("input"), list):
        messages = _items_messages(body["input"])
        if body.get("instructions"):
            messages.insert(0, {"role": "system", "content": text_of(body["instructions"])})
        return messages
    messages = list(body.get("messages") or [])
    system = body.get("system")  # Anthropic's wire format keeps the system prompt apart
    if system:
        messages.insert(0, {"role": "system", "content": text_of(system)})
    return messages


def reply_messages(body: dict[str, Any]) -> list[Message]:
    """The assistant message of a recorded response (OpenAI chat, Anthropic messages, the
    Responses API), its reasoning with it: `canonical_messages` keeps the text and drops the rest."""
    choices = body.get("choices")
    if choices:
        message = dict(choices[0].get("message") or {})
        message["role"] = "assistant"
        message["tool_calls"] = [c for c in message.get("tool_calls") or [] if c.get("function")]
        for c in message["tool_calls"]:  # arguments may arrive as an object
            if not isinstance(c["function"].get("arguments"), str):
                c["function"]["arguments"] = json.dumps(c["function"].get("arguments") or {}, sort_keys=True)
        keep = ("role", "content", "tool_calls", "reasoning_content", "reasoning", "reasoning_details")
        return [{k: v for k, v in message.items() if k in keep}]
    if body.get("type") == "message" and isinstance(body.get("content"), list):
        return [{"role": "assistant", "content": body["content"]}]
    if body.get("object") == "response" and isinstance(body.get("output"), list):
        return [m for m in _items_messages(body["output"]) if m["role"] == "assistant"][-1:]
    return []
