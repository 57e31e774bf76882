"""One small vcrpy cassette per episode, matched on method, path and body.

Requests keep only their content type (no auth, no SDK fingerprint headers), the URI
loses its port (a local server's ephemeral port must not break replay) and key query
parameters; responses keep only their content type. Writes are atomic. While an episode
records, every answered call is also in its journal (`journal`), so a run killed
mid-episode resumes it instead of paying for its calls again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vcr.persisters.filesystem import FilesystemPersister
from vcr.serialize import serialize

from ..errors import DiscardCassette
from .journal import Journal, JournaledCassette, journal_path, read
from .paths import RECORD_MODES, cassette_path, model_from_slug, model_slug, shipped_models  # noqa: F401 - re-exported
from .ratelimit import Stopped
from .router import routed

SECRET_QUERY_KEYS = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token"})
KEPT_HEADERS = frozenset({"content-type"})
def _strip_uri(uri: str) -> str:
    parts = urlsplit(uri)
    host = parts.hostname or ""
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in SECRET_QUERY_KEYS])
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def scrub_request(request: Any) -> Any:
    request = copy.copy(request)
    request.uri = _strip_uri(request.uri)
    request.headers = {k: v for k, v in dict(request.headers).items() if k.lower() in KEPT_HEADERS}
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response = dict(response)
    response["headers"] = {k: v for k, v in response.get("headers", {}).items() if k.lower() in KEPT_HEADERS}
    return response


class AtomicPersister(FilesystemPersister):
    """Write to a temporary file in the same folder, then rename: a crash leaves no half file."""

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:  # noqa: F811 - vcrpy's name
        data = serialize(cassette_dict, serializer)
        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@lru_cache(maxsize=4096)
def _body_key(body: bytes | str | None) -> str:
    """Canonical JSON of a body (key order ignored), hashed; cached because vcrpy compares
    every recorded request at each lookup and re-parsing large prompts dominated replay."""
    if body is None:
        return ""
    raw = body.encode() if isinstance(body, str) else body
    try:
        text = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        text = raw.decode(errors="replace")
    return hashlib.sha256(text.encode()).hexdigest()


def body_matcher(r1: Any, r2: Any) -> None:
    if _body_key(r1.body) != _body_key(r2.body):
        raise AssertionError("request bodies differ")


def _vcr(record_mode: str) -> Any:
    import vcr

    my_vcr = vcr.VCR(
        record_mode="all" if record_mode == "rewrite" else record_mode,
        match_on=("method", "path", "drift_body"),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    my_vcr.register_persister(AtomicPersister)
    my_vcr.register_matcher("drift_body", body_matcher)
    return my_vcr


_NOT_CASSETTE_ARGS = ("path_transformer", "func_path_generator", "record_on_exception")


def resumes_journal(path: Path, record_mode: str) -> bool:
    """Whether recording into `path` takes up its journal. With its file there, `once` plays
    the finished episode: a journal left beside it (killed between the two writes, or an
    `all` run's discarded episode) is stale; `all` and `rewrite` start anew."""
    return record_mode == "new_episodes" or (record_mode == "once" and not path.exists())


def journaled_calls(path: Path, record_mode: str) -> int:
    """The answered calls a recording into `path` replays from its journal: paid already."""
    return len(read(journal_path(path))[0]) if resumes_journal(path, record_mode) else 0


@contextmanager
def use_cassette(path: Path, record_mode: str) -> Iterator[Any]:
    """Open the episode's cassette; `rewrite` starts from an empty one.

    vcrpy's own Cassette, loaded and saved as `VCR.use_cassette` does (saved on the way
    out, exception or not, except an interrupted episode's - Stopped or Ctrl-C - and a
    discarded one's), but routed (`router.routed`): the requests of this thread or
    task reach this cassette even while other episodes' cassettes are open.

    While it records, each answered call goes to the cassette's journal too, durable at
    once. An episode cut short or discarded keeps its journal; `once` and `new_episodes`
    open a cassette that has no file from its journal: the answered calls replay and the
    episode goes on live from the first call the journal lacks. The cassette written at
    the end replaces the journal. `all` and `rewrite` re-record, so they start a new one."""
    if record_mode not in RECORD_MODES:
        raise ValueError(f"record mode must be one of {RECORD_MODES}, got {record_mode!r}")
    if record_mode == "rewrite":
        path.unlink(missing_ok=True)
    config = _vcr(record_mode).get_merged_config(path=str(path))
    cassette = JournaledCassette.load(**{k: v for k, v in config.items() if k not in _NOT_CASSETTE_ARGS})
    journal = None
    if record_mode != "none":  # a replay writes nothing, not even a journal
        keep = 0
        if resumes_journal(path, record_mode):
            entries, keep = read(journal_path(path))
            cassette.resume(entries)
        journal = cassette.journal = Journal(journal_path(path), keep)
    try:
        with routed(cassette):
            yield cassette
    except (Stopped, KeyboardInterrupt, DiscardCassette):
        # an episode cut short writes no cassette, as if killed; its journal keeps what was
        # answered, so `once` replays that and plays the rest live
        if journal is not None:
            journal.close()
        raise
    except BaseException:
        _save(cassette, journal)
        raise
    _save(cassette, journal)


def _save(cassette: Any, journal: Any) -> None:
    cassette._save()
    if journal is not None:
        journal.discard()  # only once the cassette holds everything it had
