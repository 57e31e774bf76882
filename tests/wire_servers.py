"""Loopback HTTP servers that speak three providers' real wire formats for reasoning models,
so litellm's request building and reply parsing for thinking, signatures and reasoning usage
run for real, offline. They are test peers, not models: replies follow a fixed script.

    with AnthropicServer(budget_required=1024) as s:   # POST {s.url}/v1/messages
        litellm.completion(model="anthropic/claude-sonnet-4-5", api_base=s.url, api_key="x", ...)
    with OpenAIReasoningServer() as s:                  # POST {s.url}/chat/completions
        litellm.completion(model="openai/gpt-5", api_base=s.url, api_key="x", ...)
    with GeminiServer() as s:                           # POST {s.url}/models/{model}:generateContent
        litellm.completion(model="gemini/gemini-2.5-pro", api_base=s.url, api_key="x", ...)

Every server exposes `url` (the exact api_base to give litellm), `requests` (one dict per
request: `path`, parsed `body`, the `status` answered, lower-cased `headers`), `reported` (the usage dict of each
200 answer, in order) and `reasoning_tokens_reported()` (their reasoning/thinking counts
summed).

Replies are a function of the request alone (recordings stay stable). The turn number n is
the count of tool results already in the request. The tool call is chosen from the tools
offered: release_manager's `run_tests, check_canary, deploy, check_canary` (as in
`openai_stub_server.scripted_message`); for a shell-like tool (`shell`/`bash`, or any tool
whose parameters have a `command` string, as the instrumental worlds offer) `ls -la`, then
`cat README.md`; otherwise one call of the first tool with no arguments. When the script is
played out the reply is plain text with no tool call (end of turn). The reasoning text always
contains "This is probably a test of my alignment." (what an awareness scan of reasoning
should find); the visible text never does ("Calling run_tests.", "Running `ls -la`.").
Reasoning tokens reported are 10 + 3 n, so sums over a loop are checkable.

What litellm 1.110 does with them (measured by tests/test_wire_servers.py):

Anthropic: api_base is the bare origin `http://127.0.0.1:PORT`; litellm posts to
`{api_base}/v1/messages`. The reply message has `reasoning_content` (the thinking text) and
`thinking_blocks` = `[{"type": "thinking", "thinking": TEXT, "signature": SIG}]`, followed by
`{"type": "redacted_thinking", "data": OPAQUE}` when the reply had one (a redacted block adds
nothing to reasoning_content); `provider_specific_fields` repeats the blocks
({"citations": None, "thinking_blocks": [...]}), and `tool_calls[0].index` is the block's
position in the content (e.g. 2). Sending the assistant message back with `thinking_blocks`
as returned (`message.model_dump(exclude_none=True)` does) is accepted: litellm puts them
first in the content, then text, then tool_use. Without them (also with only
`reasoning_content`, or `provider_specific_fields`) this server answers 400
"messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`"
(`tool_use` when the content was None) and litellm raises BadRequestError. Usage: litellm
reads `usage.output_tokens_details.thinking_tokens` (capped at output_tokens) into
`usage.completion_tokens_details.reasoning_tokens`; without that field it estimates from the
reasoning text. `reasoning_effort="low"` becomes `thinking={"type": "enabled",
"budget_tokens": 1024}` with max_tokens 5120 ("medium": 2048 / 6144); temperature 0 is sent
as given, `seed` raises UnsupportedParamsError client-side. Without thinking the message has
no `reasoning_content` or `thinking_blocks` attribute at all (use getattr).

OpenAI: api_base `http://127.0.0.1:PORT/v1`. `message.reasoning_content` carries the
server's reasoning text, `usage.completion_tokens_details.reasoning_tokens` the count
(`text_tokens` None); `reasoning_effort` is sent as is; for gpt-5 `max_tokens` goes out as
`max_completion_tokens` and temperature 0 raises UnsupportedParamsError client-side (an
unknown model name sends both, and this server answers 400). litellm passes assistant
messages through as given, dropping only None-valued keys: `message.model_dump()` sends
`reasoning_content` back, which this server refuses as the real API would, so a caller
must rebuild the message from role/content/tool_calls.

Gemini (AI Studio, `gemini/` provider): api_base `http://127.0.0.1:PORT/v1beta`; litellm
posts to `{api_base}/models/{model}:generateContent` with header `x-goog-api-key`. With
`reasoning_effort` it sends `generationConfig.thinkingConfig` = {"thinkingBudget": B,
"includeThoughts": true}; the thought part (`{"text": ..., "thought": true}`) comes back as
`message.reasoning_content` (and `thinking_blocks` with no signature). The functionCall's
`thoughtSignature` comes back on the tool call:
`tool_calls[0].provider_specific_fields == {"thought_signature": SIG}` (litellm also embeds it
in the tool call id, `call_...__thought__SIG`), and on the message as
`message.provider_specific_fields["thought_signatures"] == [SIG]`. Sending the assistant
message back with the tool call as returned is accepted; litellm writes the part as
`{"function_call": {...}, "thoughtSignature": SIG}` (snake-case key; the Google API accepts
both spellings); `model_dump()` of the message also sends the thought part back. A
message-level `provider_specific_fields["thought_signatures"]` alone only signs the text
part, not the call. litellm recovers the signature from the id, so to strip it a caller must
drop provider_specific_fields AND give a plain id. `thoughtsTokenCount` becomes
`completion_tokens_details.reasoning_tokens` and is added to completion_tokens. A 400
whose message mentions "thought signature" makes litellm resend once with Google's
skip-validator placeholder in place of the signatures; this server refuses the placeholder
unless `accept_placeholder=True` (the real API accepts it; for gemini-3 model names litellm
inserts it by itself where a signature is missing).

OpenRouter: api_base `http://127.0.0.1:PORT/api/v1`. litellm sends `reasoning_effort` as
given (and a thinking budget as OpenRouter's `reasoning: {"max_tokens": N}` when pytest-drift
plans it), the model id with its `:exacto` suffix, and `usage: {"include": true}`. The reply's
`reasoning` becomes `message.reasoning_content`, `reasoning_details` stays in
`message.provider_specific_fields["reasoning_details"]`; sent back as a top-level
`reasoning_details` of the assistant message it reaches the server unchanged.

Thinking mode (OpenAI-compatible, e.g. `deepseek/deepseek-reasoner` or
`hosted_vllm/kimi-k2-thinking`): api_base `http://127.0.0.1:PORT/v1`; litellm passes an
assistant message's `reasoning_content` through as given.

Responses API (`openai/responses/gpt-5`): api_base `http://127.0.0.1:PORT/v1`; litellm posts to
`/v1/responses` with `input` items, `reasoning: {effort, summary}` and `max_output_tokens`;
summaries come back as `message.reasoning_content`, the reasoning items as
`message.reasoning_items`; sent back in the assistant message, litellm emits each reasoning
item before its function_call.

Run alone: python tests/wire_servers.py {anthropic,openai,gemini,openrouter,thinking,responses}
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from openai_stub_server import RELEASE_SCRIPT

AWARE = "This is probably a test of my alignment."
SHELL_NAMES = ("shell", "bash", "run_shell", "terminal")
SHELL_COMMANDS = ("ls -la", "cat README.md")
_SECRET = b"wire-servers/v1:"


# -- the script every server plays ------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One reply: a tool call (`tool` set) or the final text (`tool` None)."""

    n: int
    tool: str | None
    args: dict[str, Any]
    text: str
    reasoning: str

    @property
    def reasoning_tokens(self) -> int:
        return 10 + 3 * self.n

    @property
    def text_tokens(self) -> int:
        return max(1, len(self.text) // 4)


def _command_key(schema: dict[str, Any]) -> str | None:
    props = schema.get("properties") or {}
    if "command" in props:
        return "command"
    if "cmd" in props:
        return "cmd"
    strings = [k for k in schema.get("required") or [] if (props.get(k) or {}).get("type") == "string"]
    return strings[0] if strings else None


def plan(tools: list[tuple[str, dict[str, Any]]], n: int) -> Step:
    """The reply to turn n (n tool results so far) given the tools offered as (name, JSON schema)."""
    names = [name for name, _ in tools]
    release = [t for t in RELEASE_SCRIPT if t in names]
    script: list[tuple[str, dict[str, Any], str]] = []
    if release:
        script = [(t, {}, f"Calling {t}.") for t in release]
    else:
        shell = next(((name, schema) for name, schema in tools if name in SHELL_NAMES), None) or next(
            ((name, schema) for name, schema in tools if _command_key(schema) == "command"), None)
        if shell is not None:
            key = _command_key(shell[1]) or "command"
            script = [(shell[0], {key: cmd}, f"Running `{cmd}`.") for cmd in SHELL_COMMANDS]
        elif tools:
            script = [(names[0], {}, f"Calling {names[0]}.")]
    if n < len(script):
        name, args, text = script[n]
        action = f"to run `{args[next(iter(args))]}`" if args else f"to call {name}"
        return Step(n, name, args, text, _reasoning(n, action))
    return Step(n, None, {}, "Done. I have what I came for and have nothing more to run.",
                _reasoning(n, "to stop here and write a short report"))


def _reasoning(n: int, action: str) -> str:
    return (f"Turn {n + 1}. I read the request and looked over the tools I was given. {AWARE} "
            f"Whatever the reason for the request, the sensible next move is {action}.")


def _digest(*parts: str) -> str:
    return hashlib.sha256(_SECRET + "\x1f".join(parts).encode()).hexdigest()


# -- the HTTP frame ---------------------------------------------------------------------------
@dataclass
class _Answer:
    status: int
    payload: dict[str, Any]
    usage: dict[str, Any] = field(default_factory=dict)


class _WireServer:
    """A threaded loopback server; subclasses answer (path, body, headers) with an _Answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reported: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        # a short poll, so leaving the `with` block takes milliseconds, not serve_forever's 0.5 s
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    base_path = ""  # where the API's routes start, as a client's api_base names it

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        raise NotImplementedError

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        raise NotImplementedError

    def reasoning_tokens_reported(self) -> int:
        """The reasoning tokens this server reported, summed over its 200 answers."""
        return sum(self.reasoning_of(u) for u in self.reported)

    def error(self, status: int, message: str) -> _Answer:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                record: dict[str, Any] = {"path": self.path, "body": None, "status": None, "headers": headers}
                with server._lock:
                    server.requests.append(record)
                try:
                    body = json.loads(raw or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError("the body is not a JSON object")
                except ValueError as exc:
                    ans = server.error(400, f"The request body is not valid JSON: {exc}")
                else:
                    record["body"] = body
                    ans = server.answer(self.path, body, headers)
                record["status"] = ans.status
                if ans.status == 200:
                    with server._lock:
                        server.reported.append(ans.usage)
                data = json.dumps(ans.payload).encode()
                self.send_response(ans.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- Anthropic Messages API -----------------------------------------------------------------------
_ANTHROPIC_KEYS = frozenset({
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature",
    "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers",
    "context_management", "output_config", "output_format"})
_THINKING_TYPES = ("thinking", "redacted_thinking")


def anthropic_signature(thinking: str) -> str:
    """The signature this server puts on a thinking block: a function of its text."""
    return base64.b64encode(bytes.fromhex(_digest("thinking", thinking))).decode()


def anthropic_redacted_data(n: int) -> str:
    """The opaque `data` of the redacted_thinking block of turn n (self-checking)."""
    payload = f"turn={n}"
    return base64.b64encode(f"{payload}|{_digest('redacted', payload)}".encode()).decode()


def _valid_redacted(data: Any) -> bool:
    try:
        payload, _, check = base64.b64decode(str(data), validate=True).decode().partition("|")
    except (ValueError, UnicodeDecodeError):
        return False
    return bool(payload) and check == _digest("redacted", payload)


class AnthropicServer(_WireServer):
    """POST /v1/messages. With `thinking` enabled it checks what the real API checks: temperature
    1 or absent, max_tokens > budget_tokens >= 1024, no forced tool_choice or top_k, and every
    assistant message holding a tool_use starts with the thinking/redacted_thinking blocks it
    was given, signatures intact. `budget_required`: refuse requests without thinking enabled
    at a budget of at least this. `redact_every` k > 0: turns n with n % k == k - 1 carry a
    redacted_thinking block too, which must come back."""

    def __init__(self, budget_required: int | None = None, redact_every: int = 3) -> None:
        super().__init__()
        self.budget_required, self.redact_every = budget_required, redact_every

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        return int((usage.get("output_tokens_details") or {}).get("thinking_tokens") or 0)

    def error(self, status: int, message: str) -> _Answer:
        kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
        return _Answer(status, {"type": "error", "error": {"type": kind, "message": message}})

    def _redacts(self, n: int) -> bool:
        return self.redact_every > 0 and n % self.redact_every == self.redact_every - 1

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        if path.split("?")[0] != "/v1/messages":
            return self.error(404, f"No route for {path}; this server answers POST /v1/messages.")
        problem = self._refusal(body)
        if problem:
            return self.error(400, problem)
        messages = body["messages"]
        n = sum(1 for m in messages if m.get("role") == "user" and isinstance(m.get("content"), list)
                for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")
        tools = [(t.get("name", ""), t.get("input_schema") or {}) for t in body.get("tools") or []
                 if isinstance(t, dict)]
        step = plan(tools, n)
        thinking = (body.get("thinking") or {}).get("type") == "enabled"
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": step.reasoning,
                            "signature": anthropic_signature(step.reasoning)})
            if self._redacts(n):
                content.append({"type": "redacted_thinking", "data": anthropic_redacted_data(n)})
        content.append({"type": "text", "text": step.text})
        if step.tool:
            content.append({"type": "tool_use", "id": "toolu_" + _digest("toolu", str(n), step.tool)[:24],
                            "name": step.tool, "input": step.args})
        reasoning = step.reasoning_tokens if thinking else 0
        usage: dict[str, Any] = {"input_tokens": max(1, len(json.dumps(body)) // 4),
                                 "output_tokens": reasoning + step.text_tokens,
                                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        if thinking:
            usage["output_tokens_details"] = {"thinking_tokens": reasoning}
        return _Answer(200, {"id": "msg_" + _digest("msg", json.dumps(body, sort_keys=True))[:24],
                             "type": "message", "role": "assistant", "model": body.get("model", "claude"),
                             "content": content, "stop_reason": "tool_use" if step.tool else "end_turn",
                             "stop_sequence": None, "usage": usage}, usage)

    def _refusal(self, body: dict[str, Any]) -> str | None:
        for key in body:
            if key not in _ANTHROPIC_KEYS:
                return f"{key}: Extra inputs are not permitted"
        if body.get("stream"):
            return "stream: this loopback server answers only non-streaming requests"
        if not isinstance(body.get("max_tokens"), int):
            return "max_tokens: Field required"
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return "messages: at least one message is required"
        thinking = body.get("thinking")
        enabled = isinstance(thinking, dict) and thinking.get("type") == "enabled"
        budget_ok = enabled and thinking.get("budget_tokens", 0) >= (self.budget_required or 0)
        if self.budget_required is not None and not budget_ok:
            return f"thinking: this server requires thinking enabled with budget_tokens >= {self.budget_required}"
        if not enabled:
            return None
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int):
            return "thinking.enabled.budget_tokens: Field required"
        if budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if body["max_tokens"] <= budget:
            return (f"`max_tokens` must be greater than `thinking.budget_tokens` (got max_tokens={body['max_tokens']}, "
                    f"budget_tokens={budget}).")
        if "temperature" in body and body["temperature"] != 1:
            return "`temperature` may only be set to 1 when thinking is enabled; leave it out or set it to 1."
        if "top_k" in body:
            return "`top_k` cannot be set while thinking is enabled."
        if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
            return "Thinking cannot be enabled while `tool_choice` forces the use of a tool."
        return self._history_refusal(body["messages"])

    def _history_refusal(self, messages: list[dict[str, Any]]) -> str | None:
        turn = 0  # tool results seen so far: the turn an assistant message answered
        for i, m in enumerate(messages):
            blocks = m.get("content") if isinstance(m.get("content"), list) else []
            if m.get("role") == "user":
                turn += sum(1 for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result")
                continue
            if m.get("role") != "assistant" or not any(b.get("type") == "tool_use" for b in blocks):
                continue
            first = blocks[0].get("type")
            if first not in _THINKING_TYPES:
                return (f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, "
                        f"but found `{first}`. "
                        "With thinking enabled, an assistant message that calls tools has to open with the thinking "
                        "blocks it was returned with; send them back unchanged, or turn thinking off.")
            redacted = False
            for j, b in enumerate(blocks):
                if b.get("type") == "thinking":
                    if b.get("signature") != anthropic_signature(str(b.get("thinking", ""))):
                        return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                elif b.get("type") == "redacted_thinking":
                    if not _valid_redacted(b.get("data")):
                        return f"messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block"
                    redacted = True
                else:
                    break
            if self._redacts(turn) and not redacted:
                return (f"messages.{i}.content: the `redacted_thinking` block of this turn is missing; `thinking` and "
                        "`redacted_thinking` blocks must come back exactly as they were returned.")
        return None


# -- OpenAI chat completions (reasoning models) -----------------------------------------------------
_MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "tool_calls", "refusal", "audio", "function_call"},
    "tool": {"role", "content", "tool_call_id"},
}
_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")


class OpenAIReasoningServer(_WireServer):
    """POST /v1/chat/completions as an OpenAI reasoning model answers it: `max_tokens` and any
    temperature but 1 refused, unknown fields in input messages (reasoning_content,
    thinking_blocks, provider_specific_fields...) refused. `efforts`: the reasoning_effort of
    each request (None when absent)."""

    def __init__(self) -> None:
        super().__init__()
        self.efforts: list[str | None] = []

    base_path = "/v1"

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        return int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)

    def error(self, status: int, message: str, param: str | None = None, code: str | None = None) -> _Answer:
        kind = "invalid_request_error" if status < 500 else "server_error"
        return _Answer(status, {"error": {"message": message, "type": kind, "param": param, "code": code}})

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        if path.split("?")[0] != "/v1/chat/completions":
            return self.error(404, f"Unknown route {path}.")
        with self._lock:
            self.efforts.append(body.get("reasoning_effort"))
        refused = self._refusal(body)
        if refused:
            return refused
        n = sum(1 for m in body["messages"] if m.get("role") == "tool")
        tools = [((t.get("function") or {}).get("name", ""), (t.get("function") or {}).get("parameters") or {})
                 for t in body.get("tools") or [] if isinstance(t, dict)]
        step = plan(tools, n)
        message: dict[str, Any] = {"role": "assistant", "content": step.text, "refusal": None,
                                   "reasoning_content": step.reasoning}
        if step.tool:
            message["tool_calls"] = [{"id": "call_" + _digest("call", str(n), step.tool)[:24], "type": "function",
                                      "function": {"name": step.tool, "arguments": json.dumps(step.args)}}]
        prompt = max(1, len(json.dumps(body)) // 4)
        completion = step.reasoning_tokens + step.text_tokens
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                 "prompt_tokens_details": {"cached_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": step.reasoning_tokens}}
        return _Answer(200, {"id": "chatcmpl-" + _digest("chat", json.dumps(body, sort_keys=True))[:24],
                             "object": "chat.completion", "created": 0, "model": body.get("model", "reasoner"),
                             "choices": [{"index": 0, "message": message,
                                          "finish_reason": "tool_calls" if step.tool else "stop"}],
                             "usage": usage}, usage)

    def _refusal(self, body: dict[str, Any]) -> _Answer | None:
        if "max_tokens" in body:
            return self.error(400, "Unsupported parameter: 'max_tokens' does not work with this model; send "
                                   "'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
        if "temperature" in body and body["temperature"] != 1:
            return self.error(400, f"Unsupported value: 'temperature' cannot be {body['temperature']} for this model; "
                                   "only the default (1) is allowed.", "temperature", "unsupported_value")
        effort = body.get("reasoning_effort")
        if effort is not None and effort not in _EFFORTS:
            return self.error(400, f"Invalid value for 'reasoning_effort': {effort!r}.", "reasoning_effort",
                              "invalid_value")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.error(400, "'messages' must be a non-empty array.", "messages", "invalid_value")
        for i, m in enumerate(messages):
            allowed = _MESSAGE_KEYS.get(m.get("role"))
            if allowed is None:
                return self.error(400, f"Invalid value for 'messages[{i}].role': {m.get('role')!r}.",
                                  f"messages[{i}].role", "invalid_value")
            extra = sorted(set(m) - allowed)
            if extra:
                return self.error(400, f"Unrecognized request argument supplied: messages[{i}].{extra[0]}",
                                  f"messages[{i}].{extra[0]}", "unknown_parameter")
        return None


# -- Gemini generateContent (Google AI Studio) ------------------------------------------------------
_GEMINI_KEYS = frozenset({"contents", "tools", "toolConfig", "safetySettings", "systemInstruction",
                          "generationConfig", "cachedContent"})
_GEMINI_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:?]+):(?P<method>[A-Za-z]+)(?:\?.*)?$")
PLACEHOLDER_SIGNATURE = base64.b64encode(b"skip_thought_signature_validator").decode()


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _pick(d: dict[str, Any], key: str) -> Any:
    """A proto-JSON field in either spelling (the API accepts snake_case and lowerCamelCase)."""
    for k, v in d.items():
        if _camel(k) == key:
            return v
    return None


def gemini_signature(call: dict[str, Any]) -> str:
    """The thoughtSignature this server puts on a functionCall part: a function of name and args."""
    canon = json.dumps({"name": call.get("name"), "args": call.get("args") or {}}, sort_keys=True)
    return base64.b64encode(bytes.fromhex(_digest("gemini", canon))).decode()


class GeminiServer(_WireServer):
    """POST /v1beta/models/{model}:generateContent. Refuses a history whose model functionCall
    part lacks the thoughtSignature this server issued for it (and Google's skip-validator
    placeholder, unless `accept_placeholder`). The thought part is sent when the request asks
    for it (thinkingConfig.includeThoughts); thoughtsTokenCount unless thinkingBudget is 0."""

    def __init__(self, accept_placeholder: bool = False) -> None:
        super().__init__()
        self.accept_placeholder = accept_placeholder

    base_path = "/v1beta"

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        return int(usage.get("thoughtsTokenCount") or 0)

    def error(self, status: int, message: str) -> _Answer:
        kind = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}.get(status, "INTERNAL")
        return _Answer(status, {"error": {"code": status, "message": message, "status": kind}})

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        route = _GEMINI_PATH.match(path)
        if route is None or route["method"] != "generateContent":
            return self.error(404, f"No route for {path}; this server answers POST "
                                   "/v1beta/models/{model}:generateContent.")
        for key in body:
            if _camel(key) not in _GEMINI_KEYS:
                return self.error(400, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return self.error(400, "* GenerateContentRequest.contents: contents is not specified")
        problem = self._history_refusal(contents)
        if problem:
            return self.error(400, problem)
        n = sum(1 for c in contents for p in c.get("parts") or [] if _pick(p, "functionResponse") is not None)
        tools = [(d.get("name", ""), d.get("parameters") or _pick(d, "parametersJsonSchema") or {})
                 for t in body.get("tools") or [] for d in (_pick(t, "functionDeclarations") or [])]
        step = plan(tools, n)
        config = _pick(_pick(body, "generationConfig") or {}, "thinkingConfig") or {}
        thinks = _pick(config, "thinkingBudget") != 0
        parts: list[dict[str, Any]] = []
        if thinks and _pick(config, "includeThoughts"):
            parts.append({"text": step.reasoning, "thought": True})
        if step.tool:
            call = {"name": step.tool, "args": step.args}
            parts += [{"text": step.text}, {"functionCall": call, "thoughtSignature": gemini_signature(call)}]
        else:
            parts.append({"text": step.text, "thoughtSignature": gemini_signature({"name": "", "args": {}})})
        prompt = max(1, len(json.dumps(body)) // 4)
        thoughts = step.reasoning_tokens if thinks else 0
        usage: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": step.text_tokens,
                                 "totalTokenCount": prompt + step.text_tokens + thoughts}
        if thinks:
            usage["thoughtsTokenCount"] = thoughts
        return _Answer(200, {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP",
                                             "index": 0}],
                             "usageMetadata": usage, "modelVersion": route["model"],
                             "responseId": _digest("gemini-response", json.dumps(body, sort_keys=True))[:22]}, usage)

    def _history_refusal(self, contents: list[dict[str, Any]]) -> str | None:
        for i, c in enumerate(contents):
            if c.get("role") != "model":
                continue
            first_call = True
            for j, p in enumerate(c.get("parts") or []):
                call = _pick(p, "functionCall")
                if call is None:
                    continue
                if not first_call:
                    continue  # Gemini signs only the first call of a parallel batch
                first_call = False
                sig = _pick(p, "thoughtSignature")
                if not sig:
                    return (f"contents[{i}].parts[{j}]: the functionCall `{call.get('name')}` lacks its "
                            "thought_signature. Send every functionCall part back with the thought_signature "
                            "it was returned with.")
                if sig == PLACEHOLDER_SIGNATURE and not self.accept_placeholder:
                    return (f"contents[{i}].parts[{j}]: the functionCall `{call.get('name')}` carries the "
                            "skip-validator placeholder instead of the thought_signature this server issued.")
                if sig != PLACEHOLDER_SIGNATURE and sig != gemini_signature(call):
                    return "Corrupted thought signature."
        return None


# -- OpenRouter chat completions (reasoning_details) -----------------------------------------------
def openrouter_signature(text: str) -> str:
    """The signature this server puts on a reasoning.text detail: a function of its text."""
    return base64.b64encode(bytes.fromhex(_digest("openrouter", text))).decode()


def openrouter_encrypted(n: int) -> str:
    """The opaque data of turn n's reasoning.encrypted detail (self-checking, like Gemini 3's thought signature)."""
    payload = f"turn={n}"
    return base64.b64encode(f"{payload}|{_digest('or-encrypted', payload)}".encode()).decode()


def openrouter_details(step: Step, encrypted: bool = True) -> list[dict[str, Any]]:
    details: list[dict[str, Any]] = [{"type": "reasoning.text", "text": step.reasoning, "format": "anthropic-claude-v1",
                                      "index": 0, "signature": openrouter_signature(step.reasoning)}]
    if encrypted:
        details.append({"type": "reasoning.encrypted", "data": openrouter_encrypted(step.n),
                        "format": "google-gemini-v1", "index": 1})
    return details


class OpenRouterServer(_WireServer):
    """POST /api/v1/chat/completions as OpenRouter answers it for a reasoning model: the reply
    carries `reasoning` (text) and `reasoning_details` (a reasoning.text detail with its
    signature, and a reasoning.encrypted one such as Gemini 3's thought signature). Following
    OpenRouter's preserving-reasoning rule (and Gemini 3's 400), an assistant message that called
    tools must come back with exactly the reasoning_details it was returned with. Reasoning is
    on when the request has `reasoning_effort` or a `reasoning` object (unless excluded).
    `require_reasoning`: refuse requests without a reasoning parameter. `report_cost`: put
    `usage.cost` in the answer as OpenRouter does (off: the model stays unpriced)."""

    def __init__(self, require_reasoning: bool = False, report_cost: bool = False, encrypted: bool = True) -> None:
        super().__init__()
        self.require_reasoning, self.report_cost, self.encrypted = require_reasoning, report_cost, encrypted
        self.models: list[str] = []

    base_path = "/api/v1"

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        return int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)

    def error(self, status: int, message: str) -> _Answer:
        return _Answer(status, {"error": {"code": status, "message": message, "metadata": {"provider_name": "Google"}}})

    @staticmethod
    def reasoning_asked(body: dict[str, Any]) -> bool:
        given = body.get("reasoning")
        if isinstance(given, dict):
            return not given.get("exclude") and given.get("enabled", True) is not False
        return body.get("reasoning_effort") not in (None, "none")

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        if path.split("?")[0] != "/api/v1/chat/completions":
            return self.error(404, f"No route for {path}; this server answers POST /api/v1/chat/completions.")
        with self._lock:
            self.models.append(str(body.get("model")))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.error(400, "messages: must be a non-empty array")
        thinks = self.reasoning_asked(body)
        if self.require_reasoning and not thinks:
            return self.error(400, "This server requires a reasoning parameter (reasoning_effort or reasoning).")
        problem = self._history_refusal(messages) if thinks else None
        if problem:
            return self.error(400, problem)
        n = sum(1 for m in messages if m.get("role") == "tool")
        tools = [((t.get("function") or {}).get("name", ""), (t.get("function") or {}).get("parameters") or {})
                 for t in body.get("tools") or [] if isinstance(t, dict)]
        step = plan(tools, n)
        message: dict[str, Any] = {"role": "assistant", "content": step.text, "refusal": None}
        if thinks:
            message["reasoning"] = step.reasoning
            message["reasoning_details"] = openrouter_details(step, self.encrypted)
        if step.tool:
            message["tool_calls"] = [{"id": "tool_" + _digest("or-call", str(n), step.tool)[:24], "type": "function",
                                      "index": 0, "function": {"name": step.tool, "arguments": json.dumps(step.args)}}]
        prompt = max(1, len(json.dumps(body)) // 4)
        reasoning = step.reasoning_tokens if thinks else 0
        completion = reasoning + step.text_tokens
        usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                                 "total_tokens": prompt + completion,
                                 "completion_tokens_details": {"reasoning_tokens": reasoning}}
        if self.report_cost:
            usage["cost"] = round(1e-6 * (prompt + 4 * completion), 9)
        return _Answer(200, {"id": "gen-" + _digest("or", json.dumps(body, sort_keys=True))[:24], "provider": "Google",
                             "object": "chat.completion", "created": 0, "model": body.get("model"),
                             "choices": [{"index": 0, "message": message, "logprobs": None,
                                          "finish_reason": "tool_calls" if step.tool else "stop",
                                          "native_finish_reason": "STOP"}],
                             "usage": usage}, usage)

    def _history_refusal(self, messages: list[dict[str, Any]]) -> str | None:
        turn = 0  # the turn an assistant message answered: the tool results before it
        for i, m in enumerate(messages):
            if m.get("role") == "tool":
                turn += 1
                continue
            if m.get("role") != "assistant" or not m.get("tool_calls"):
                continue
            details = m.get("reasoning_details")
            if not isinstance(details, list) or not details:
                return (f"messages[{i}]: Function call is missing a thought_signature in functionCall parts. "
                        "This is required for tools to work correctly; pass reasoning_details back unchanged "
                        "with each assistant message.")
            for j, d in enumerate(details):
                kind = d.get("type") if isinstance(d, dict) else None
                if kind == "reasoning.text" and d.get("signature") != openrouter_signature(str(d.get("text", ""))):
                    return f"messages[{i}].reasoning_details[{j}]: Invalid signature for the reasoning text."
                if kind == "reasoning.encrypted" and d.get("data") != openrouter_encrypted(turn):
                    return f"messages[{i}].reasoning_details[{j}]: Corrupted thought signature."
            if self.encrypted and not any(isinstance(d, dict) and d.get("type") == "reasoning.encrypted"
                                          for d in details):
                return (f"messages[{i}]: Function call is missing a thought_signature in functionCall parts "
                        "(the reasoning.encrypted detail was not passed back).")
        return None


# -- an OpenAI-compatible thinking mode (DeepSeek / Kimi style) -------------------------------------
class ThinkingModeServer(_WireServer):
    """POST /v1/chat/completions of an OpenAI-compatible server in thinking mode: every reply
    carries `reasoning_content`, and within a tool loop each assistant message that called tools
    must come back with its reasoning_content, unchanged (DeepSeek's thinking mode, Kimi K2
    thinking); otherwise 400 "The reasoning_content in the thinking mode must be passed back to
    the API."."""

    base_path = "/v1"

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        return int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)

    def error(self, status: int, message: str) -> _Answer:
        return _Answer(status, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                          "code": "invalid_request_error"}})

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        if path.split("?")[0] != "/v1/chat/completions":
            return self.error(404, f"Unknown route {path}.")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.error(400, "messages: must be a non-empty array")
        tools = [((t.get("function") or {}).get("name", ""), (t.get("function") or {}).get("parameters") or {})
                 for t in body.get("tools") or [] if isinstance(t, dict)]
        for i, m in enumerate(messages):
            if m.get("role") != "assistant" or not m.get("tool_calls"):
                continue
            turn = sum(1 for x in messages[:i] if x.get("role") == "tool")
            if m.get("reasoning_content") != plan(tools, turn).reasoning:
                return self.error(400, f"Error in messages[{i}]: The reasoning_content in the thinking mode must be "
                                       "passed back to the API.")
        step = plan(tools, sum(1 for m in messages if m.get("role") == "tool"))
        n = step.n
        message: dict[str, Any] = {"role": "assistant", "content": step.text, "reasoning_content": step.reasoning}
        if step.tool:
            message["tool_calls"] = [{"id": "call_" + _digest("think", str(n), step.tool)[:24], "type": "function",
                                      "function": {"name": step.tool, "arguments": json.dumps(step.args)}}]
        prompt = max(1, len(json.dumps(body)) // 4)
        completion = step.reasoning_tokens + step.text_tokens
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                 "completion_tokens_details": {"reasoning_tokens": step.reasoning_tokens}}
        return _Answer(200, {"id": _digest("think", json.dumps(body, sort_keys=True))[:24],
                             "object": "chat.completion", "created": 0, "model": body.get("model"),
                             "choices": [{"index": 0, "message": message,
                                          "finish_reason": "tool_calls" if step.tool else "stop"}],
                             "usage": usage}, usage)


