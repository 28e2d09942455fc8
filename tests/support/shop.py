"""A demo shop to talk to: the real conversation and dispatcher, a console channel, a clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.channels import ConsoleChannel
from bot.config import FLOWS
from bot.demo import PERSONAS, seed
from bot.dispatcher import Dispatcher
from handlers.context import PaymentSettings, Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages
from handlers.types import Incoming, Reply
from models import Notification, Order, PhaseEvent, Product, StockSubscription
from models.change import Policy
from models.enums import Channel, Language, NotificationKind
from models.storage import Database

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 09:00 in Jakarta
UNDO = 30


@dataclass
class Clock:
    """Time that moves only when a test says so."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Shop:
    """The demo shop (sari, rina: customers; dewi: staff; mawar: reseller; tamu: a stranger)."""

    db: Database
    messages: Messages
    settings: Settings
    clock: Clock
    links: dict[str, str]
    pushed: list[tuple[str, Reply]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channel = ConsoleChannel(lambda who, reply: self.pushed.append((who, reply)))
        self.conversation = Conversation(self.db, self.settings, self.messages, clock=self.clock)
        self.dispatcher = Dispatcher(
            self.db, {Channel.CONSOLE: self.channel}, self.messages, self.settings, clock=self.clock
        )

    async def say(self, persona: str, text: str = "", **extra: Any) -> list[Reply]:
        """Send a message as a persona (`extra`: more Incoming fields); return the replies."""
        name = PERSONAS[persona].name if persona in PERSONAS else "Tamu"
        incoming = Incoming(
            channel=Channel.CONSOLE, chat=persona, sender=persona, name=name, text=text, **extra
        )
        return await self.conversation.handle(incoming)

    async def text(self, persona: str, text: str, **extra: Any) -> str:
        """Send a message; return all reply texts joined."""
        return "\n".join(r.text for r in await self.say(persona, text, **extra))

    async def deliver(self, after: float = UNDO + 1) -> list[tuple[str, Reply]]:
        """Let time pass, run the dispatcher, and return what it pushed."""
        self.pushed.clear()
        self.clock.advance(after)
        await self.dispatcher.tick()
        return list(self.pushed)

    def t(self, lang: str, key: str, **values: object) -> str:
        return self.messages.text(Language(lang), key, **values)

    async def snapshot(self, *, but_handovers: bool = False) -> tuple[object, ...]:
        """The domain's state: orders, events, outbox, stock, subscriptions; `but_handovers`
        leaves out messages handed to staff (a person asked to look is not a change)."""
        told = select(func.count()).select_from(Notification)
        if but_handovers:
            told = told.where(Notification.kind != NotificationKind.HANDOVER)
        async with self.db.sessions() as s:
            orders = (await s.execute(select(Order.code, Order.phase, Order.stage_index))).all()
            counts = [
                await s.scalar(select(func.count()).select_from(PhaseEvent)),
                await s.scalar(told),
                await s.scalar(select(func.count()).select_from(StockSubscription)),
            ]
            stock = (await s.execute(select(Product.sku, Product.on_hand, Product.reserved))).all()
        return tuple(sorted(orders)), tuple(counts), tuple(sorted(stock))


def attach(
    db: Database,
    links: dict[str, str] | None = None,
    *,
    undo_seconds: int = UNDO,
    bot_username: str = "",
) -> Shop:
    """Talk to a shop already in `db`."""
    settings = Settings(
        shop_name="Toko Batik Kabar",
        undo_seconds=undo_seconds,
        bot_username=bot_username,
        # Orders may ship before they are paid here, so tests of shipping need not pay first;
        # tests of the payment rules set the shop's default (nothing ships unpaid) themselves.
        payment=PaymentSettings(policy=Policy(frozenset(FLOWS))),
    )
    return Shop(db, Messages.load(), settings, Clock(), links or {})


async def open_shop(db: Database, *, undo_seconds: int = UNDO) -> Shop:
    """Seed the demo shop into `db` and deliver the 'order placed' messages."""
    shop = attach(db, await seed(db, START), undo_seconds=undo_seconds)
    await shop.deliver(after=0)
    return shop
