"""The people kabar talks to, and the chats it talks to them in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.enums import Channel, Language

NAME_LENGTH = 200  # characters of a person's or brand's name


class Customer(Base):
    """Someone who orders; known by their phone number in E.164 form."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    language: Mapped[Language | None] = mapped_column(str_enum(Language))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Staff(Base):
    """A seller or staff member who moves orders."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reseller(Base):
    """A reseller who sells under their own brand; the shop dropships for them."""

    __tablename__ = "resellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # The brand the reseller's customers know; their messages carry it, never the shop's.
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Chat(Base):
    """One conversation on one channel: a Telegram chat id or a WhatsApp number."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    address: Mapped[str] = mapped_column(String(64))
    language: Mapped[Language | None] = mapped_column(str_enum(Language))
    # Inactive: the platform said the person blocked us; opted out: they said STOP.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    inactive_reason: Mapped[str | None] = mapped_column(String(200))
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    reseller_id: Mapped[int | None] = mapped_column(
        ForeignKey("resellers.id", ondelete="SET NULL"), index=True
    )
    # The commands of the last menu sent here: on WhatsApp a reply "2" picks the second.
    last_choices: Mapped[list[str] | None] = mapped_column(JSON)
    # Messages in a row the bot could not understand: at two, a person takes over.
    misses: Mapped[int] = mapped_column(Integer, default=0)
    # The order whose payment instructions this chat was shown last: a photo that follows is
    # its transfer proof. No foreign key: orders live in models/orders.py, which imports this.
    proof_for_order_id: Mapped[int | None] = mapped_column(Integer)
    # Link codes tried here that opened nothing, since `link_failures_since`: past a limit
    # the chat waits (models/linking.py), so nobody can try codes by the thousand.
    link_failures: Mapped[int] = mapped_column(Integer, default=0)
    link_failures_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def reachable(self) -> bool:
        """Whether pushes may go to this chat now."""
        return self.active and not self.opted_out


class ChatLink(Base):
    """A chat allowed to see every order of a customer: their phone number is verified there.

    A WhatsApp sender's number, or a Telegram contact the sender shared of themselves. A link
    code opens one order only (`OrderLink`).
    """

    __tablename__ = "chat_links"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    via: Mapped[str] = mapped_column(String(16))  # "phone"
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderLink(Base):
    """A chat allowed to see one order: the order's link code (its invoice) was used there."""

    __tablename__ = "chat_order_links"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundMessage(Base):
    """A platform message id already handled: webhooks delivered twice are answered once."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    message_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
