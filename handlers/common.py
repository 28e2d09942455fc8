"""Commands for everyone: start and linking, help, language, stop, and what to say otherwise."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Context
from handlers.types import Choice, Reply, Role
from models.enums import Channel, Language
from models.errors import InvalidPhone
from models.linking import link_by_code, link_by_phone
from models.people import Customer
from models.phones import normalize_phone


def menu(ctx: Context) -> tuple[Choice, ...]:
    """The main choices for the asker's role."""
    if ctx.role is Role.STAFF:
        keys = (("menu.queue", "/antrian"), ("menu.stock", "/stok"), ("menu.help", "/bantuan"))
    elif ctx.role is Role.RESELLER:
        keys = (("menu.myorders", "/pesananku"), ("menu.stock", "/stok"), ("menu.help", "/bantuan"))
    else:
        keys = (("menu.orders", "/pesanan"), ("menu.stock", "/stok"), ("menu.help", "/bantuan"))
    return tuple(Choice(ctx.t(key), command) for key, command in keys)


def share_button(ctx: Context) -> str:
    """The label of a share-my-number button, on channels where people share contacts."""
    return ctx.t("menu.share_phone") if ctx.incoming.channel is Channel.TELEGRAM else ""


def _name(ctx: Context) -> str:
    return ctx.incoming.name or ctx.t("greeting.friend")


async def start(ctx: Context, args: str) -> Reply | list[Reply]:
    """Greet; with a link code, link this chat to that order's customer first."""
    code = args.strip()
    if code and not ctx.incoming.group:  # a group is never linked to a customer
        order = await link_by_code(ctx.session, ctx.chat, code)
        if order is None:
            return Reply(
                ctx.t("start.bad_code"),
                choices=menu(ctx),
                contact_button=share_button(ctx),
            )
        if ctx.role is Role.UNKNOWN:
            ctx.role = Role.CUSTOMER
        from handlers.customer import status_of

        return [
            Reply(ctx.t("start.linked", name=_name(ctx), code=order.code)),
            await status_of(ctx, order),
        ]
    greeting = ctx.t(f"start.hello.{ctx.role.value}", name=_name(ctx), shop=ctx.settings.shop_name)
    button = share_button(ctx) if ctx.role is Role.UNKNOWN else ""
    if button:
        greeting += "\n" + ctx.t("start.share_phone")
    return Reply(greeting, choices=menu(ctx), contact_button=button)


async def greet(ctx: Context, args: str) -> Reply:
    """Answer a hello with the menu."""
    return Reply(ctx.t("greeting.hello", name=_name(ctx)), choices=menu(ctx))


async def thanks(ctx: Context, args: str) -> Reply:
    """Answer a thank-you."""
    return ctx.reply("greeting.thanks")


async def help_(ctx: Context, args: str) -> Reply:
    """List the commands this person may use, in their language."""
    from handlers.router import ROUTES

    lines = [ctx.t("help.title")]
    for route in ROUTES:
        if ctx.role in route.roles and route.help:
            lines.append(f"/{route.words[0]} — {ctx.t(route.help)}")
    return Reply("\n".join(lines), choices=menu(ctx))


async def language(ctx: Context, args: str) -> Reply:
    """Set this chat's language (`/bahasa id` or `/bahasa en`)."""
    wanted = args.strip().lower()
    aliases = {
        "id": Language.ID,
        "indonesia": Language.ID,
        "en": Language.EN,
        "english": Language.EN,
    }
    if wanted not in aliases:
        return Reply(
            ctx.t("language.ask"),
            choices=(Choice("Bahasa Indonesia", "/bahasa id"), Choice("English", "/bahasa en")),
        )
    ctx.chat.language = ctx.lang = aliases[wanted]
    return Reply(ctx.t("language.set"), choices=menu(ctx))


async def stop(ctx: Context, args: str) -> Reply:
    """Stop pushes to this chat until the person writes again."""
    ctx.chat.opted_out = True
    return ctx.reply("stop.done")


async def contact(ctx: Context) -> Reply:
    """Link every order of a shared phone number, if the number is the sender's own."""
    shared = ctx.incoming.contact
    assert shared is not None
    if shared.user_id is None or shared.user_id != ctx.incoming.sender:
        return ctx.reply("contact.not_yours")
    try:
        phone = normalize_phone(shared.phone)
    except InvalidPhone:
        return ctx.reply("contact.not_found")
    customer = await link_by_phone(ctx.session, ctx.chat, phone)
    if customer is None:
        return ctx.reply("contact.not_found")
    if ctx.role is Role.UNKNOWN:
        ctx.role = Role.CUSTOMER
    return Reply(ctx.t("contact.linked", name=customer.name), choices=menu(ctx))


async def not_understood(ctx: Context, args: str) -> Reply:
    """Say briefly that the message was not understood, and show the menu."""
    return Reply(ctx.t("unknown.text"), choices=menu(ctx))


async def unknown_command(ctx: Context, args: str) -> Reply:
    """Say that a command does not exist, and show the menu."""
    return Reply(ctx.t("unknown.command"), choices=menu(ctx))


async def customer_names(ctx: Context, ids: list[int]) -> dict[int, str]:
    """Names of customers by id."""
    if not ids:
        return {}
    rows = await ctx.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    return {customer_id: name for customer_id, name in rows}
