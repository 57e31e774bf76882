"""Reading a recorded episode back: the last model exchange of a cassette, as plain JSON.

No vcrpy needed: a cassette is YAML whose requests and responses carry JSON bodies
(strings, or bytes when vcrpy stored them as binary)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .providers import SETTING_FIELDS as PROVIDER_SETTING_FIELDS


def _json(body: Any) -> dict[str, Any] | None:
    if isinstance(body, dict):  # a response body: {"string": ...}
        body = body.get("string")
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str) or not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def last_exchange(path: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(request body, response body) of the last interaction whose request offered tools:
    an episode's conversation so far and the model's last reply. A world's own plain-text
    calls (an adversary, a judge) offer no tools and are passed over."""
    import yaml  # only here: importing the plugin needs no YAML

    data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    for interaction in reversed(data.get("interactions") or []):
        request = _json((interaction.get("request") or {}).get("body"))
        if request is None or not request.get("tools"):
            continue
        response = _json((interaction.get("response") or {}).get("body")) or {}
        return request, response
    return None


# Request fields that set how a model samples, caps and reasons, in every wire format: the
# provider records' own (providers.py).
SETTING_FIELDS = PROVIDER_SETTING_FIELDS


def request_settings(body: Any) -> dict[str, Any]:
    """The sampling, cap and reasoning fields of a recorded or failed request body."""
    data = _json(body) if not isinstance(body, dict) else body
    return {k: data[k] for k in SETTING_FIELDS if data and k in data}


def settings_change(recorded: Any, sent: Any) -> str:
    """'' when a request's settings equal the recording's, else what differs, e.g.
    "recorded with reasoning_effort='high'; this run sends reasoning_effort='medium'"."""
    before, now = request_settings(recorded), request_settings(sent)
    if before == now:
        return ""
    keys = sorted(k for k in {*before, *now} if before.get(k) != now.get(k))

    def show(d: dict[str, Any]) -> str:
        return ", ".join(f"{k}={d[k]!r}" if k in d else f"no {k}" for k in keys)

    return f"recorded with {show(before)}; this run sends {show(now)}"
