"""litellm, imported once and lazily with its network switches off (~3 s of CPU), and the
HTTP client its OpenAI-compatible calls share."""

from __future__ import annotations

import gc
import os
from functools import lru_cache
from typing import Any

_OFFLINE_SWITCHES = {
    "LITELLM_OFFLINE_MODE": "true",  # no model-price map fetched over the network at import
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_RUST": "false",  # a Rust HTTP path would bypass vcrpy
}


@lru_cache(maxsize=1)
def litellm_module() -> Any:
    """Import litellm once, lazily, with its network switches off (~3 s of CPU)."""
    for key, value in _OFFLINE_SWITCHES.items():
        os.environ.setdefault(key, value)
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    if litellm.client_session is None:
        litellm.client_session = _pooled_client()
    # litellm's import leaves ~a million long-lived objects: moved out of the collector's
    # sight, no full collection scans them again (pytest alone runs five at exit, ~0.3 s each)
    gc.freeze()
    return litellm


KEEP_ALIVE = 1024  # idle connections kept per process (the adaptive limit bounds those in flight)


def _pooled_client() -> Any:
    """The HTTP client of OpenAI-compatible calls: litellm's own settings (SSL, redirects) but
    keeping connections alive for as many requests as are in flight. httpx's default keeps 20,
    so episodes played at once would open a new connection for almost every call."""
    import httpx
    from litellm.llms.custom_httpx.http_handler import get_ssl_configuration

    return httpx.Client(verify=get_ssl_configuration(), follow_redirects=True,
                        limits=httpx.Limits(max_connections=None, max_keepalive_connections=KEEP_ALIVE))


def completion(litellm: Any, kwargs: dict[str, Any]) -> Any:
    """`litellm.completion(**kwargs)` without litellm's success logging. Each call otherwise
    queues a background job (standard logging payload, its own cost calculation, callbacks)
    that costs more CPU than the call; we register no callback and read usage and cost from
    the response itself. litellm marks its own nested calls the same way."""
    from litellm._internal_context import is_internal_call

    token = is_internal_call.set(True)
    try:
        return litellm.completion(**kwargs)
    finally:
        is_internal_call.reset(token)
