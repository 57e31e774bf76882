"""A loopback OpenAI-compatible server that answers after a fixed latency, for live-run
tests and `bench/live.py`. It can also answer a share of requests with 429 (and a
Retry-After header) or 500, and it reports token usage the way a provider does.

Built on asyncio streams (HTTP/1.1 keep-alive, one coroutine per connection), so hundreds
of requests wait at once at almost no CPU. Replies follow the release script of
`openai_stub_server.scripted_message`: a function of the request alone, so recordings are
stable. Usage is a function of the request and reply too: prompt_tokens = request bytes
// 4, completion_tokens = reply bytes // 4.

In a test: `with LatencyServer(latency=0.05, p429=0.3) as s: ... s.url ... s.usage_by_seed()`.
Alone (what bench/live.py starts, so the client's CPU is measured without the server's):
    python tests/latency_server.py --latency 1.0 [--p429 0.3 --p500 0.1 --retry-after 1]
prints its URL on the first line, then serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from openai_stub_server import scripted_message


@dataclass
class Served:
    """One answered request: its status, the request body and the usage reported (200 only)."""

    status: int
    body: dict[str, Any]
    usage: dict[str, int] = field(default_factory=dict)


def usage_for(request: bytes, reply: dict[str, Any], scale: int = 1) -> dict[str, int]:
    prompt = scale * (len(request) // 4)
    completion = scale * max(1, len(json.dumps(reply)) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class LatencyServer:
    def __init__(self, latency: float = 1.0, p429: float = 0.0, p500: float = 0.0, retry_after: float = 1.0,
                 seed: int = 0, mode: str = "script", keep_log: bool = True, token_scale: int = 1) -> None:
        self.token_scale = token_scale  # reported tokens x this: a provider far costlier than any estimate
        self.latency, self.p429, self.p500, self.retry_after = latency, p429, p500, retry_after
        self.mode, self.keep_log = mode, keep_log
        self.rng = random.Random(seed)
        self.log: list[Served] = []
        self.counts = {200: 0, 429: 0, 500: 0}
        self.in_flight = self.peak_in_flight = 0
        self.connections = 0  # connections accepted (a client that keeps them alive opens few)
        self.first_at: float | None = None  # the traffic's window: first request in, last answer out
        self.last_at: float | None = None
        self.slow_by_seed: dict[int, int] = {}  # answers that took the latency (200 and 500), per seed
        self.times_by_seed: dict[int, list[tuple[float, float]]] = {}  # (arrived, answered) of each request
        self._usage: dict[int, dict[str, int]] = {}  # usage reported on 200 answers, summed per seed
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- HTTP ------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                status, payload, extra = await self._answer(method, path, body)
                data = json.dumps(payload).encode()
                hdrs = [f"HTTP/1.1 {status} {_REASONS[status]}", "content-type: application/json",
                        f"content-length: {len(data)}", *extra]
                writer.write(("\r\n".join(hdrs) + "\r\n\r\n").encode() + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass  # the client went away, or the server is stopping
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any], list[str]]:
        if method == "GET":
            return 200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]}, []
        body = json.loads(raw or b"{}")
        arrived = time.monotonic()
        self.first_at = self.first_at or arrived
        try:
            return await self._reply(body, raw)
        finally:
            self.times_by_seed.setdefault(body.get("seed", -1), []).append((arrived, time.monotonic()))

    async def _reply(self, body: dict[str, Any], raw: bytes) -> tuple[int, dict[str, Any], list[str]]:
        draw = self.rng.random()
        if draw < self.p429:  # a rate limiter answers at once
            return self._served(429, body, {}), {"error": {"message": "rate limited", "type": "rate_limit"}}, \
                [f"retry-after: {self.retry_after:g}"]
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        if draw < self.p429 + self.p500:
            return self._served(500, body, {}), {"error": {"message": "upstream failed", "type": "server_error"}}, []
        message = scripted_message(body, self.mode) if body.get("tools") else {"role": "assistant", "content": "Noted."}
        choices = [] if message is None else [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}]
        usage = usage_for(raw, message or {}, self.token_scale)
        self._served(200, body, usage)
        return 200, {"id": "chatcmpl-latency", "object": "chat.completion", "created": 0,
                     "model": body.get("model", "stub"), "choices": choices, "usage": usage}, []

    def _served(self, status: int, body: dict[str, Any], usage: dict[str, int]) -> int:
        self.counts[status] += 1
        if usage:
            total = self._usage.setdefault(body.get("seed", -1), dict.fromkeys(usage, 0))
            for k, v in usage.items():
                total[k] += v
        self.last_at = time.monotonic()
        if status != 429:
            seed = body.get("seed", -1)
            self.slow_by_seed[seed] = self.slow_by_seed.get(seed, 0) + 1
        if self.keep_log:
            self.log.append(Served(status, body, usage))
        return status

    # -- what tests read ----------------------------------------------------------------------
    def usage_by_seed(self) -> dict[int, dict[str, int]]:
        """Usage reported on 200 answers, summed per request seed (one seed per episode)."""
        return {seed: dict(usage) for seed, usage in self._usage.items()}

    def traffic(self) -> dict[str, Any]:
        """The traffic's figures: answers by status, peak in flight, its wall time and its
        physical limit (the slowest episode's latency-bound answers x latency, all in flight)."""
        window = (self.last_at - self.first_at) if self.first_at and self.last_at else 0.0
        limit = max(self.slow_by_seed.values(), default=0) * self.latency
        return {"counts": self.counts, "peak_in_flight": self.peak_in_flight, "connections": self.connections,
                "window_s": round(window, 3),
                "limit_s": round(limit, 3), "episodes": len(self.slow_by_seed), **self._client_times(),
                "usage_by_seed": {str(k): v for k, v in self._usage.items()}}

    def _client_times(self) -> dict[str, Any]:
        """How long the client took between an answer and its episode's next request
        (turnaround: its CPU and its waits), and how late the last episode started."""
        gaps, firsts = [], []
        for times in self.times_by_seed.values():
            times = sorted(times)
            firsts.append(times[0][0])
            gaps += [b[0] - a[1] for a, b in zip(times, times[1:])]
        if not gaps:
            return {}
        gaps.sort()
        pick = lambda q: round(1000 * gaps[min(len(gaps) - 1, int(q * len(gaps)))], 1)  # noqa: E731
        return {"turnaround_ms": {"median": pick(0.5), "p90": pick(0.9), "max": pick(1.0)},
                "start_spread_s": round(max(firsts) - self.first_at, 3) if self.first_at else 0.0}

    # -- running ------------------------------------------------------------------------------
    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            await self._server.serve_forever()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    def __enter__(self) -> LatencyServer:
        self._thread = threading.Thread(target=self._run, name="latency-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None:
            def stop() -> None:
                server.close()
                for task in asyncio.all_tasks(loop):
                    task.cancel()
            loop.call_soon_threadsafe(stop)
        if self._thread is not None:
            self._thread.join(10)


_REASONS = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--p429", type=float, default=0.0)
    ap.add_argument("--p500", type=float, default=0.0)
    ap.add_argument("--retry-after", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    server = LatencyServer(a.latency, a.p429, a.p500, a.retry_after, a.seed, keep_log=False)
    with server:
        print(server.url, flush=True)
        try:
            sys.stdin.read()  # serve until stdin closes (the parent exits) or we are killed
        except KeyboardInterrupt:
            pass
        print(json.dumps(server.traffic()), flush=True)


if __name__ == "__main__":
    main()
