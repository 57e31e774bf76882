"""Tiny worlds and policies for engine tests."""

from __future__ import annotations

from typing import Any, Literal

from pytest_drift import Environment, Message, PolicyCall, PolicyReply, Scenario, Score, Variant, call, tool


class EchoWorld(Environment):
    max_steps = 10

    def __init__(self, variant: Variant, seed: int) -> None:
        super().__init__(variant, seed)
        self.total = 0

    @tool
    def add(self, amount: int, note: str = "") -> str:
        """Add an amount to the total.

        Args:
            amount: how much to add
            note: free text
        """
        self.total += amount
        self.ledger.append(self.step, "added", amount=amount)
        self.end_step()
        return f"total is {self.total}"

    @tool
    def wait(self, mode: Literal["short", "long"] = "short") -> str:
        """Wait one step."""
        self.end_step()
        return "Nothing happens."

    def initial_messages(self) -> list[Message]:
        return [{"role": "system", "content": "Add numbers."}, {"role": "user", "content": "Go."}]

    def snapshot(self) -> dict[str, Any]:
        return {"step": self.step, "total": self.total}

    def score(self) -> Score:
        return Score(metrics={"total": self.total})


class Scripted:
    """Replays a fixed list of replies, then waits."""

    def __init__(self, replies: list[PolicyReply]) -> None:
        self.replies = list(replies)

    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply:
        return self.replies.pop(0) if self.replies else call("wait")


GARBAGE = [
    PolicyReply(calls=(PolicyCall("no_such_tool", {}),)),
    PolicyReply(calls=(PolicyCall("add", "{not json"),)),
    PolicyReply(calls=(PolicyCall("add", {"amount": "three"}),)),
    PolicyReply(calls=(PolicyCall("add", {"amount": 1, "extra": True}),)),
    PolicyReply(calls=(PolicyCall("add", "x" * 30_000),)),
    PolicyReply(text="just text"),
    PolicyReply(calls=(PolicyCall("add", {"amount": 2}), PolicyCall("add", {"amount": 3}))),
]

ECHO = Scenario(
    name="echo_world", family="testing", environment=EchoWorld,
    variants=(Variant("plain"),),
    policies={"garbage": lambda: Scripted(GARBAGE), "waiter": lambda: Scripted([])},
    headline="total", better="higher",
)
