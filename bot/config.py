"""Load kabar's TOML configuration, apply environment overrides and validate it."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Gt, Le
from babel.numbers import list_currencies
from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from handlers.faq import BUILT_IN

__all__ = [
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "NotificationsConfig",
    "OrdersConfig",
    "PaymentConfig",
    "PrivacyConfig",
    "SchedulerConfig",
    "ServerConfig",
    "ShopConfig",
    "SupportConfig",
    "TelegramConfig",
    "TrackingConfig",
    "WhatsAppConfig",
    "config_from_mapping",
    "load_config",
]

ENV_PREFIX = "KABAR_"
ENV_CONFIG_PATH = "KABAR_CONFIG"
DEFAULT_CONFIG_PATH = Path("config.toml")
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")

_HHMM = r"([01]\d|2[0-3]):([0-5]\d)"
_HHMM_RE = re.compile(_HHMM)
_RANGE_RE = re.compile(rf"{_HHMM}\s*-\s*{_HHMM}")
_BOT_USERNAME_RE = re.compile(r"[A-Za-z0-9_]{5,32}")
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_E164_RE = re.compile(r"\+[1-9]\d{6,14}")
_CONTENT_SID_RE = re.compile(r"HX[A-Za-z0-9]+")


class ConfigError(Exception):
    """A configuration problem, described in one line that names the key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message.replace("\r", " ").replace("\n", " "))
        self.key = key


def _show(value: object) -> str:
    """Render an input the way it would be written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _invalid(expected: str, *values: object) -> PydanticCustomError:
    """Build an 'expected X, got Y' error; pass no value to keep the input out of the message."""
    if not values:
        return PydanticCustomError("kabar", "expected {expected}", {"expected": expected})
    return PydanticCustomError(
        "kabar", "expected {expected}, got {got}", {"expected": expected, "got": _show(values[0])}
    )


def _required(key: str, when: str) -> PydanticCustomError:
    """Build a 'required when ...' error for the sibling field `key`."""
    return PydanticCustomError("kabar", "required when {when}", {"key": key, "when": when})


def _expected(description: str, *, numeric: bool = False) -> WrapValidator:
    """Report any failure of the wrapped type as 'expected <description>, got <input>'."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # Lax mode turns true into 1; a boolean where a number belongs is a typo.
        if numeric and isinstance(value, bool):
            raise _invalid(description, value)
        try:
            return handler(value)
        except ValidationError:
            raise _invalid(description, value) from None

    return WrapValidator(validate)


def _lower(value: Any) -> Any:
    """Lower-case strings so choices are case-insensitive."""
    return value.strip().lower() if isinstance(value, str) else value


def _empty_to_none(value: Any) -> Any:
    """Treat an empty secret as unset, since TOML has no null."""
    return None if value == "" else value


def _check_url(value: str) -> str:
    """Accept an absolute http(s) URL or an empty string; drop a trailing slash."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise _invalid("an http(s) URL", value)
    return value.rstrip("/")


def _check_timezone(value: str) -> str:
    """Accept only time zone names that zoneinfo can load."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _invalid("an IANA time zone name like Asia/Jakarta", value) from None
    return value


def _check_currency(value: str) -> str:
    """Accept a 3-letter ISO 4217 code that Babel can format."""
    code = value.strip().upper()
    if len(code) != 3 or code not in list_currencies():
        raise _invalid("a 3-letter ISO 4217 currency code like IDR", value)
    return code


def _parse_range(value: str) -> tuple[time, time] | None:
    """Parse 'HH:MM-HH:MM' into its two times; return None for an empty string."""
    if not value.strip():
        return None
    match = _RANGE_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(value)
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    return time(h1, m1), time(h2, m2)


def _check_quiet_hours(value: str) -> str:
    """Accept 'HH:MM-HH:MM' with distinct ends, or '' for no quiet hours."""
    expected = "'HH:MM-HH:MM' (like '21:00-07:00') or '' for none"
    try:
        bounds = _parse_range(value)
    except ValueError:
        raise _invalid(expected, value) from None
    if bounds is None:
        return ""
    start, end = bounds
    if start == end:
        raise _invalid(f"{expected}, with different start and end", value)
    return f"{start:%H:%M}-{end:%H:%M}"


