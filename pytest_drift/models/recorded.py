"""Reading a recorded episode back: the last model exchange of a cassette, as plain JSON.

No vcrpy needed: a cassette is YAML whose requests and responses carry JSON bodies
(strings, or bytes when vcrpy stored them as binary)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


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
