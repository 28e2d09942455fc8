"""The one routing table: command words → handler → who may use it. Order matters for help."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers import common, customer, staff
from handlers.context import Context
from handlers.intents import IntentKind, classify
from handlers.types import Reply, Role
from handlers.views import menu
from models.linking import is_link_code

Handler = Callable[[Context, str], Awaitable[Reply | list[Reply]]]

ALL = frozenset(Role)
CUSTOMERS = frozenset({Role.CUSTOMER, Role.UNKNOWN})
STAFF = frozenset({Role.STAFF})
RESELLERS = frozenset({Role.RESELLER})


async def help_(ctx: Context, args: str) -> Reply:
    """List the commands this person may use, in their language."""
    lines = [ctx.t("help.title")]
    for route in ROUTES:
        if ctx.role in route.roles and route.help:
            lines.append(f"/{route.words[0]} — {ctx.t(route.help)}")
    return Reply("\n".join(lines), choices=menu(ctx))


@dataclass(frozen=True)
class Route:
    """Command words (Indonesian first, then English aliases), their handler and roles."""

    words: tuple[str, ...]
    handler: Handler
    roles: frozenset[Role]
    help: str = ""  # catalog key of the line in /bantuan; empty keeps it out of help


ROUTES: tuple[Route, ...] = (
    # Everyone. "kabar" is what the WhatsApp invoice link types: `kabar <code>`.
    Route(("start", "start", "mulai", "kabar"), common.start, ALL, "help.start"),
    Route(("bantuan", "help", "menu"), help_, ALL, "help.help"),
    Route(("bahasa", "language"), common.language, ALL, "help.language"),
    # Customers: their own orders; staff see any order with /status.
    Route(("pesanan", "orders"), customer.orders, CUSTOMERS, "help.orders"),
    Route(("status", "status", "cek"), customer.status, ALL, "help.status"),
    Route(("stok", "stock"), customer.stock, ALL, "help.stock"),
    Route(("kabari", "notify"), customer.notify, CUSTOMERS | RESELLERS, "help.notify"),
    Route(("berhenti", "stop"), common.stop, CUSTOMERS | RESELLERS, "help.stop"),
    # Resellers.
    Route(("pesananku", "myorders"), customer.reseller_orders, RESELLERS, "help.myorders"),
    # Staff.
    Route(("tahap", "stage"), staff.stage, STAFF, "help.stage"),
    Route(("bayar", "paid"), staff.paid, STAFF, "help.paid"),
    Route(("kirim", "ship"), staff.ship, STAFF, "help.ship"),
    Route(("terima", "delivered"), staff.delivered, STAFF, "help.delivered"),
    Route(("batal", "cancel"), staff.cancel_orders, STAFF, "help.cancel"),
    Route(("undo", "undo", "batalkan"), staff.undo, STAFF, "help.undo"),
    Route(("stokset", "setstock"), staff.set_stock_cmd, STAFF, "help.setstock"),
    Route(("antrian", "queue"), staff.queue, STAFF, "help.queue"),
)

COMMAND = re.compile(r"^/?(?P<word>[A-Za-z]+)(?:@(?P<bot>\w+))?(?:\s+(?P<args>.*))?$", re.S)


def find_route(word: str, role: Role) -> tuple[Route | None, bool]:
    """The route for a command word as this role may use it; and whether the word exists."""
    known = False
    for route in ROUTES:
        if word in route.words:
            known = True
            if role in route.roles:
                return route, True
    return None, known


async def dispatch(ctx: Context, *, slash_optional: bool) -> list[Reply]:
    """Answer one message: a shared contact, a command, or free text."""
    if ctx.incoming.contact is not None:
        return [await common.contact(ctx)]
    text = ctx.incoming.text.strip()
    if ctx.incoming.group and ctx.role is not Role.STAFF:
        # Groups hear nothing about anyone's orders; plain chatter there is not for us.
        return [Reply(ctx.t("group.private_only"))] if text.startswith("/") else []
    # The conversation already cut the text to what a platform sends; the pattern is linear.
    match = COMMAND.match(text)
    slashed = text.startswith("/")
    if match and (slashed or slash_optional):
        bot = match["bot"]
        if bot and ctx.settings.bot_username and bot.lower() != ctx.settings.bot_username.lower():
            return []  # a command for another bot in the same group
        word, args = match["word"].lower(), (match["args"] or "").strip()
        route, known = find_route(word, ctx.role)
        if slashed or reads_as_command(text, args, route):
            if route is not None:
                return _as_list(await route.handler(ctx, args))
            if known:
                return [Reply(ctx.t("error.not_allowed"))]
    if slashed:
        return [await common.unknown_command(ctx, "")]
    return _as_list(await free_text(ctx, text))


def reads_as_command(text: str, args: str, route: Route | None) -> bool:
    """Whether text without a slash is a command (`status INV-1`) or a sentence.

    `terima kasih` is thanks, not /terima; `pesanan saya sudah sampai mana?` is a question for
    the free-text reader. Staff commands keep their arguments; other commands take at most one
    word without a slash, and longer text is read as a sentence. `kabar <link code>`, what the
    WhatsApp invoice link types, always starts (though "kabar" alone is a greeting).
    """
    if route is not None and route.handler is common.start and is_link_code(args):
        return True
    if classify(text).kind in (IntentKind.THANKS, IntentKind.GREETING):
        return False
    if route is not None and route.roles == STAFF:
        return True
    return len(args.split()) <= 1


async def free_text(ctx: Context, text: str) -> Reply | list[Reply]:
    """Understand a message that is not a command."""
    intent = classify(text)
    kind = intent.kind
    if kind is IntentKind.ORDER_STATUS:
        return await customer.status(ctx, intent.order_code or "")
    if kind is IntentKind.MY_ORDERS:
        if ctx.role is Role.RESELLER:
            return await customer.reseller_orders(ctx, "")
        if ctx.role is Role.STAFF:
            return await staff.queue(ctx, "")
        return await customer.orders(ctx, "")
    if kind is IntentKind.STOCK:
        return await customer.stock(ctx, intent.query or "")
    if kind in (IntentKind.GREETING, IntentKind.MENU):
        return await common.greet(ctx, "")
    if kind is IntentKind.HELP:
        return await help_(ctx, "")
    if kind is IntentKind.THANKS:
        return await common.thanks(ctx, "")
    if kind is IntentKind.STOP and ctx.role is not Role.STAFF:
        return await common.stop(ctx, "")
    return await common.not_understood(ctx, "")


def _as_list(result: Reply | list[Reply]) -> list[Reply]:
    return result if isinstance(result, list) else [result]
