"""The domain and its storage: typed tables and the rules that act on them (no SDK here)."""

from models.base import Base
from models.catalog import Product, StockSubscription
from models.messages import ChatMessage
from models.orders import Order, OrderLine, PhaseEvent
from models.outbox import Notification
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

__all__ = [
    "Base",
    "Chat",
    "ChatLink",
    "ChatMessage",
    "Customer",
    "InboundMessage",
    "Notification",
    "Order",
    "OrderLine",
    "OrderLink",
    "PhaseEvent",
    "Product",
    "Reseller",
    "Staff",
    "StockSubscription",
    "SupportThread",
]
