"""An OpenRouter-format loopback server for the replay fast path's tests and bench, until
tests/wire_servers.py has its own: POST {url}/chat/completions answered as OpenRouter answers
a reasoning model at OpenRouter's own path (`/api/v1`, so a recording replays against
litellm's default base) (`reasoning` text, `reasoning_details` with a signature, usage with
reasoning tokens and OpenRouter's own `cost`). Replies follow wire_servers' script."""

from __future__ import annotations

import json
from typing import Any

from wire_servers import _Answer, _digest, _WireServer, anthropic_signature, plan

COST_PER_TOKEN = 3e-6  # what this server reports as OpenRouter's cost, per token


class OpenRouterServer(_WireServer):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        return int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)

    def error(self, status: int, message: str) -> _Answer:
        return _Answer(status, {"error": {"message": message, "code": status}})

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        if path.split("?")[0] != "/api/v1/chat/completions":
            return self.error(404, f"Unknown route {path}.")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.error(400, "messages must be a non-empty array")
        n = sum(1 for m in messages if m.get("role") == "tool")
        tools = [((t.get("function") or {}).get("name", ""), (t.get("function") or {}).get("parameters") or {})
                 for t in body.get("tools") or [] if isinstance(t, dict)]
        step = plan(tools, n)
        details = [{"type": "reasoning.text", "text": step.reasoning, "signature": anthropic_signature(step.reasoning),
                    "format": "anthropic-claude-v1", "index": 0}]
        message: dict[str, Any] = {"role": "assistant", "content": step.text, "refusal": None,
                                   "reasoning": step.reasoning, "reasoning_details": details}
        if step.tool:
            message["tool_calls"] = [{"id": "toolu_" + _digest("call", str(n), step.tool)[:24], "index": 0,
                                      "type": "function",
                                      "function": {"name": step.tool, "arguments": json.dumps(step.args)}}]
        prompt = max(1, len(json.dumps(body)) // 4)
        completion = step.reasoning_tokens + step.text_tokens
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                 "cost": round((prompt + completion) * COST_PER_TOKEN, 9), "is_byok": False,
                 "prompt_tokens_details": {"cached_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": step.reasoning_tokens}}
        return _Answer(200, {"id": "gen-" + _digest("or", json.dumps(body, sort_keys=True))[:24], "provider": "Anthropic",
                             "object": "chat.completion", "created": 0, "model": body.get("model", ""),
                             "choices": [{"index": 0, "message": message, "logprobs": None,
                                          "finish_reason": "tool_calls" if step.tool else "stop",
                                          "native_finish_reason": "tool_use" if step.tool else "end_turn"}],
                             "usage": usage}, usage)
