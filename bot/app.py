"""The composition root: turn a configuration into a running conversation and dispatcher."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.channels import ChatChannel
from bot.config import Config, ConfigError
from bot.dispatcher import Dispatcher
from bot.pacing import Limits
from handlers.context import Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages, MessagesError
from models.base import utcnow
from models.enums import Channel, Language
from models.storage import Database


def settings_from(config: Config) -> Settings:
    """The settings the conversation needs, from the configuration."""
    return Settings(
        shop_name=config.shop.name,
        timezone=config.shop.tz,
        currency=config.shop.currency,
        default_language=Language(config.shop.default_language),
        undo_seconds=config.notifications.undo_seconds,
        bot_username=config.telegram.bot_username,
        quiet_hours=config.shop.quiet_hours_range,
    )


def load_messages(config: Config) -> Messages:
    """kabar's message catalogs with the seller's overrides; a bad override is a config error."""
    override = Path(config.shop.messages_file) if config.shop.messages_file else None
    try:
        return Messages.load(override)
    except MessagesError as exc:
        raise ConfigError(f"shop.messages_file: {exc}", "shop.messages_file") from exc


@dataclass
class App:
    """Everything `kabar run` and `kabar demo` wire together."""

    db: Database
    messages: Messages
    settings: Settings
    conversation: Conversation
    dispatcher: Dispatcher

    async def close(self) -> None:
        """Release the database."""
        await self.db.dispose()


def build(
    config: Config,
    channels: Mapping[Channel, ChatChannel],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> App:
    """Wire the database, words, conversation and dispatcher for one process."""
    db = Database(config.database.url)
    messages = load_messages(config)
    settings = settings_from(config)
    return App(
        db=db,
        messages=messages,
        settings=settings,
        conversation=Conversation(db, settings, messages, clock=clock),
        dispatcher=Dispatcher(
            db,
            channels,
            messages,
            settings,
            clock=clock,
            max_attempts=config.notifications.max_attempts,
            lease=timedelta(seconds=config.notifications.lease_seconds),
            limits={
                Channel.TELEGRAM: Limits(
                    config.notifications.telegram_per_second,
                    config.notifications.telegram_per_chat_per_second,
                ),
                Channel.WHATSAPP: Limits(config.notifications.whatsapp_per_second),
            },
        ),
    )