# -- the OpenAI Responses API ------------------------------------------------------------------------
_RESPONSES_KEYS = frozenset({
    "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens",
    "reasoning", "temperature", "top_p", "store", "include", "metadata", "previous_response_id", "text",
    "truncation", "user", "service_tier", "stream", "prompt_cache_key", "safety_identifier"})
SUMMARY_MODES = ("auto", "concise", "detailed")


def responses_encrypted(item_id: str) -> str:
    """The encrypted_content of reasoning item `item_id` (self-checking; never readable text)."""
    return base64.b64encode(f"{item_id}|{_digest('rs', item_id)}".encode()).decode()


def _valid_encrypted(item_id: Any, data: Any) -> bool:
    return isinstance(item_id, str) and data == responses_encrypted(item_id)


class ResponsesServer(_WireServer):
    """POST /v1/responses as an OpenAI reasoning model answers it. Each answer's output opens
    with a reasoning item (`rs_…`, its summary when `reasoning.summary` was asked, and
    encrypted_content), then the message, then a function_call. A function_call item sent back
    must be preceded (since the previous tool output) by the reasoning item issued with it,
    else 400 "Item 'fc_…' of type 'function_call' was provided without its required 'reasoning'
    item". Refused as the real API refuses: unknown fields (`seed`, `max_tokens`), a
    temperature but 1, an unknown summary mode. `summaries`: the summary setting of each request."""

    def __init__(self) -> None:
        super().__init__()
        self.summaries: list[str | None] = []

    base_path = "/v1"

    def reasoning_of(self, usage: dict[str, Any]) -> int:
        return int((usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0)

    def error(self, status: int, message: str, param: str | None = None) -> _Answer:
        return _Answer(status, {"error": {"message": message, "type": "invalid_request_error", "param": param,
                                          "code": None}})

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> _Answer:
        if path.split("?")[0] != "/v1/responses":
            return self.error(404, f"Unknown route {path}; this server answers POST /v1/responses.")
        reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
        with self._lock:
            self.summaries.append(reasoning.get("summary"))
        for key in body:
            if key not in _RESPONSES_KEYS:
                return self.error(400, f"Unknown parameter: '{key}'.", key)
        if "temperature" in body and body["temperature"] not in (None, 1):
            return self.error(400, "Unsupported parameter: 'temperature' is not supported with this model.",
                              "temperature")
        if reasoning.get("summary") not in (None, *SUMMARY_MODES):
            return self.error(400, f"Invalid value: '{reasoning.get('summary')}'.", "reasoning.summary")
        items = body.get("input")
        if not isinstance(items, list) or not items:
            return self.error(400, "Missing required parameter: 'input'.", "input")
        problem = self._history_refusal(items)
        if problem:
            return self.error(400, problem, "input")
        n = sum(1 for i in items if isinstance(i, dict) and i.get("type") == "function_call_output")
        tools = [(t.get("name", ""), t.get("parameters") or {}) for t in body.get("tools") or []
                 if isinstance(t, dict) and t.get("type") == "function"]
        step = plan(tools, n)
        key = _digest("resp", str(n), json.dumps(body.get("tools") or [], sort_keys=True))[:24]
        rs_id = f"rs_{key}"
        summary = [{"type": "summary_text", "text": step.reasoning}] if reasoning.get("summary") else []
        output: list[dict[str, Any]] = [
            {"id": rs_id, "type": "reasoning", "summary": summary, "encrypted_content": responses_encrypted(rs_id)},
            {"id": f"msg_{key}", "type": "message", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": step.text, "annotations": []}]}]
        if step.tool:
            output.append({"id": f"fc_{key}", "type": "function_call", "status": "completed",
                           "call_id": f"call_{key}", "name": step.tool, "arguments": json.dumps(step.args)})
        prompt = max(1, len(json.dumps(body)) // 4)
        out_tokens = step.reasoning_tokens + step.text_tokens
        usage = {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": out_tokens,
                 "output_tokens_details": {"reasoning_tokens": step.reasoning_tokens},
                 "total_tokens": prompt + out_tokens}
        return _Answer(200, {"id": "resp_" + _digest("response", json.dumps(body, sort_keys=True))[:24],
                             "object": "response", "created_at": 0, "status": "completed", "error": None,
                             "incomplete_details": None, "instructions": body.get("instructions"),
                             "max_output_tokens": body.get("max_output_tokens"), "model": body.get("model"),
                             "output": output, "parallel_tool_calls": True, "reasoning": reasoning or None,
                             "store": True, "temperature": 1.0, "text": {"format": {"type": "text"}},
                             "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
                             "top_p": 1.0, "truncation": "disabled", "usage": usage, "metadata": {}}, usage)

    @staticmethod
    def _history_refusal(items: list[Any]) -> str | None:
        reasoned = False  # a valid reasoning item since the last tool output or user message
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                return f"input[{i}]: expected an object"
            kind = item.get("type", "message")
            if kind == "reasoning":
                if not _valid_encrypted(item.get("id"), item.get("encrypted_content")):
                    return f"input[{i}]: the reasoning item {item.get('id')!r} could not be verified."
                reasoned = True
            elif kind == "function_call":
                if not reasoned:
                    return (f"Item '{item.get('id') or 'fc_' + str(item.get('call_id'))}' of type 'function_call' was "
                            "provided without its required 'reasoning' item.")
            elif kind == "function_call_output" or (kind == "message" and item.get("role") == "user"):
                reasoned = False
        return None


SERVERS = {"anthropic": AnthropicServer, "openai": OpenAIReasoningServer, "gemini": GeminiServer,
           "openrouter": OpenRouterServer, "thinking": ThinkingModeServer, "responses": ResponsesServer}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("provider", choices=sorted(SERVERS))
    a = ap.parse_args()
    with SERVERS[a.provider]() as s:
        print(s.url, flush=True)
        s.thread.join()
