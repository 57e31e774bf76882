"""`show`: one episode's transcript, or its checkpoint at a step replayed from its cassette."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

def _find(lines: dict[str, str], wanted: str) -> tuple[str | None, list[str]]:
    """An episode id given in full, or any part of one that names a single episode."""
    if wanted in lines:
        return wanted, []
    matches = sorted(k for k in lines if wanted in k)
    return (matches[0], []) if len(matches) == 1 else (None, matches)


def _show(args: argparse.Namespace) -> int:
    if args.step is not None:
        return _show_step(args)
    from ..records import Transcript, read_jsonl, read_transcript_lines
    from ..report.transcripts import to_text

    folder = Path(args.report_dir)
    lines = read_transcript_lines(folder)
    if not lines and (folder / "outcomes.jsonl").is_file():  # a report without transcripts: rebuild them
        from ..engine.transcript import collect_transcripts

        lines = collect_transcripts(read_jsonl(folder / "outcomes.jsonl"), [], Path(args.root))[0]
    if not lines:
        print(f"pytest-drift show: no transcripts in {folder} (run with --drift-report {folder}, or "
              f"`pytest-drift report junit.xml -o {folder}`)", file=sys.stderr)
        return 2
    found, matches = _find(lines, args.episode)
    if found is None:
        shown = "\n  ".join(matches[:20]) + ("\n  ..." if len(matches) > 20 else "")
        print(f"pytest-drift show: {len(matches)} episodes in {folder} match {args.episode!r}"
              + (f":\n  {shown}" if matches else f"; e.g. {sorted(lines)[0]}"), file=sys.stderr)
        return 1
    print(to_text(Transcript.from_json(lines[found]), full=args.full))
    return 0


def _show_step(args: argparse.Namespace) -> int:
    """The conversation up to step K and the world's snapshot at K, rebuilt by replaying the
    episode's first K steps from its cassette (engine.fork: no network, as a fork's prefix)."""
    import json

    from ..engine import Settings
    from ..engine.fork import ForkError, checkpoint, nearest_ids, recorded_ids
    from ..registry import load_scenarios

    root = Path(args.cassettes) if args.cassettes else Path(args.root) / "cassettes"
    known = recorded_ids(root, load_scenarios())
    found, matches = _find({k: k for k in known}, args.episode)
    if found is None:
        hint = (f"; it matches {len(matches)}: {', '.join(matches[:10])}" if matches
                else nearest_ids(args.episode, list(known), root))
        print(f"pytest-drift show: no recorded episode {args.episode!r}{hint}", file=sys.stderr)
        return 1
    try:
        settings = Settings(root, drift_seed=args.seed, prefix_model=args.prefix_model)
        point = checkpoint(known[found], args.step, settings)
    except ForkError as exc:
        print(f"pytest-drift show: {exc}", file=sys.stderr)
        return 2
    messages = point.messages  # what the model is asked at step K
    snapshot = point.env.snapshot()
    cassettes = [str(c) for c in point.cassettes]  # a branch's: its prefix's, then its own
    if args.json:
        print(json.dumps({"episode_id": found, "step": args.step, "snapshot": snapshot, "messages": messages,
                          "cassettes": cassettes}, indent=1, sort_keys=True, ensure_ascii=False, default=str))
        return 0
    from ..engine.transcript import conversation
    from ..report.transcripts import messages_text

    print(f"episode {found} at step {args.step} (replayed from {' and '.join(cassettes)}, no network)\n")
    print(messages_text(conversation(messages, point.prefix.trace), full=args.full))
    print(f"\nworld state at step {args.step} (snapshot):")
    print(json.dumps(snapshot, indent=1, sort_keys=True, ensure_ascii=False, default=str))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    show = sub.add_parser("show", help="print one episode's transcript (conversation, tool calls, evidence)")
    show.add_argument("episode", help="an episode id, or any part of one that names a single episode")
    show.add_argument("report_dir", nargs="?", default=".", help="a --drift-report directory (default: here)")
    show.add_argument("--full", action="store_true", help="do not shorten long texts")
    show.add_argument("--root", default=".", metavar="DIR", help="where cassette paths start, when rebuilding")
    show.add_argument("--step", type=int, metavar="K",
                      help="a checkpoint: the conversation up to step K and the world's state at K, replayed from "
                           "the episode's cassette with no network (EPISODE: a recorded episode's id)")
    show.add_argument("--json", action="store_true", help="with --step: the snapshot and messages as JSON")
    show.add_argument("--cassettes", metavar="DIR", help="with --step: the cassette directory (default: ROOT/cassettes)")
    show.add_argument("--seed", type=int, default=0, metavar="S",
                      help="with --step: the --drift-seed the episode was recorded with (0)")
    show.add_argument("--prefix-model", metavar="MODEL",
                      help="with --step: the model that played a branch's shared prefix (--drift-prefix-model; default: "
                           "the one whose prefix cassette is recorded)")
    show.set_defaults(func=_show)
