"""The channel interface the dispatcher sends through, and the console channel."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from datetime import timedelta
from typing import Protocol, runtime_checkable

from bot.pacing import Pacer
from handlers.types import Reply
from models.enums import Channel
from models.phones import mask_phone

log = logging.getLogger(__name__)
_NUMBER = re.compile(r"\+?\d[\d ]{6,}\d")


def masked(text: str) -> str:
    """Text with every phone-number-like run masked (platform errors may quote the number)."""
    return _NUMBER.sub(lambda found: mask_phone(found[0].replace(" ", "")), text)


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


REPLY_ATTEMPTS = 6  # a reply is tried this often before it is given up (and logged)


async def send_reply(
    channel: ChatChannel, pacer: Pacer | None, address: str, reply: Reply
) -> str | None:
    """Send a reply within the platform's limits, as pushes are: never dropped on a 429.

    Replies share the bot's budget with pushes (overall and per chat), go before pushes
    waiting for their slot, and wait out a platform's retry_after instead of failing.
    Returns the message id, or None if the reply could not be sent at all.
    """
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            async with pacer.turn(address, first=True) if pacer is not None else nullcontext():
                return await channel.send(address, reply)
        except SendError as exc:
            if exc.permanent or attempt == REPLY_ATTEMPTS:
                log.warning("a %s reply was not sent: %s", channel.kind.value, masked(str(exc)))
                return None
            wait = exc.retry_after if exc.retry_after is not None else 0.5 * 2**attempt
            if pacer is not None:
                pacer.hold_chat(address, wait)  # pushes to this chat wait too
            else:
                await asyncio.sleep(wait)
    return None


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