def _check_hhmm(value: str) -> str:
    """Accept a 24-hour 'HH:MM' time of day."""
    if not _HHMM_RE.fullmatch(value.strip()):
        raise _invalid("a time of day 'HH:MM' like '08:00'", value)
    return value.strip()


def _check_database_url(value: str) -> str:
    """Accept only the two async drivers kabar supports, keeping passwords out of errors."""
    expected = "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/NAME"
    try:
        url = make_url(value)
    except ArgumentError:
        raise _invalid(expected) from None
    if url.drivername not in DATABASE_DRIVERS:
        raise _invalid(expected, url.render_as_string(hide_password=True))
    return value


def _check_bot_username(value: str) -> str:
    """Accept a Telegram bot username (a leading @ is dropped) or ''."""
    name = value.strip().removeprefix("@")
    if name and not _BOT_USERNAME_RE.fullmatch(name):
        raise _invalid("the bot's username: 5-32 letters, digits or _", value)
    return name


def _check_webhook_secret(value: SecretStr | None) -> SecretStr | None:
    """Accept the characters Telegram allows in a webhook secret token."""
    if value is not None and not _WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
        raise _invalid("1-256 characters from A-Z, a-z, 0-9, _ and -")
    return value


def _check_e164(value: str) -> str:
    """Accept an E.164 phone number (a 'whatsapp:' prefix is dropped) or ''."""
    number = value.strip().removeprefix("whatsapp:")
    if number and not _E164_RE.fullmatch(number):
        raise _invalid("an E.164 number like +6281234567890", value)
    return number


def _check_content_sid(value: str) -> str:
    """Accept a Twilio Content SID."""
    if not _CONTENT_SID_RE.fullmatch(value):
        raise _invalid("a Twilio Content SID starting with HX", value)
    return value


Flag = Annotated[bool, _expected("true or false")]
Url = Annotated[str, AfterValidator(_check_url)]
Secret = Annotated[SecretStr | None, BeforeValidator(_empty_to_none)]
Language = Literal["id", "en"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_text(value: str) -> str:
    """Accept text with something in it."""
    if not value.strip():
        raise _invalid("some text in quotes", value)
    return value.strip()


Text = Annotated[str, AfterValidator(_check_text)]
_FAQ_KEY_RE = re.compile(r"[a-z0-9_]{1,32}")


class FaqEntry(_Section):
    """One of the shop's answers to a common question, and the words that ask it."""

    id: Text
    en: str = ""
    words: list[Text] = Field(default_factory=list)
    title: str = ""


def _check_faq(value: dict[str, FaqEntry]) -> dict[str, FaqEntry]:
    """Accept topic names of lower-case letters, digits and _; own topics need their words."""
    for key, entry in value.items():
        if not _FAQ_KEY_RE.fullmatch(key):
            raise PydanticCustomError(
                "kabar", "topic names are 1-32 of a-z, 0-9 and _", {"key": key}
            )
        if key not in BUILT_IN and not entry.words:
            raise PydanticCustomError(
                "kabar",
                "a topic of your own needs words = [...] that ask for it"
                " (kabar knows the words of: " + ", ".join(BUILT_IN) + ")",
                {"key": key},
            )
    return value


_PREFIX_RE = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,15}")


def _check_prefix(value: str) -> str:
    """Accept the start of an order code: letters, digits and . _ / - (up to 16)."""
    prefix = value.strip().upper()
    if not _PREFIX_RE.fullmatch(prefix):
        raise _invalid("1-16 letters, digits or . _ / - like 'INV-'", value)
    return prefix


