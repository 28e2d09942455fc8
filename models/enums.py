"""The closed vocabularies of the domain."""

from __future__ import annotations

from enum import StrEnum


class Fulfillment(StrEnum):
    """How a product (and so an order) is fulfilled."""

    READY_STOCK = "ready_stock"
    MADE_TO_ORDER = "made_to_order"


class Phase(StrEnum):
    """Where an order stands."""

    AWAITING_STOCK = "awaiting_stock"
    PLACED = "placed"
    PAID = "paid"
    PACKED = "packed"
    IN_PRODUCTION = "in_production"
    READY = "ready"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class PaymentState(StrEnum):
    """Where an order's payment stands, apart from its fulfilment phase."""

    UNPAID = "unpaid"
    PROOF_SENT = "proof_sent"  # the customer sent a transfer proof; staff have not checked it
    PARTLY_PAID = "partly_paid"  # a down payment (DP) came in
    PAID = "paid"
    REFUNDED = "refunded"


OPEN_BILLS = frozenset({PaymentState.UNPAID, PaymentState.PROOF_SENT, PaymentState.PARTLY_PAID})


class Channel(StrEnum):
    """A chat platform kabar speaks on."""

    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"


class Language(StrEnum):
    """A language kabar answers in."""

    ID = "id"
    EN = "en"


class NotificationStatus(StrEnum):
    """The life of one outbox row."""

    PENDING = "pending"  # waiting until due_at, then claimable
    SENDING = "sending"  # claimed by a dispatcher until lease_until
    SENT = "sent"
    HELD = "held"  # cannot go out yet (e.g. needs a WhatsApp template); a person is told
    SKIPPED = "skipped"  # chat inactive or opted out; the reason is in last_error
    WITHDRAWN = "withdrawn"  # the change behind it was undone before it was sent
    DEAD = "dead"  # gave up after the last attempt


class NotificationKind(StrEnum):
    """What a notification is about; decides template and urgency."""

    ORDER_UPDATE = "order_update"
    BACK_IN_STOCK = "back_in_stock"
    STAFF_ALERT = "staff_alert"
    HANDOVER = "handover"  # a customer's messages forwarded to a staff chat
    STAFF_REPLY = "staff_reply"  # a staff member's answer to a customer
    SUPPORT_NOTICE = "support_notice"  # the customer is told a handover closed
    LINK_NOTICE = "link_notice"  # the customer is told another chat now sees their orders
