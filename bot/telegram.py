"""The Telegram channel: python-telegram-bot turned into kabar's channel interface."""

from __future__ import annotations

import logging
import mimetypes
import os
import warnings
from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels import SendError, send_reply, split_text
from bot.config import TelegramConfig
from bot.media import MediaError, MediaRelay, read_local, source_of
from bot.pacing import Pacer
from handlers.conversation import Conversation
from handlers.i18n import Messages
from handlers.router import ROUTES
from handlers.types import Attachment, Incoming, Reply, Role, SharedContact
from models.chats import move_chat, telegram_ids
from models.enums import Channel, Language
from models.storage import Database

log = logging.getLogger(__name__)
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts


def _attachment(message: Message) -> Attachment | None:
    """What came with the message besides text and photos: a file, a voice note, a place."""
    if message.location is not None:
        return Attachment("location", f"{message.location.latitude},{message.location.longitude}")
    for kind, item in (
        ("document", message.document),
        ("voice", message.voice),
        ("audio", message.audio),
        ("video", message.video or message.video_note),
        ("sticker", message.sticker),
    ):
        if item is not None:
            return Attachment(kind, item.file_id)
    return None


class TelegramStartError(Exception):
    """Telegram refused to start (bad token, unreachable API); one line for the operator."""


def _first_line(text: str, limit: int = 160) -> str:
    """A platform's error, short: PTB quotes whole HTML pages it could not parse."""
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _is_id(value: object) -> bool:
    """A Telegram id: an integer that fits the database's BIGINT."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _is_text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _unreadable(update: Update) -> str | None:
    """Name a field kabar reads that has the wrong type (PTB does not check); None if none."""
    chats: list[Any] = []
    users: list[Any] = []
    message, query = update.message, update.callback_query
    if message is not None:
        if not (_is_text(message.text) and _is_text(message.caption)):
            return "text or caption is not a string"
        contact = message.contact
        if contact is not None and not (
            isinstance(contact.phone_number, str)
            and (contact.user_id is None or _is_id(contact.user_id))
        ):
            return "contact has the wrong types"
        if not all(isinstance(size.file_id, str) for size in message.photo or ()):
            return "photo has no file id"
        chats.append(message.chat)
        users.append(message.from_user)
    if query is not None:
        if not _is_text(query.data):
            return "callback data is not a string"
        users.append(query.from_user)
        if query.message is not None:
            chats.append(query.message.chat)
    for chat in chats:
        if chat is not None and not (_is_id(chat.id) and isinstance(chat.type, str)):
            return "chat id or type has the wrong type"
    for user in users:
        if user is not None and not (_is_id(user.id) and isinstance(user.first_name, str)):
            return "user id or name has the wrong type"
    return None


def _update_key(update_id: int) -> str:
    """How an update is known again when Telegram delivers it twice (a slow webhook answer)."""
    return f"update:{update_id}"


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait, whichever type this PTB version reports."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """Receives Telegram updates into the conversation and sends replies and pushes."""

    kind = Channel.TELEGRAM

    def __init__(
        self,
        config: TelegramConfig,
        conversation: Conversation,
        messages: Messages,
        db: Database,
        *,
        read_timeout: float | None = None,
        media: MediaRelay | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        assert config.token is not None
        # Opt in to PTB's timedelta periods (RetryAfter.retry_after): the int form is deprecated
        # and warns from inside PTB itself on every flood-control answer.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.config = config
        self.conversation = conversation
        self.messages = messages
        self.db = db
        self.media = media  # photos from other platforms are fetched through it
        self.pacer = pacer  # the bot's budget, shared with the dispatcher's pushes
        builder = (
            ApplicationBuilder()
            .token(config.token.get_secret_value())
            .base_url(config.api_base_url)
            .base_file_url(config.api_base_url.removesuffix("/bot") + "/file/bot")
            .concurrent_updates(True)
        )
        if read_timeout is not None:  # how long a send may hang before it counts as failed
            builder = builder.read_timeout(read_timeout)
        if config.mode == "webhook":
            builder = builder.updater(None)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.app.add_handler(CallbackQueryHandler(self._on_callback))
        self.app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self.app.add_error_handler(self._on_error)
        self.running = False

    @property
    def username(self) -> str:
        """The bot's @username as Telegram reports it."""
        return str(self.app.bot.username)

    async def start(self) -> None:
        """Connect (getMe), publish the command menus, and start polling or the webhook."""
        where = self.config.api_base_url  # the token is appended to it, never part of it
        try:
            await self._start()
        except InvalidToken as exc:
            raise TelegramStartError(
                f"telegram.token: the Bot API at {where} rejected the token"
            ) from exc
        except NetworkError as exc:  # BadRequest too: a refused setWebhook, say
            raise TelegramStartError(
                f"telegram: the Bot API at {where} failed: {_first_line(exc.message)}"
            ) from exc
        except TelegramError as exc:  # "Invalid server response": HTML, say, not JSON
            raise TelegramStartError(
                f"telegram.api_base_url: {where} does not answer as a Bot API "
                f"({_first_line(exc.message)})"
            ) from exc

    async def _start(self) -> None:
        await self.app.initialize()
        await self.publish_menus()
        if self.config.mode == "webhook":
            secret = self.config.webhook_secret
            await self.app.bot.set_webhook(
                self.config.webhook_url,
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=["message", "callback_query"],
            )
        else:
            await self.app.bot.delete_webhook()
            assert self.app.updater is not None
            await self.app.updater.start_polling(allowed_updates=["message", "callback_query"])
        await self.app.start()
        self.running = True

    async def stop(self) -> None:
        """Stop receiving and close the connection."""
        if not self.app.running and not self.running:
            await self.app.shutdown()
            return
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        self.running = False

    def read_update(self, data: dict[str, Any]) -> Update | None:
        """Read an update posted to our webhook; None (and one log line) if kabar cannot."""
        which = str(data.get("update_id"))[:24]
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # PTB's constructors raise whatever odd JSON makes them
            problem = _first_line(f"{type(exc).__name__}: {exc}")
        else:
            found = _unreadable(update)
            if found is None:
                return update
            problem = found
        log.warning("telegram update %s ignored: %s", which, problem)
        return None

    async def process(self, update: Update) -> None:
        """Handle one update posted to our webhook."""
        await self.app.process_update(update)

    async def publish_menus(self) -> None:
        """Set the "/" menu: customers' commands per language, staff's in their own chats."""
        for lang in Language:
            customer = self._commands(lang, Role.CUSTOMER)
            await self.app.bot.set_my_commands(
                customer,
                scope=BotCommandScopeDefault(),
                language_code=None if lang is Language.ID else lang.value,
            )
        async with self.db.sessions() as session:
            staff_ids, reseller_ids = await telegram_ids(session)
        for role, ids in ((Role.STAFF, staff_ids), (Role.RESELLER, reseller_ids)):
            commands = self._commands(Language.ID, role)
            for user_id in ids:
                try:
                    await self.app.bot.set_my_commands(commands, scope=BotCommandScopeChat(user_id))
                except BadRequest as exc:  # the person never opened a chat with the bot
                    log.info("no command menu for a %s chat: %s", role.value, exc)

    def _commands(self, lang: Language, role: Role) -> list[BotCommand]:
        commands = []
        for route in ROUTES:
            if role in route.roles and route.help:
                word = route.words[0] if lang is Language.ID else route.words[1]
                commands.append(BotCommand(word, self.messages.text(lang, route.help)[:256]))
        return commands

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.chat is None:
            return
        incoming = self._incoming(message, user.id, user.first_name, update.update_id)
        if not self._for_us(incoming.text):
            return
        for reply in await self.conversation.handle(incoming):
            await send_reply(self, self.pacer, str(message.chat.id), reply)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None or query.data is None:
            return
        await query.answer()
        chat = query.message.chat
        incoming = Incoming(
            channel=Channel.TELEGRAM,
            chat=str(chat.id),
            sender=str(query.from_user.id),
            name=query.from_user.first_name,
            text=query.data,
            group=chat.type != "private",
            message_id=_update_key(update.update_id),
        )
        for reply in await self.conversation.handle(incoming):
            await send_reply(self, self.pacer, str(chat.id), reply)

    def _for_us(self, text: str) -> bool:
        """False for `/cmd@other_bot`: in a group, another bot's command is not ours."""
        first = text.split(maxsplit=1)[0] if text.startswith("/") else ""
        _, at, name = first.partition("@")
        return not at or name.lower() == self.username.lower()

    def _incoming(
        self, message: Message, user_id: int, first_name: str, update_id: int
    ) -> Incoming:
        contact = None
        if message.contact is not None:
            owner = message.contact.user_id
            contact = SharedContact(message.contact.phone_number, str(owner) if owner else None)
        photo = message.photo[-1].file_id if message.photo else None
        quoted = message.reply_to_message
        return Incoming(
            channel=Channel.TELEGRAM,
            chat=str(message.chat.id),
            sender=str(user_id),
            name=first_name,
            text=message.text or message.caption or "",
            contact=contact,
            photo=photo,
            group=message.chat.type != "private",
            attachment=_attachment(message),
            reply_to=str(quoted.message_id) if quoted is not None else None,
            provider_id=str(message.message_id),
            message_id=_update_key(update_id),
        )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", context.error, exc_info=context.error)

    async def send(self, address: str, reply: Reply, *, track: bool = False) -> str:
        """Send a reply or push to a chat; return the last Telegram message id."""
        chat_id = int(address)
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if reply.contact_button:
            button = KeyboardButton(reply.contact_button, request_contact=True)
            markup = ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)
        elif reply.choices:
            fits = [c for c in reply.choices if len(c.command.encode()) <= CALLBACK_LIMIT]
            buttons = [[InlineKeyboardButton(c.label[:64], callback_data=c.command)] for c in fits]
            markup = InlineKeyboardMarkup(buttons) if buttons else None
            if too_long := [c.command for c in reply.choices if c not in fits]:
                # No button can carry it: written out, to be copied and sent.
                reply = replace(reply, text="\n".join([reply.text, *too_long]))
        media = await self._media(reply)
        try:
            if media is not None and len(reply.text) <= CAPTION_LIMIT:
                return await self._send_media(chat_id, *media, reply.text or None, markup)
            if media is not None:
                await self._send_media(chat_id, *media, None, None)
            parts = list(split_text(reply.text, TEXT_LIMIT)) or [" "]
            message_id = ""
            for number, part in enumerate(parts):
                last = number == len(parts) - 1
                sent = await self.app.bot.send_message(
                    chat_id, part, reply_markup=markup if last else None
                )
                message_id = str(sent.message_id)
            return message_id
        except Forbidden as exc:
            raise SendError(f"telegram: {exc.message}", blocked=True) from exc
        except RetryAfter as exc:
            raise SendError("telegram: flood control", retry_after=retry_seconds(exc)) from exc
        except ChatMigrated as exc:
            await self._migrate(chat_id, exc.new_chat_id)
            raise SendError("telegram: chat moved to a supergroup", retry_after=0) from exc
        except BadRequest as exc:  # BadRequest is a NetworkError: catch it first
            raise SendError(f"telegram: {exc.message}", permanent=True) from exc
        except (NetworkError, TelegramError) as exc:
            raise SendError(f"telegram: {exc.message}") from exc

    async def _media(self, reply: Reply) -> tuple[str, str | InputFile] | None:
        """The photo or file of a reply as Telegram takes it (kind, file), if it has one."""
        if reply.photo:
            kind, ref = "photo", reply.photo
        elif reply.file is not None and reply.file.sendable:
            kind, ref = reply.file.kind, reply.file.ref
        else:
            return None
        if source_of(ref) is Channel.TELEGRAM:
            return kind, ref  # its own file id: nothing to upload
        if source_of(ref) is None:  # the shop's own file: upload it
            try:
                data, content_type = await read_local(ref)
            except MediaError as exc:
                log.warning("the shop's file could not be sent: %s", exc)
                return None
        elif self.media is None:
            log.warning("a %s from %s cannot be sent without WhatsApp set up", kind, source_of(ref))
            return None
        else:
            try:
                data, content_type = await self.media.fetch(ref)
            except Exception as exc:  # its platform is down: the send is tried again later
                raise SendError(f"telegram: {kind} could not be fetched ({exc})") from exc
        # A file keeps a name with its type's extension: staff open `document.pdf`, not a blob.
        extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
        return kind, InputFile(data, filename=f"{kind}{extension}")

    async def _send_media(
        self,
        chat_id: int,
        kind: str,
        media: str | InputFile,
        caption: str | None,
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None,
    ) -> str:
        """Send a photo or file with its caption and buttons; return Telegram's message id."""
        bot = self.app.bot
        if kind == "photo":
            sent = await bot.send_photo(chat_id, media, caption=caption, reply_markup=markup)
        elif kind == "voice":
            sent = await bot.send_voice(chat_id, media, caption=caption, reply_markup=markup)
        elif kind == "audio":
            sent = await bot.send_audio(chat_id, media, caption=caption, reply_markup=markup)
        elif kind == "video":
            sent = await bot.send_video(chat_id, media, caption=caption, reply_markup=markup)
        else:
            sent = await bot.send_document(chat_id, media, caption=caption, reply_markup=markup)
        return str(sent.message_id)

    async def fetch_media(self, ref: str) -> tuple[bytes, str]:
        """The bytes of a file Telegram gave kabar the id of, and its content type."""
        try:
            found = await self.app.bot.get_file(ref)
            data = await found.download_as_bytearray()
        except TelegramError as exc:
            raise MediaError(f"telegram: {exc.message}") from exc
        kind = mimetypes.guess_type(found.file_path or "")[0] or "application/octet-stream"
        return bytes(data), kind

    async def _migrate(self, old: int, new: int) -> None:
        """A group became a supergroup: follow it to its new id."""
        async with self.db.transaction() as session:
            await move_chat(session, Channel.TELEGRAM, str(old), str(new))