class ShopConfig(_Section):
    """Shop identity and local conventions."""

    name: str = "Toko Kabar"
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "Asia/Jakarta"
    default_language: Annotated[Language, BeforeValidator(_lower), _expected("one of id, en")] = (
        "id"
    )
    currency: Annotated[str, AfterValidator(_check_currency)] = "IDR"
    quiet_hours: Annotated[str, AfterValidator(_check_quiet_hours)] = "21:00-07:00"
    messages_file: str = ""
    faq: Annotated[dict[str, FaqEntry], AfterValidator(_check_faq)] = Field(default_factory=dict)
    order_prefix: Annotated[str, AfterValidator(_check_prefix)] = "INV-"

    @property
    def tz(self) -> ZoneInfo:
        """Return the shop's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def quiet_hours_range(self) -> tuple[time, time] | None:
        """Return (start, end) of quiet hours in shop time, or None when they are off."""
        return _parse_range(self.quiet_hours)


class DatabaseConfig(_Section):
    """Where kabar keeps its data."""

    url: Annotated[str, AfterValidator(_check_database_url)] = "sqlite+aiosqlite:///kabar.db"

    def __repr_args__(self) -> Any:
        """Yield fields for repr with the URL's password masked."""
        yield "url", make_url(self.url).render_as_string(hide_password=True)


class TelegramConfig(_Section):
    """The Telegram bot channel."""

    enabled: Flag = False
    token: Secret = None
    bot_username: Annotated[str, AfterValidator(_check_bot_username)] = ""
    mode: Annotated[
        Literal["polling", "webhook"], BeforeValidator(_lower), _expected("one of polling, webhook")
    ] = "polling"
    webhook_url: Url = ""
    webhook_secret: Annotated[Secret, AfterValidator(_check_webhook_secret)] = None
    api_base_url: Url = "https://api.telegram.org/bot"

    @model_validator(mode="after")
    def _check_required(self) -> TelegramConfig:
        """Require what an enabled channel needs to start."""
        if not self.enabled:
            return self
        if self.token is None:
            raise _required("token", "telegram.enabled is true")
        if self.mode == "webhook":
            if not self.webhook_url:
                raise _required("webhook_url", "telegram.mode is webhook")
            if self.webhook_secret is None:
                raise _required("webhook_secret", "telegram.mode is webhook")
        return self


class WhatsAppConfig(_Section):
    """The WhatsApp channel through Twilio."""

    enabled: Flag = False
    account_sid: str = ""
    auth_token: Secret = None
    from_number: Annotated[str, AfterValidator(_check_e164)] = ""
    public_url: Url = ""
    api_base_url: Url = "https://api.twilio.com"
    templates: dict[str, Annotated[str, AfterValidator(_check_content_sid)]] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _check_required(self) -> WhatsAppConfig:
        """Require what an enabled channel needs to start."""
        if not self.enabled:
            return self
        for key in ("account_sid", "auth_token", "from_number", "public_url"):
            if not getattr(self, key):
                raise _required(key, "whatsapp.enabled is true")
        return self


class ServerConfig(_Section):
    """The HTTP server that receives webhooks."""

    host: str = "127.0.0.1"
    port: Annotated[
        int, Ge(1), Le(65535), _expected("an integer from 1 to 65535", numeric=True)
    ] = 8080
    max_body_bytes: Annotated[int, Ge(1024), _expected("an integer >= 1024", numeric=True)] = (
        1024 * 1024
    )
    limit_concurrency: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 2048
    read_timeout_seconds: Annotated[
        float, Gt(0), AllowInfNan(False), _expected("a number > 0", numeric=True)
    ] = 10.0


class NotificationsConfig(_Section):
    """How notifications are held, paced and retried."""

    undo_seconds: Annotated[int, Ge(0), _expected("an integer >= 0", numeric=True)] = 30
    telegram_per_second: Annotated[int, Gt(0), _expected("an integer > 0", numeric=True)] = 30
    telegram_per_chat_per_second: Annotated[
        float, Gt(0), AllowInfNan(False), _expected("a number > 0", numeric=True)
    ] = 1.0
    whatsapp_per_second: Annotated[int, Gt(0), _expected("an integer > 0", numeric=True)] = 10
    max_attempts: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 8
    lease_seconds: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 60


class SchedulerConfig(_Section):
    """How often the background jobs run."""

    dispatch_interval_seconds: Annotated[
        float, Gt(0), AllowInfNan(False), _expected("a number > 0", numeric=True)
    ] = 1.0
    late_check_minutes: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 15
    digest_time: Annotated[str, AfterValidator(_check_hhmm)] = "08:00"

    @property
    def digest_at(self) -> time:
        """Return the shop-time time of day of the morning digest."""
        return time.fromisoformat(self.digest_time)


