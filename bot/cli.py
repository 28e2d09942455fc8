"""The `kabar` command line: init-db, import, staff, reseller, order, customer, run, demo."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config, ConfigError, load_config
from bot.demo import run_demo
from bot.run import RunError, database_problem, serve
from models.chats import get_or_create_chat
from models.enums import Channel
from models.errors import DomainError, InvalidPhone
from models.imports import (
    ORDER_COLUMNS,
    PRODUCT_COLUMNS,
    ImportRejected,
    ImportResult,
    import_orders,
    import_products,
    read_csv,
)
from models.linking import invoice_links
from models.messages import transcript
from models.orders import Order, clean_code
from models.people import NAME_LENGTH, Chat, Reseller, Staff
from models.phones import mask_phone, normalize_phone
from models.privacy import forget_customer
from models.schema import current_revision, head_revision, upgrade
from models.storage import Database
from models.text import unsafe_character

log = logging.getLogger("kabar")
PROGRESS_FROM_ROWS = 2_000  # smaller files finish before a bar would be worth drawing


class CommandError(Exception):
    """A command cannot go on; its message is the one line the operator sees."""


Command = Callable[[Config, argparse.Namespace, Console], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    """Describe every command and its options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="configuration file (default: $KABAR_CONFIG or ./config.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="kabar",
        parents=[common],
        description="Keep your shop's customers informed over Telegram and WhatsApp.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    command("init-db", init_db, "create or upgrade the database")
    command("run", run, "run the enabled channels, web server and scheduler")
    demo_cmd = command("demo", demo, "try kabar in the terminal, no accounts needed")
    demo_cmd.add_argument("--script", action="store_true", help="play the walk-through and exit")

    imports = command("import", import_file, "import products or orders from CSV")
    imports.add_argument("kind", choices=["products", "orders"])
    imports.add_argument("file", type=Path, metavar="FILE.csv")

    staff = command("staff", add_staff, "manage staff")
    staff_cmds = staff.add_subparsers(dest="action", required=True, metavar="ACTION")
    staff_add = staff_cmds.add_parser("add", parents=[common], help="add a staff member")
    staff_add.add_argument("--name", required=True)
    _contact_options(staff_add)

    reseller = command("reseller", add_reseller, "manage resellers")
    reseller_cmds = reseller.add_subparsers(dest="action", required=True, metavar="ACTION")
    reseller_add = reseller_cmds.add_parser("add", parents=[common], help="add a reseller")
    reseller_add.add_argument("code", help="short code used in orders CSV, e.g. MAWAR")
    reseller_add.add_argument("--name", required=True, help="the brand their customers know")
    _contact_options(reseller_add)

    order = command("order", order_links, "order tools")
    order_cmds = order.add_subparsers(dest="action", required=True, metavar="ACTION")
    links = order_cmds.add_parser("links", parents=[common], help="the invoice links of an order")
    links.add_argument("code")
    links.add_argument("--json", action="store_true", help="print JSON: code, telegram, whatsapp")

    chat = command("chat", export_chat, "chat tools")
    chat_cmds = chat.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = chat_cmds.add_parser(
        "export", parents=[common], help="print one chat's stored messages as text"
    )
    export.add_argument(
        "chat",
        metavar="CHAT",
        help="whatsapp:+62812..., telegram:CHAT_ID, a phone number (WhatsApp) or a Telegram id",
    )
    customer = command("customer", forget_customer_cmd, "customer tools")
    customer_cmds = customer.add_subparsers(dest="action", required=True, metavar="ACTION")
    forget = customer_cmds.add_parser(
        "forget", parents=[common], help="erase a customer's name, number, chats and messages"
    )
    forget.add_argument("phone", metavar="PHONE", help="their number, e.g. 0812-3456-7890")
    return parser


