"""The channel interface the dispatcher sends through, and the console channel."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Protocol, runtime_checkable

from handlers.types import Reply
from models.enums import Channel


def split_text(text: str, limit: int) -> Iterator[str]:
    """Cut a long text into messages a platform accepts, at line breaks where possible."""
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    if text:
        yield text


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

    async def send(self, address: str, reply: Reply, *, track: bool = False) -> str:
        """Send one message to a chat; return the platform's message id.

        `track` asks for delivery reports where the platform sends them (pushes, not replies).
        """
        ...


@runtime_checkable
class TemplateChannel(Protocol):
    """A channel where pushes outside a session window must use approved templates (WhatsApp)."""

    session_window: timedelta
    templates: Mapping[str, str]  # notification kind -> template id

    async def send_template(self, address: str, template: str, variables: dict[str, str]) -> str:
        """Send an approved template with its variables; return the platform's message id."""
        ...


class ConsoleChannel:
    """Messages printed to the terminal: the demo's channel, and the simplest one there is."""

    kind = Channel.CONSOLE

    def __init__(self, write: Callable[[str, Reply], None]) -> None:
        self._write = write
        self._ids = itertools.count(1)
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, address: str, reply: Reply, *, track: bool = False) -> str:
        """Show the message as received by `address`."""
        self.sent.append((address, reply))
        self._write(address, reply)
        return f"console-{next(self._ids)}"
