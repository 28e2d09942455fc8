"""The channel interface the dispatcher sends through, and the console channel."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from handlers.types import Reply
from models.enums import Channel


class SendError(Exception):
    """A send that failed: `permanent` ones are not retried, `blocked` ones close the chat."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        blocked: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent or blocked
        self.blocked = blocked
        self.retry_after = retry_after


class ChatChannel(Protocol):
    """A chat platform kabar can push messages to."""

    kind: Channel

    async def send(self, address: str, reply: Reply) -> str:
        """Send one message to a chat; return the platform's message id."""
        ...


class ConsoleChannel:
    """Messages printed to the terminal: the demo's channel, and the simplest one there is."""

    kind = Channel.CONSOLE

    def __init__(self, write: Callable[[str, Reply], None]) -> None:
        self._write = write
        self._ids = itertools.count(1)
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, address: str, reply: Reply) -> str:
        """Show the message as received by `address`."""
        self.sent.append((address, reply))
        self._write(address, reply)
        return f"console-{next(self._ids)}"