def _contact_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--telegram-id", type=int, metavar="ID", help="numeric Telegram user id")
    parser.add_argument("--phone", help="WhatsApp number, e.g. 0812-3456-7890")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the command, return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if args.command == "demo":  # needs no accounts and no configuration
            return asyncio.run(run_demo(script=args.script, out=console))
        config = load_config(getattr(args, "config", None))
        handler: Command = args.handler
        return asyncio.run(handler(config, args, console))
    except (ConfigError, CommandError, DomainError) as exc:
        errors.print(f"kabar: {exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        return 130


@contextmanager
def _no_traceback_for(*kinds: type[Exception]) -> Iterator[None]:
    """Turn expected storage failures into one-line command errors."""
    try:
        yield
    except kinds as exc:
        raise CommandError(str(exc).splitlines()[0]) from exc


async def _open(config: Config, *, migrated: bool = True) -> Database:
    """Open the configured database, refusing one that `init-db` has not prepared."""
    db = Database(config.database.url)
    try:
        await db.probe()
        current = await current_revision(db) if migrated else None
    except Exception as exc:  # any driver: refused connection, bad path, bad password
        await db.dispose()
        raise CommandError(database_problem(db.url, exc)) from exc
    if migrated and current != head_revision():
        await db.dispose()
        raise CommandError("the database is not initialised or is outdated: run `kabar init-db`")
    return db


async def init_db(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Create or upgrade the database schema."""
    db = await _open(config, migrated=False)
    try:
        await upgrade(db)
        revision = await current_revision(db)
    except Exception as exc:  # the connection, or a migration, failed
        raise CommandError(database_problem(db.url, exc, "prepare")) from exc
    finally:
        await db.dispose()
    shown = db.url.render_as_string(hide_password=True)
    out.print(f"database ready at revision {revision}: {shown}", markup=False)
    return 0


async def import_file(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Import products or orders from a CSV file: all rows or none."""
    path: Path = args.file
    columns = PRODUCT_COLUMNS if args.kind == "products" else ORDER_COLUMNS
    importer = import_products if args.kind == "products" else import_orders
    db = await _open(config)
    try:
        try:
            rows = await asyncio.to_thread(read_csv, path, columns)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with _progress(out, len(rows)) as progress:
            # One unit of work: on SQLite it runs whole in the database's own thread.
            result = await db.write(functools.partial(importer, rows=rows, progress=progress))
    except ImportRejected as exc:
        errors = Console(stderr=True, highlight=False, soft_wrap=True)
        for error in exc.errors:
            errors.print(f"{path}:{error.line}: {error.message}", markup=False)
        raise CommandError(str(exc)) from exc
    finally:
        await db.dispose()
    out.print(_summary(args.kind, result), markup=False)
    for note in result.notes:
        out.print(f"  {note}", markup=False)
    return 0


def _summary(kind: str, result: ImportResult) -> str:
    text = (
        f"{result.rows} rows: {result.created} {kind} created, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )
    if result.awaiting_stock:
        text += f"; {result.awaiting_stock} order(s) wait for stock"
    return text


@contextmanager
def _progress(out: Console, total: int) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar for big files on a terminal; nothing otherwise."""
    if total < PROGRESS_FROM_ROWS or not out.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=out, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, of: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=of)
            bar.update(tasks[stage], completed=done, total=of)

        yield update


async def add_staff(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Add a staff member and the chats they will work from."""
    name = _name(args.name)
    phone, telegram_id = _contacts(args)
    db = await _open(config)
    try:
        with _no_traceback_for(IntegrityError):
            async with db.transaction() as session:
                if await _taken(session, Staff, phone, telegram_id):
                    raise CommandError("a staff member with that Telegram id or phone exists")
                member = Staff(name=name, telegram_id=telegram_id, phone=phone)
                session.add(member)
                await session.flush()
                for chat in await _chats(session, phone, telegram_id):
                    chat.staff_id = member.id
    finally:
        await db.dispose()
    out.print(f"staff #{member.id} {member.name} added", markup=False)
    return 0


async def add_reseller(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Add a reseller (code and brand) and the chats they will be told in."""
    name = _name(args.name)
    phone, telegram_id = _contacts(args)
    code = clean_code(args.code)
    if code is None:
        raise CommandError(f"reseller code {args.code!r}: use letters, digits and . _ / -")
    db = await _open(config)
    try:
        with _no_traceback_for(IntegrityError):
            async with db.transaction() as session:
                if await session.scalar(select(Reseller.id).where(Reseller.code == code)):
                    raise CommandError(f"reseller {code} exists already")
                if await _taken(session, Reseller, phone, telegram_id):
                    raise CommandError("a reseller with that Telegram id or phone exists")
                seller = Reseller(code=code, name=name, telegram_id=telegram_id, phone=phone)
                session.add(seller)
                await session.flush()
                for chat in await _chats(session, phone, telegram_id):
                    chat.reseller_id = seller.id
    finally:
        await db.dispose()
    out.print(f"reseller {seller.code} ({seller.name}) added", markup=False)
    return 0


def _name(value: str) -> str:
    """A person's or brand's name as it may be stored, or a one-line error."""
    name = value.strip()
    problem = unsafe_character(name)
    if problem is not None:
        raise CommandError(f"--name: contains {problem}")
    if not name or len(name) > NAME_LENGTH:
        raise CommandError(f"--name: expected 1 to {NAME_LENGTH} characters")
    return name


def _contacts(args: argparse.Namespace) -> tuple[str | None, int | None]:
    if args.phone is None and args.telegram_id is None:
        raise CommandError("give --telegram-id or --phone (or both)")
    if args.telegram_id is not None and args.telegram_id <= 0:
        raise CommandError("--telegram-id: expected a positive number")
    phone = normalize_phone(args.phone) if args.phone is not None else None
    return phone, args.telegram_id


async def _taken(
    session: AsyncSession,
    model: type[Staff] | type[Reseller],
    phone: str | None,
    telegram_id: int | None,
) -> bool:
    clauses = []
    if phone is not None:
        clauses.append(model.phone == phone)
    if telegram_id is not None:
        clauses.append(model.telegram_id == telegram_id)
    return await session.scalar(select(model.id).where(or_(*clauses))) is not None


async def _chats(session: AsyncSession, phone: str | None, telegram_id: int | None) -> list[Chat]:
    chats = []
    if telegram_id is not None:  # a private Telegram chat's id is the user's id
        chats.append(await get_or_create_chat(session, Channel.TELEGRAM, str(telegram_id)))
    if phone is not None:
        chats.append(await get_or_create_chat(session, Channel.WHATSAPP, phone))
    return chats


async def order_links(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Print an order's link code and its Telegram and WhatsApp invoice links."""
    db = await _open(config)
    try:
        async with db.sessions() as session:
            link_code = await session.scalar(
                select(Order.link_code).where(Order.code == (clean_code(args.code) or ""))
            )
    finally:
        await db.dispose()
    if link_code is None:
        raise CommandError(f"order {args.code} not found")
    links = invoice_links(link_code, config.telegram.bot_username, config.whatsapp.from_number)
    if args.json:
        out.print(json.dumps(links, indent=2), markup=False)
        return 0
    out.print(f"code:     {links['code']}", markup=False)
    out.print(
        f"telegram: {links['telegram'] or 'not set up (telegram.bot_username)'}", markup=False
    )
    out.print(f"whatsapp: {links['whatsapp'] or 'not set up (whatsapp.from_number)'}", markup=False)
    return 0


def _chat_address(raw: str) -> tuple[Channel, str]:
    """Read `whatsapp:+62…`, `telegram:123`, `console:sari`, a phone, or a Telegram id."""
    channel_name, sep, address = raw.strip().partition(":")
    if sep and channel_name.lower() in {c.value for c in Channel}:
        channel = Channel(channel_name.lower())
    else:
        channel, address = (Channel.TELEGRAM, raw.strip())
        if not address.lstrip("-").isdigit() or address.startswith(("0", "+", "62")):
            channel = Channel.WHATSAPP
    if channel is Channel.WHATSAPP:
        try:
            address = normalize_phone(address)
        except InvalidPhone as exc:
            raise CommandError(f"chat {raw!r}: {exc}") from None
    return channel, address.strip()


async def export_chat(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Print one chat's stored messages, oldest first, in shop time (for a dispute)."""
    channel, address = _chat_address(args.chat)
    db = await _open(config)
    try:
        async with db.sessions() as session:
            found = await transcript(session, channel, address)
            staff = dict((await session.execute(select(Staff.id, Staff.name))).all())
    finally:
        await db.dispose()
    if found is None:
        raise CommandError(f"no chat {channel.value}:{address}")
    tz = config.shop.tz
    out.print(
        f"chat {channel.value}:{address} · {len(found.messages)} messages"
        f" kept (the last {config.privacy.keep_messages_days} days)",
        markup=False,
    )
    for message in found.messages:
        at = message.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        if message.direction == "in":
            who = "◂ in"
        elif message.author == "staff":
            who = f"▸ staff {staff.get(message.staff_id or 0, '?')}"
        else:
            who = "▸ kabar"
        attached = f"[{message.media_kind}: {message.media}] " if message.media_kind else ""
        lines = (attached + message.text).splitlines() or [""]
        out.print(f"{at} {who}: {lines[0]}", markup=False)
        for line in lines[1:]:
            out.print(f"{' ' * (len(at) + len(who) + 3)}{line}", markup=False)
    return 0


async def forget_customer_cmd(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Erase a customer's name, number, chats and messages; keep their orders, anonymised."""
    phone = normalize_phone(args.phone)
    db = await _open(config)
    try:
        async with db.transaction() as session:
            forgotten = await forget_customer(session, phone)
    finally:
        await db.dispose()
    if forgotten is None:
        raise CommandError(f"no customer has the number {mask_phone(phone)}")
    out.print(
        f"customer {mask_phone(phone)} forgotten: {forgotten.chats} chats and "
        f"{forgotten.messages} messages deleted, {forgotten.orders} orders kept "
        "without a name or number",
        markup=False,
    )
    return 0


async def run(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Run the enabled channels, the web server and the scheduler until stopped."""
    logging.getLogger().setLevel(logging.INFO)
    # httpx logs every request URL, and a Bot API URL carries the token: keep those quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # twilio logs every request with the recipient's full number: not in kabar's logs.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    # Starting prints nothing but kabar's own lines: a start that fails is one line.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs each run of each job at INFO: two lines a second for the dispatcher.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # PTB logs an answer that is not JSON with a traceback, then raises it: kabar names it.
    logging.getLogger("telegram.request").setLevel(logging.CRITICAL)
    try:
        return await serve(config)
    except RunError as exc:
        raise CommandError(str(exc)) from exc


async def demo(config: Config, args: argparse.Namespace, out: Console) -> int:
    """Open the console demo."""
    return await run_demo(script=args.script, out=out)
