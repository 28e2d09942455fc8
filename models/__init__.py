"""The domain and its storage: typed tables and the rules that act on them (no SDK here)."""

from models.base import Base
from models.catalog import Product, StockSubscription
from models.chat_orders import CodeCounter, OrderDraft
from models.messages import ChatMessage
from models.orders import Order, OrderLine, PhaseEvent
from models.outbox import Notification
from models.payments import PaymentEvent
from models.people import (
    Chat,
    ChatLink,
    Customer,
    InboundMessage,
    OrderLink,
    Reseller,
    Staff,
)
from models.support import SupportThread
from models.tracking import ShipmentTrack, TrackerUsage

__all__ = [
    "Base",
    "Chat",
    "ChatLink",
    "ChatMessage",
    "CodeCounter",
    "Customer",
    "InboundMessage",
    "Notification",
    "Order",
    "OrderDraft",
    "OrderLine",
    "OrderLink",
    "PaymentEvent",
    "PhaseEvent",
    "Product",
    "Reseller",
    "ShipmentTrack",
    "Staff",
    "StockSubscription",
    "SupportThread",
    "TrackerUsage",
]
