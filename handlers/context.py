"""What a handler gets: the message, who sent it, their chat, language and the shop's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.faq import FaqTopic
from handlers.i18n import Messages, money
from handlers.types import Choice, Incoming, Reply, Role
from models.change import Policy
from models.enums import Language
from models.people import Chat, Reseller, Staff
from models.search import IndexCache


@dataclass(frozen=True)
class PaymentSettings:
    """How the shop takes money ([payment])."""

    accounts: tuple[tuple[str, str, str], ...] = ()  # (bank, number, holder)
    qris_image: str = ""  # a local file, sent as a photo with the instructions
    note: str = ""
    unique_code: bool = False
    policy: Policy = field(default_factory=Policy)  # what may ship before it is paid


@dataclass(frozen=True)
class OrderSettings:
    """How orders are placed in chat ([shop] order_prefix, [orders])."""

    prefix: str = "INV-"
    customers_can_order: bool = True
    draft_lifetime: timedelta = timedelta(minutes=60)


@dataclass(frozen=True)
class Settings:
    """The shop settings the conversation needs (built by bot/ from the configuration)."""

    shop_name: str = "Toko Kabar"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    currency: str = "IDR"
    default_language: Language = Language.ID
    undo_seconds: int = 30
    bot_username: str = ""
    quiet_hours: tuple[time, time] | None = None  # shop time; None: pushes at any hour
    faq: tuple[FaqTopic, ...] = ()  # the shop's own answers ([shop.faq])
    # When people answer handed-over chats (shop time; None: any time), and the seller's own
    # words that ask for a person (canonical words, space-joined).
    support_hours: tuple[time, time] | None = (time(8, 0), time(21, 0))
    support_words: tuple[str, ...] = ()
    payment: PaymentSettings = field(default_factory=PaymentSettings)
    orders: OrderSettings = field(default_factory=OrderSettings)
    whatsapp_number: str = ""  # the shop's WhatsApp sender, for invoice links
    link_code_days: int = 60  # a finished order's link code works this long (`[privacy]`)

    def quiet_until(self, moment: datetime) -> datetime | None:
        """If `moment` falls in quiet hours, when they end (aware, UTC); else None."""
        if self.quiet_hours is None or not self._within(self.quiet_hours, moment):
            return None
        end = self.quiet_hours[1]
        local = moment.astimezone(self.timezone)
        ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if ends <= local:
            ends += timedelta(days=1)
        return ends.astimezone(UTC)

    def staffed(self, moment: datetime) -> bool:
        """Whether people answer handed-over chats at `moment` (`[support] hours`)."""
        return self.support_hours is None or self._within(self.support_hours, moment)

    def _within(self, hours: tuple[time, time], moment: datetime) -> bool:
        """Whether `moment` falls in a shop-time range that may cross midnight."""
        start, end = hours
        clock = moment.astimezone(self.timezone).time()
        return start <= clock < end if start < end else clock >= start or clock < end

    @property
    def link_code_keep(self) -> timedelta:
        """How long after an order ended its link code still links."""
        return timedelta(days=self.link_code_days)

    @property
    def undo_window(self) -> timedelta:
        """How long a staff change is held before customers are told."""
        return timedelta(seconds=self.undo_seconds)


@dataclass
class Context:
    """One message being handled, inside one database transaction."""

    session: AsyncSession
    incoming: Incoming
    chat: Chat
    role: Role
    staff: Staff | None
    reseller: Reseller | None
    lang: Language
    settings: Settings
    messages: Messages
    now: datetime
    catalog: IndexCache | None = None
    # The chat had said STOP and this message turned pushes back on: the person is told so.
    resumed: bool = False
    thread: int | None = None  # the chat's open handover thread: a person answers it
    drafting: bool = False  # the chat is putting an order together
    brand: str | None = None  # the reseller a dropship customer knows the shop by
    last_menu: tuple[str, ...] = ()  # the commands of the last choices the chat was shown

    @property
    def reseller_brand(self) -> str | None:
        """The reseller whose brand a customer's chat knows the shop by (it bought only
        through them: dropship); None when it knows the shop's own name."""
        return self.brand if self.role is Role.CUSTOMER else None

    @property
    def orders_here(self) -> bool:
        """Whether this chat may order from the shop in chat (`/pesan`'s guided draft): a
        customer or a stranger, where the shop allows it, who did not buy through a reseller."""
        return (
            self.role in (Role.CUSTOMER, Role.UNKNOWN)
            and self.settings.orders.customers_can_order
            and self.reseller_brand is None
        )

    def t(self, key: str, **values: object) -> str:
        """Render a message in this chat's language."""
        return self.messages.text(self.lang, key, **values)

    def reply(self, key: str, *, choices: tuple[Choice, ...] = (), **values: object) -> Reply:
        """A reply made of one catalog message."""
        return Reply(self.t(key, **values), choices=choices)

    def phase(self, phase: str) -> str:
        """A phase's name in this chat's language."""
        return self.t(f"phase.{phase}")

    def money(self, amount: object) -> str:
        """Money in the shop's currency, the local way."""
        return money(Decimal(str(amount)), self.settings.currency, self.lang)

    @property
    def staff_id(self) -> int:
        """The staff member's id (only for staff routes)."""
        assert self.staff is not None
        return self.staff.id