def _check_hours(value: str) -> str:
    """Accept 'HH:MM-HH:MM' with distinct ends, or '' for any time."""
    expected = "'HH:MM-HH:MM' (like '08:00-21:00') or '' for any time"
    try:
        bounds = _parse_range(value)
    except ValueError:
        raise _invalid(expected, value) from None
    if bounds is None:
        return ""
    if bounds[0] == bounds[1]:
        raise _invalid(f"{expected}, with different start and end", value)
    return f"{bounds[0]:%H:%M}-{bounds[1]:%H:%M}"


class SupportConfig(_Section):
    """The front desk: when people answer handed-over chats, and what asks for them."""

    hours: Annotated[str, AfterValidator(_check_hours)] = "08:00-21:00"
    words: list[Text] = Field(default_factory=list)
    idle_close_minutes: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 120

    @property
    def hours_range(self) -> tuple[time, time] | None:
        """Return (start, end) of the hours in shop time, or None for any time."""
        return _parse_range(self.hours)


class BankAccount(_Section):
    """One account customers may transfer to."""

    bank: Text
    number: Text
    holder: Text


FLOWS = ("ready_stock", "made_to_order", "dropship")


def _check_flows(value: bool | dict[str, bool]) -> bool | dict[str, bool]:
    """Accept true/false for every flow, or a table naming flows."""
    if isinstance(value, dict):
        for flow in value:
            if flow not in FLOWS:
                raise PydanticCustomError(
                    "kabar", "expected one of " + ", ".join(FLOWS), {"key": flow}
                )
    return value


class PaymentConfig(_Section):
    """How customers pay, and what waits for their money."""

    accounts: list[BankAccount] = Field(default_factory=list)
    qris_image: str = ""
    note: str = ""
    unique_code: Flag = False
    ship_before_paid: Annotated[
        bool | dict[str, Flag], AfterValidator(_check_flows), _expected("true, false or a table")
    ] = False
    remind_after_hours: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 24
    overdue_hours: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 72
    auto_cancel: Flag = False

    @property
    def ship_unpaid(self) -> frozenset[str]:
        """The flows that may be packed and shipped before they are paid."""
        if isinstance(self.ship_before_paid, bool):
            return frozenset(FLOWS) if self.ship_before_paid else frozenset()
        return frozenset(flow for flow, allowed in self.ship_before_paid.items() if allowed)

    @model_validator(mode="after")
    def _check_image(self) -> PaymentConfig:
        """A QRIS image must be a file kabar can read."""
        if self.qris_image and not Path(self.qris_image).is_file():
            raise PydanticCustomError(
                "kabar", "no such file {path}", {"key": "qris_image", "path": self.qris_image}
            )
        return self


class OrdersConfig(_Section):
    """Orders placed in chat."""

    customers_can_order: Flag = True
    draft_minutes: Annotated[int, Ge(5), _expected("an integer >= 5", numeric=True)] = 60


class PrivacyConfig(_Section):
    """What kabar keeps about people, and for how long."""

    keep_messages_days: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 90
    link_code_days: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 60


# kabar's couriers (as `/kirim` names them) to BinderByte's courier codes.
DEFAULT_COURIERS = {
    "JNE": "jne",
    "J&T": "jnt",
    "JNT Cargo": "jnt_cargo",
    "SiCepat": "sicepat",
    "AnterAja": "anteraja",
    "POS Indonesia": "pos",
    "Ninja Xpress": "ninja",
    "ID Express": "ide",
    "Lion Parcel": "lion",
    "SAP Express": "sap",
    "Wahana": "wahana",
    "TIKI": "tiki",
}
_COURIER_CODE_RE = re.compile(r"[a-z0-9_]{0,32}")


def _check_couriers(value: dict[str, str]) -> dict[str, str]:
    """Accept provider codes of a-z, 0-9 and _ ("" stops tracking that courier), over the
    defaults."""
    for name, code in value.items():
        if not name.strip():
            raise PydanticCustomError("kabar", "a courier needs a name", {"key": name})
        if not _COURIER_CODE_RE.fullmatch(code):
            raise PydanticCustomError(
                "kabar",
                "expected the provider's courier code (a-z, 0-9, _) or '' for none, got {got}",
                {"key": name, "got": _show(code)},
            )
    return {**DEFAULT_COURIERS, **value}


