"""Commands for everyone: start, linking, language, stop, and what to say otherwise."""

from __future__ import annotations

import math
from datetime import timedelta

from handlers.context import Context
from handlers.faq import AS_THE_SHOP, FaqTopic
from handlers.types import Choice, Reply, Role
from handlers.views import menu, share_button, status_reply
from models import linking
from models.chat_orders import customer_by_phone
from models.enums import Language
from models.errors import InvalidPhone, TooManyLinkCodes
from models.linking import link_by_code, link_by_phone, order_history
from models.phones import international_phone


def _name(ctx: Context) -> str:
    return ctx.incoming.name or ctx.t("greeting.friend")


async def start(ctx: Context, args: str) -> Reply | list[Reply]:
    """Greet; with a link code, link this chat to that order first."""
    code = args.strip()
    if code and ctx.incoming.group:
        return ctx.reply("link.private_only")  # a group is never linked: all its members would see
    if code:
        try:
            order = await link_by_code(
                ctx.session, ctx.chat, code, now=ctx.now, keep=ctx.settings.link_code_keep
            )
        except TooManyLinkCodes as exc:
            minutes = max(1, math.ceil(exc.wait / timedelta(minutes=1)))
            return ctx.reply("start.wait", minutes=minutes)
        if order is None:
            return Reply(
                ctx.t("start.bad_code"),
                choices=menu(ctx),
                contact_button=share_button(ctx),
            )
        if ctx.role is Role.UNKNOWN:
            ctx.role = Role.CUSTOMER
        history = await order_history(ctx.session, order.code, seen_by=ctx.chat)
        assert history is not None  # just linked: this chat sees it
        return [
            Reply(ctx.t("start.linked", name=_name(ctx), code=order.code)),
            status_reply(ctx, history),
        ]
    shop = ctx.reseller_brand or ctx.settings.shop_name
    greeting = ctx.t(f"start.hello.{ctx.role.value}", name=_name(ctx), shop=shop)
    button = share_button(ctx) if ctx.role is Role.UNKNOWN else ""
    if button:
        greeting += "\n" + ctx.t("start.share_phone")
    return Reply(greeting, choices=menu(ctx), contact_button=button)


async def greet(ctx: Context, args: str) -> Reply:
    """Answer a hello with the menu."""
    return Reply(ctx.t("greeting.hello", name=_name(ctx)), choices=menu(ctx))


async def thanks(ctx: Context, args: str, *, praised: bool = False) -> Reply:
    """Answer a thank-you, or praise for what came."""
    return ctx.reply("greeting.praised" if praised else "greeting.thanks")


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


async def resume(ctx: Context, args: str) -> Reply:
    """Say that pushes reach this chat (any message after a STOP turns them back on)."""
    if ctx.resumed:
        ctx.resumed = False  # said here, not again by the conversation
        return ctx.reply("stop.resumed")
    return ctx.reply("stop.active")


def faq_answer(ctx: Context, topic: FaqTopic) -> Reply:
    """One of the shop's answers, in the asker's language where the shop wrote one.

    A reseller's customer is sent to the reseller for the answers that speak as the shop.
    """
    if topic.key in AS_THE_SHOP and (brand := ctx.reseller_brand):
        return ctx.reply("info.via_seller", seller=brand)
    return Reply(topic.answer(ctx.lang))


def faq_title(ctx: Context, topic: FaqTopic) -> str:
    """A topic's title: the seller's own, kabar's for the topics it knows, else its name."""
    if topic.title:
        return topic.title
    key = f"faq.title.{topic.key}"
    return ctx.t(key) if key in ctx.messages.keys(ctx.lang) else topic.key.replace("_", " ")


async def info(ctx: Context, args: str) -> Reply:
    """The shop's answers: `/info` lists the topics, `/info TOPIC` gives one."""
    topics = ctx.settings.faq
    if not topics:
        return Reply(ctx.t("info.none"), choices=menu(ctx))
    wanted = args.strip().lower()
    for topic in topics:
        if wanted and wanted in (topic.key, faq_title(ctx, topic).lower()):
            return faq_answer(ctx, topic)
    brand = ctx.reseller_brand
    if brand:
        topics = tuple(t for t in topics if t.key not in AS_THE_SHOP)
    return Reply(
        ctx.t("info.title", shop=brand or ctx.settings.shop_name),
        choices=tuple(Choice(faq_title(ctx, t), f"/info {t.key}") for t in topics),
    )


async def contact(ctx: Context, *, to_order: bool = False) -> Reply:
    """Link every order of a shared phone number, if the number is the sender's own;
    `to_order`: the chat shares it to order, so a number with no orders yet is kept too."""
    shared = ctx.incoming.contact
    assert shared is not None
    if ctx.incoming.group:
        return ctx.reply("link.private_only")  # everyone in the group would see the orders
    if shared.user_id is None or shared.user_id != ctx.incoming.sender:
        return ctx.reply("contact.not_yours")
    try:
        phone = international_phone(shared.phone)  # never read as Indonesian: see phones
    except InvalidPhone:
        return ctx.reply("contact.not_found")
    customer = await link_by_phone(ctx.session, ctx.chat, phone, now=ctx.now)
    if customer is None and to_order:
        # Their first order: the number they proved is theirs is who it goes under.
        name = " ".join((ctx.incoming.name or "").split())
        await customer_by_phone(ctx.session, phone, name, ctx.lang.value)
        customer = await link_by_phone(ctx.session, ctx.chat, phone, now=ctx.now)
        assert customer is not None
        if ctx.role is Role.UNKNOWN:
            ctx.role = Role.CUSTOMER
        return ctx.reply("contact.saved")
    if customer is None:
        return ctx.reply("contact.not_found")
    if ctx.role is Role.UNKNOWN:
        ctx.role = Role.CUSTOMER
    return Reply(ctx.t("contact.linked", name=customer.name), choices=menu(ctx))


async def unlink(ctx: Context, args: str) -> Reply:
    """Undo this chat's links: to one order (`/putus KODE`), or all of them (`/putus`)."""
    words = args.split()
    code = words[0][:64] if words else None
    verified = ctx.incoming.sender if ctx.incoming.phone_verified else None
    done = await linking.unlink(ctx.session, ctx.chat, code, verified_here=verified)
    if done is None:
        assert code is not None
        return ctx.reply("status.not_found", code=code)  # as for an order that does not exist
    if code is None:
        if done.kept_phone:
            return ctx.reply("unlink.all_kept_phone")
        return ctx.reply("unlink.all" if done.dropped else "unlink.none")
    if done.kept_phone:  # the customer's own number is verified here: they own the order
        if done.others:
            return ctx.reply("unlink.others", code=done.order, count=done.others)
        return ctx.reply("unlink.no_others", code=done.order)
    return ctx.reply("unlink.done", code=done.order)


async def not_understood(ctx: Context, args: str) -> Reply:
    """Say briefly that the message was not understood, and show the menu; staff get
    examples of their own, not a customer's."""
    key = "unknown.staff" if ctx.role is Role.STAFF else "unknown.text"
    return Reply(ctx.t(key), choices=menu(ctx))


async def unknown_command(ctx: Context, args: str) -> Reply:
    """Say that a command does not exist, and show the menu."""
    return Reply(ctx.t("unknown.command"), choices=menu(ctx))
