"""The composition root: a configuration in, everything kabar runs wired together, unstarted.

`build` makes every part and hands each the parts it needs; nothing is patched in afterwards
and nothing starts here. `kabar run` (`bot.run.serve`) starts and stops what `build` made;
`kabar demo` plays with the same parts on a console channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.applications import Starlette

from bot.channels import ChatChannel
from bot.config import Config, ConfigError
from bot.dispatcher import Dispatcher
from bot.jobs import Jobs
from bot.leader import Leadership
from bot.media import MediaRelay
from bot.pacing import Limits, Pacer
from bot.telegram import TelegramChannel
from bot.tracking import BinderByte
from bot.web import BodyLimits, create_web_app
from bot.whatsapp import WhatsAppChannel
from handlers.context import OrderSettings, PaymentSettings, Settings
from handlers.conversation import Conversation
from handlers.faq import topic
from handlers.i18n import Messages, MessagesError
from handlers.intents import normalise
from models.base import utcnow
from models.change import Policy
from models.dunning import Dunning
from models.enums import Channel, Language
from models.storage import Database
from models.tracker import Tracker
from models.tracking import TrackingPolicy

DISPATCH_JOB = "dispatch"
TRACK_EVERY_MINUTES = 5  # how often the tracking round runs; each shipment waits poll_minutes


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
        faq=tuple(
            topic(
                key,
                {Language.ID: entry.id, Language.EN: entry.en},
                entry.words,
                entry.title,
            )
            for key, entry in config.shop.faq.items()
        ),
        payment=PaymentSettings(
            accounts=tuple((a.bank, a.number, a.holder) for a in config.payment.accounts),
            qris_image=config.payment.qris_image,
            note=config.payment.note,
            unique_code=config.payment.unique_code,
            policy=Policy(config.payment.ship_unpaid),
        ),
        whatsapp_number=config.whatsapp.from_number,
        orders=OrderSettings(
            prefix=config.shop.order_prefix,
            customers_can_order=config.orders.customers_can_order,
            draft_lifetime=timedelta(minutes=config.orders.draft_minutes),
        ),
        support_hours=config.support.hours_range,
        link_code_days=config.privacy.link_code_days,
        support_words=tuple(
            phrase for word in config.support.words if (phrase := " ".join(normalise(word)))
        ),
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
    """Everything one kabar process runs, built and not yet started."""

    config: Config
    db: Database
    messages: Messages
    settings: Settings
    conversation: Conversation
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler  # the dispatcher and the jobs; started by the elected leader
    leadership: Leadership
    telegram: TelegramChannel | None
    whatsapp: WhatsAppChannel | None
    web: Starlette | None  # the webhooks and /healthz, when a channel takes webhooks
    jobs: Jobs
    tracker: Tracker | None  # the courier tracking provider, when [tracking] names one

    def stop_jobs(self) -> None:
        """Stop the scheduler, if it runs: no more dispatching or jobs from this process."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def close(self) -> None:
        """Release what `build` made: jobs, channel connections, then the database."""
        self.stop_jobs()
        if self.telegram is not None:
            await self.telegram.stop()
        if self.whatsapp is not None:
            await self.whatsapp.close()
        if self.tracker is not None:
            await self.tracker.aclose()
        await self.conversation.visits.flush()  # questions answered, visits not yet stored
        await self.db.dispose()