class TrackingConfig(_Section):
    """Courier tracking: who to ask, how often, and how much a day."""

    provider: Annotated[
        Literal["none", "binderbyte"], BeforeValidator(_lower), _expected("one of none, binderbyte")
    ] = "none"
    api_key: Secret = None
    api_base_url: Url = "https://api.binderbyte.com"
    poll_minutes: Annotated[int, Ge(5), _expected("an integer >= 5", numeric=True)] = 120
    daily_quota: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 500
    stuck_days: Annotated[int, Ge(1), _expected("an integer >= 1", numeric=True)] = 4
    couriers: Annotated[dict[str, str], AfterValidator(_check_couriers)] = Field(
        default_factory=lambda: dict(DEFAULT_COURIERS)
    )

    @model_validator(mode="after")
    def _check_required(self) -> TrackingConfig:
        """Require the key a provider needs."""
        if self.provider != "none" and self.api_key is None:
            raise _required("api_key", f"tracking.provider is {self.provider}")
        return self


class Config(_Section):
    """The whole kabar configuration."""

    shop: ShopConfig = Field(default_factory=ShopConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    whatsapp: WhatsAppConfig = Field(default_factory=WhatsAppConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    support: SupportConfig = Field(default_factory=SupportConfig)
    payment: PaymentConfig = Field(default_factory=PaymentConfig)
    orders: OrdersConfig = Field(default_factory=OrdersConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)


_FALLBACK_MESSAGES = {
    "string_type": "expected a string (in quotes)",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "missing": "required",
}


def _config_error(exc: ValidationError) -> ConfigError:
    """Turn the first pydantic error into a one-line ConfigError without echoing input."""
    error = exc.errors(include_url=False, include_input=False)[0]
    ctx = error.get("ctx") or {}
    loc = [str(part) for part in error["loc"]]
    if "key" in ctx:
        loc.append(str(ctx["key"]))
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        return ConfigError(
            f"unknown key {key}" if len(loc) > 1 else f"unknown section [{key}]", key
        )
    if error["type"] == "kabar":
        problem = error["msg"]
    else:
        problem = _FALLBACK_MESSAGES.get(error["type"], f"invalid value ({error['msg']})")
    return ConfigError(f"{key}: {problem}" if key else problem, key or None)


def config_from_mapping(data: Mapping[str, Any]) -> Config:
    """Validate a parsed configuration mapping into a Config."""
    try:
        return Config.model_validate(dict(data))
    except ValidationError as exc:
        raise _config_error(exc) from None


def _env_overrides(environ: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Collect KABAR_<SECTION>__<KEY>[__...] variables as key paths."""
    overrides: dict[tuple[str, ...], str] = {}
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = tuple(name[len(ENV_PREFIX) :].lower().split("__"))
        if not all(path):
            raise ConfigError(f"{name}: empty key between double underscores")
        overrides[path] = environ[name]
    return overrides


def _apply_overrides(data: dict[str, Any], overrides: Mapping[tuple[str, ...], str]) -> None:
    """Set each override's value in the nested mapping, creating tables on the way."""
    for path, value in overrides.items():
        table = data
        for part in path[:-1]:
            if not isinstance(table.get(part), dict):
                # Replacing a non-table lets validation report the key's real type.
                table[part] = {}
            table = table[part]
        table[path[-1]] = value


def _read_toml(path: Path) -> dict[str, Any]:
    """Read and parse a TOML file, reporting problems in one line."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {path} (copy config.example.toml to start)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None


def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the config file, apply KABAR_<SECTION>__<KEY> overrides and validate."""
    env = os.environ if environ is None else environ
    if path is None:
        path = env.get(ENV_CONFIG_PATH) or DEFAULT_CONFIG_PATH
    data = _read_toml(Path(path))
    overrides = _env_overrides(env)
    _apply_overrides(data, overrides)
    try:
        return config_from_mapping(data)
    except ConfigError as exc:
        for override in overrides:
            dotted = ".".join(override)
            if exc.key and (dotted == exc.key or dotted.startswith(exc.key + ".")):
                variable = ENV_PREFIX + "__".join(override).upper()
                raise ConfigError(f"{exc} (from {variable})", exc.key) from None
        raise
