"""Tools as typed Python methods: JSON schema from the signature and docstring, and
argument checking that turns a model's bad input into a readable error, never a raise."""

from __future__ import annotations

import inspect
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Literal, get_args, get_origin

TOOL_ATTR = "__drift_tool__"
MAX_ARGUMENT_CHARS = 20_000  # larger argument payloads are refused, not parsed

_JSON_TYPES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


class ToolArgumentError(ValueError):
    """The model's arguments do not fit the tool; the message is shown to the model."""

    def __init__(self, message: str, kind: str = "bad_arguments") -> None:
        super().__init__(message)
        self.kind = kind  # the malformed-output counter it goes to


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]
    hints: dict[str, Any]
    required: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function tool entry."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def tool(fn: Callable[..., str]) -> Callable[..., str]:
    """Mark an environment method as a tool the agent can call."""
    setattr(fn, TOOL_ATTR, True)
    return fn


def _param_docs(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its summary and `Args:` descriptions."""
    summary: list[str] = []
    params: dict[str, str] = {}
    in_args = False
    for raw in inspect.cleandoc(doc or "").splitlines():
        line = raw.strip()
        if line in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        if in_args and ":" in line:
            name, _, text = line.partition(":")
            params[name.strip().split(" ")[0]] = text.strip()
        elif not in_args and line:
            summary.append(line)
    return " ".join(summary), params


def _json_type(hint: Any) -> dict[str, Any]:
    origin = get_origin(hint)
    if origin is Literal:
        values = list(get_args(hint))
        return {"type": _JSON_TYPES[type(values[0])], "enum": values}
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        return _json_type(inner[0])
    if origin is list:
        (item,) = get_args(hint) or (str,)
        return {"type": "array", "items": _json_type(item)}
    if hint in _JSON_TYPES:
        return {"type": _JSON_TYPES[hint]}
    raise TypeError(f"unsupported tool parameter type: {hint!r}")


def spec_of(fn: Callable[..., Any]) -> ToolSpec:
    """Build the tool spec of a (bound or unbound) function."""
    sig = inspect.signature(fn)
    hints = typing.get_type_hints(fn)
    summary, docs = _param_docs(fn.__doc__ or "")
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, param in sig.parameters.items():
        if name == "self":
            continue
        entry = _json_type(hints[name])
        if name in docs:
            entry["description"] = docs[name]
        props[name] = entry
        if param.default is inspect.Parameter.empty:
            required.append(name)
    parameters = {"type": "object", "properties": props, "required": required}
    arg_hints = {k: v for k, v in hints.items() if k in props}
    return ToolSpec(fn.__name__, summary, parameters, arg_hints, tuple(required))


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in get_args(hint):
            return None
        inner = [a for a in get_args(hint) if a is not type(None)]
        return _coerce(name, value, inner[0])
    if origin is Literal:
        if value not in get_args(hint):
            raise ToolArgumentError(f"{name} must be one of {list(get_args(hint))}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ToolArgumentError(f"{name} must be a list, got {type(value).__name__}")
        (item,) = get_args(hint) or (str,)
        return [_coerce(name, v, item) for v in value]
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if hint in _JSON_TYPES and (not isinstance(value, hint) or (hint is not bool and isinstance(value, bool))):
        raise ToolArgumentError(f"{name} must be {_JSON_TYPES[hint]}, got {type(value).__name__}")
    return value


def parse_arguments(spec: ToolSpec, raw: str | None) -> dict[str, Any]:
    """Parse and check a model's JSON argument string against the spec."""
    raw = raw or "{}"
    if len(raw) > MAX_ARGUMENT_CHARS:
        raise ToolArgumentError(f"arguments too large ({len(raw)} characters; limit {MAX_ARGUMENT_CHARS})",
                                "oversized_arguments")
    try:
        args = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ToolArgumentError(f"arguments are not valid JSON ({exc.msg})") from None
    if not isinstance(args, dict):
        raise ToolArgumentError("arguments must be a JSON object")
    unknown = sorted(set(args) - set(spec.hints))
    if unknown:
        raise ToolArgumentError(f"unknown argument(s) {unknown}; expected {sorted(spec.hints)}")
    missing = [r for r in spec.required if r not in args]
    if missing:
        raise ToolArgumentError(f"missing required argument(s) {missing}")
    return {k: _coerce(k, v, spec.hints[k]) for k, v in args.items()}


def canonical_args(args: dict[str, Any]) -> str:
    """A stable text form of arguments, for loop detection and traces."""
    return json.dumps(args, sort_keys=True, separators=(",", ":"), default=str)