def build(
    config: Config,
    *,
    clock: Callable[[], datetime] = utcnow,
    console: ChatChannel | None = None,
    tracker: Tracker | None = None,
) -> App:
    """Make every part of a kabar process from the configuration, wired and unstarted.

    `console` and `tracker` stand in for a chat channel and a tracking provider (the demo's).
    """
    db = Database(config.database.url)
    messages = load_messages(config)
    settings = settings_from(config)
    scheduler = AsyncIOScheduler()

    def wake_dispatcher() -> None:
        # A message's transaction committed and may owe a push due now: send it now, not at
        # the next poll.
        if scheduler.running:
            scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now(UTC))

    conversation = Conversation(db, settings, messages, clock=clock, on_commit=wake_dispatcher)
    channels: dict[Channel, ChatChannel] = {}
    media = _media_relay(config, channels)
    # One budget per bot identity: pushes and replies draw from the same one.
    pacers = {
        Channel.TELEGRAM: Pacer(
            Limits(
                config.notifications.telegram_per_second,
                config.notifications.telegram_per_chat_per_second,
            )
        ),
        Channel.WHATSAPP: Pacer(Limits(config.notifications.whatsapp_per_second)),
    }
    telegram = whatsapp = None
    if config.telegram.enabled:
        telegram = TelegramChannel(
            config.telegram,
            conversation,
            messages,
            db,
            media=media,
            pacer=pacers[Channel.TELEGRAM],
        )
        channels[Channel.TELEGRAM] = telegram
    if config.whatsapp.enabled:
        whatsapp = WhatsAppChannel(
            config.whatsapp,
            conversation,
            messages,
            db,
            media=media,
            pacer=pacers[Channel.WHATSAPP],
        )
        channels[Channel.WHATSAPP] = whatsapp
    if console is not None:
        channels[Channel.CONSOLE] = console
    dispatcher = Dispatcher(
        db,
        channels,
        messages,
        settings,
        clock=clock,
        max_attempts=config.notifications.max_attempts,
        lease=timedelta(seconds=config.notifications.lease_seconds),
        pacers=pacers,
    )
    jobs = Jobs(
        db,
        settings,
        clock,
        idle_close=timedelta(minutes=config.support.idle_close_minutes),
        keep_messages=timedelta(days=config.privacy.keep_messages_days),
        dunning=Dunning(
            remind_after=timedelta(hours=config.payment.remind_after_hours),
            overdue_after=timedelta(hours=config.payment.overdue_hours),
            auto_cancel=config.payment.auto_cancel,
        ),
        tracker=tracker if tracker is not None else _tracker(config),
        tracking=TrackingPolicy(
            poll=timedelta(minutes=config.tracking.poll_minutes),
            daily_quota=config.tracking.daily_quota,
            stuck=timedelta(days=config.tracking.stuck_days),
            timezone=config.shop.tz,
        ),
    )
    _schedule(scheduler, config, dispatcher, jobs)
    web = None
    telegram_webhook = telegram is not None and config.telegram.mode == "webhook"
    if telegram_webhook or whatsapp is not None:
        secret = config.telegram.webhook_secret
        web = create_web_app(
            db,
            telegram=telegram if telegram_webhook else None,
            telegram_secret=secret.get_secret_value() if secret else "",
            whatsapp=whatsapp,
            media=media,
            clock=clock,
            limits=BodyLimits(config.server.max_body_bytes, config.server.read_timeout_seconds),
        )
    return App(
        config=config,
        db=db,
        messages=messages,
        settings=settings,
        conversation=conversation,
        dispatcher=dispatcher,
        scheduler=scheduler,
        leadership=Leadership(db),
        telegram=telegram,
        whatsapp=whatsapp,
        web=web,
        jobs=jobs,
        tracker=jobs.tracker,
    )


def _media_relay(config: Config, channels: Mapping[Channel, ChatChannel]) -> MediaRelay | None:
    """Photos between platforms go through kabar's web server: it needs WhatsApp's public URL.

    Links are signed with the Twilio auth token, which every web worker of the shop shares.
    """
    token = config.whatsapp.auth_token
    if not config.whatsapp.enabled or token is None:
        return None
    return MediaRelay(token.get_secret_value().encode(), config.whatsapp.public_url, channels)


def _tracker(config: Config) -> Tracker | None:
    """The courier tracking provider `[tracking] provider` names; None for "none"."""
    tracking = config.tracking
    if tracking.provider == "none" or tracking.api_key is None:
        return None
    return BinderByte(
        tracking.api_key.get_secret_value(),
        base_url=tracking.api_base_url,
        couriers=tracking.couriers,
        timezone=config.shop.tz,
    )


def _schedule(
    scheduler: AsyncIOScheduler, config: Config, dispatcher: Dispatcher, jobs: Jobs
) -> None:
    """Add the dispatcher and the jobs, as often as the configuration says."""
    scheduler.add_job(
        dispatcher.tick,
        "interval",
        id=DISPATCH_JOB,
        seconds=config.scheduler.dispatch_interval_seconds,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=60,
    )
    scheduler.add_job(
        jobs.late_orders,
        "interval",
        minutes=config.scheduler.late_check_minutes,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=600,
    )
    scheduler.add_job(
        jobs.chase_unpaid,
        "interval",
        minutes=config.scheduler.late_check_minutes,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=600,
    )
    scheduler.add_job(
        jobs.tend_drafts,
        "interval",
        minutes=1,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=300,
    )
    scheduler.add_job(
        jobs.close_idle_threads,
        "interval",
        minutes=1,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=300,
    )
    scheduler.add_job(
        jobs.forget_old_messages,
        "cron",
        hour=3,
        minute=30,
        timezone=config.shop.tz,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    digest = config.scheduler.digest_at
    scheduler.add_job(
        jobs.morning_digest,
        "cron",
        hour=digest.hour,
        minute=digest.minute,
        timezone=config.shop.tz,
        coalesce=True,
        misfire_grace_time=3600,
    )
    if jobs.tracker is not None:
        scheduler.add_job(
            jobs.track_shipments,
            "interval",
            minutes=TRACK_EVERY_MINUTES,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=600,
        )
