"""Tests for loading and validating kabar's configuration."""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from bot.config import Config, ConfigError, config_from_mapping, load_config
from handlers.faq import ABOUT_PRODUCTS, BUILT_IN

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SECRET = "Zq9-very-distinctive-secret_7781"


def write(tmp_path: Path, text: str) -> Path:
    """Write a config file and return its path."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_from(data: dict[str, Any]) -> str:
    """Return the one-line message of the ConfigError that `data` raises."""
    with pytest.raises(ConfigError) as excinfo:
        config_from_mapping(data)
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def load_error(path: Path | str, environ: dict[str, str] | None = None) -> str:
    """Return the one-line message of the ConfigError that loading `path` raises."""
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, environ=environ or {})
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_example_config_loads_as_is_with_the_code_defaults() -> None:
    config = load_config(EXAMPLE, environ={})

    # The example ships answers to edit; a shop without [shop.faq] answers none of its own.
    # What products are like (material, sizes) no starter answer can say: a person answers.
    assert set(config.shop.faq) == set(BUILT_IN) - ABOUT_PRODUCTS
    assert Config().shop.faq == {}
    without_faq = config.model_copy(update={"shop": config.shop.model_copy(update={"faq": {}})})
    assert without_faq == Config()
    assert config.telegram.enabled is False
    assert config.whatsapp.enabled is False


def test_every_config_key_is_documented_in_the_example() -> None:
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))

    for section, field in Config.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert section in example, f"[{section}] missing from config.example.toml"
        for key in model.model_fields:
            assert key in example[section], f"{section}.{key} missing from config.example.toml"


def test_missing_sections_take_defaults() -> None:
    config = config_from_mapping({})

    assert config.shop.name == "Toko Kabar"
    assert config.shop.tz == ZoneInfo("Asia/Jakarta")
    assert config.shop.quiet_hours_range == (time(21, 0), time(7, 0))
    assert config.database.url == "sqlite+aiosqlite:///kabar.db"
    assert config.server.port == 8080
    assert config.notifications.undo_seconds == 30
    assert config.scheduler.digest_at == time(8, 0)
    assert config.whatsapp.templates == {}


def test_environment_overrides_a_scalar_and_coerces_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[shop]\nname = "From file"\n[server]\nport = 8080\n')
    environ = {"KABAR_SHOP__NAME": "From env", "KABAR_SERVER__PORT": "9000"}

    config = load_config(path, environ=environ)

    assert config.shop.name == "From env"
    assert config.server.port == 9000


def test_environment_overrides_a_bool_with_case_insensitive_names(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegram]\nenabled = false\n")
    environ = {"kabar_telegram__enabled": "true", "KABAR_TELEGRAM__TOKEN": SECRET}

    config = load_config(path, environ=environ)

    assert config.telegram.enabled is True
    assert config.telegram.token is not None
    assert config.telegram.token.get_secret_value() == SECRET


def test_environment_sets_a_whatsapp_template(tmp_path: Path) -> None:
    path = write(tmp_path, '[whatsapp.templates]\nback_in_stock = "HX999"\n')
    environ = {"KABAR_WHATSAPP__TEMPLATES__ORDER_UPDATE": "HX123"}

    config = load_config(path, environ=environ)

    assert config.whatsapp.templates == {"back_in_stock": "HX999", "order_update": "HX123"}


def test_variables_without_double_underscore_are_not_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    environ = {"KABAR_TEST_DATABASE_URL": "postgresql+asyncpg://x/y", "KABAR_DEBUG": "1"}

    assert load_config(path, environ=environ) == Config()


def test_kabar_config_variable_chooses_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[shop]\nname = "Chosen"\n')

    config = load_config(environ={"KABAR_CONFIG": str(path)})

    assert config.shop.name == "Chosen"


def test_unknown_key_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, ""), {"KABAR_SHOP__COLOUR": "red"})

    assert message == "unknown key shop.colour (from KABAR_SHOP__COLOUR)"


def test_missing_token_when_telegram_is_enabled_names_telegram_token() -> None:
    message = error_from({"telegram": {"enabled": True, "token": ""}})

    assert message == "telegram.token: required when telegram.enabled is true"


def test_webhook_mode_requires_url_and_secret() -> None:
    enabled = {"enabled": True, "token": SECRET, "mode": "webhook"}

    assert error_from({"telegram": enabled}).startswith("telegram.webhook_url: required")
    with_url = {**enabled, "webhook_url": "https://shop.example.com/telegram/webhook"}
    assert error_from({"telegram": with_url}).startswith("telegram.webhook_secret: required")


def test_enabled_whatsapp_requires_its_account() -> None:
    message = error_from({"whatsapp": {"enabled": True, "account_sid": "AC1"}})

    assert message == "whatsapp.auth_token: required when whatsapp.enabled is true"


def test_bad_url_names_the_key() -> None:
    message = error_from({"telegram": {"webhook_url": "ftp://x"}})

    assert message == "telegram.webhook_url: expected an http(s) URL, got 'ftp://x'"


def test_unknown_language_names_shop_default_language() -> None:
    message = error_from({"shop": {"default_language": "fr"}})

    assert message == "shop.default_language: expected one of id, en, got 'fr'"


def test_unknown_key_in_the_file_names_it(tmp_path: Path) -> None:
    message = load_error(write(tmp_path, '[shop]\ncolour = "red"\n'))

    assert message == "unknown key shop.colour"


def test_bad_timezone_names_shop_timezone() -> None:
    message = error_from({"shop": {"timezone": "Asia/Atlantis"}})

    assert message.startswith("shop.timezone: expected an IANA time zone")
    assert "'Asia/Atlantis'" in message


@pytest.mark.parametrize("value", ["21:00", "25:00-07:00", "21.00-07.00", "07:00-07:00", "night"])
def test_bad_quiet_hours_names_shop_quiet_hours(value: str) -> None:
    message = error_from({"shop": {"quiet_hours": value}})

    assert message.startswith("shop.quiet_hours: expected 'HH:MM-HH:MM'")


def test_empty_quiet_hours_turn_them_off() -> None:
    config = config_from_mapping({"shop": {"quiet_hours": ""}})

    assert config.shop.quiet_hours_range is None


def test_bad_integer_names_the_key_and_the_value() -> None:
    message = error_from({"notifications": {"undo_seconds": "abc"}})

    assert message == "notifications.undo_seconds: expected an integer >= 0, got 'abc'"


def test_boolean_is_not_accepted_as_a_number() -> None:
    message = error_from({"server": {"port": True}})

    assert message == "server.port: expected an integer from 1 to 65535, got true"


def test_unsupported_database_driver_names_the_allowed_forms() -> None:
    message = error_from({"database": {"url": "mysql://shop@db/kabar"}})

    assert message.startswith("database.url: expected sqlite+aiosqlite:///")
    assert "postgresql+asyncpg://" in message


def test_bad_template_sid_names_the_template() -> None:
    message = error_from({"whatsapp": {"templates": {"order_update": "abc"}}})

    assert message.startswith("whatsapp.templates.order_update: expected a Twilio Content SID")


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"

    message = load_error(path)

    assert message == f"config file not found: {path} (copy config.example.toml to start)"


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[shop]\nname = \n")

    message = load_error(path)

    assert message.startswith(f"{path}: invalid TOML: ")
    assert "line 2" in message


def test_secrets_never_appear_in_repr() -> None:
    config = config_from_mapping(
        {
            "database": {"url": f"postgresql+asyncpg://kabar:{SECRET}@db/kabar"},
            "telegram": {"token": SECRET, "webhook_secret": SECRET},
            "whatsapp": {"auth_token": SECRET},
        }
    )

    assert SECRET not in repr(config)
    assert SECRET not in str(config)


@pytest.mark.parametrize(
    "data",
    [
        {"telegram": {"webhook_secret": SECRET + " with spaces!"}},
        {"telegram": {"token": 8127736151}},
        {"whatsapp": {"auth_token": ["not", SECRET]}},
        {"database": {"url": f"mysql://kabar:{SECRET}@db/kabar"}},
        {"database": {"url": f"not a url {SECRET}"}},
        {"telegram": {"enabled": True, "token": SECRET, "mode": "webhook"}},
    ],
)
def test_secrets_never_appear_in_error_messages(data: dict[str, Any]) -> None:
    message = error_from(data)

    assert SECRET not in message
    assert "8127736151" not in message


def test_shop_faq_topics_are_checked_with_one_line_naming_the_key() -> None:
    assert error_from({"shop": {"faq": {"cod": {"id": "  "}}}}) == (
        "shop.faq.cod.id: expected some text in quotes, got '  '"
    )
    assert error_from({"shop": {"faq": {"cod": {"en": "COD ok"}}}}) == "shop.faq.cod.id: required"
    assert error_from({"shop": {"faq": {"sablon": {"id": "Bisa sablon custom"}}}}).startswith(
        "shop.faq.sablon: a topic of your own needs words = [...] that ask for it"
    )
    assert error_from({"shop": {"faq": {"Sablon!": {"id": "x", "words": ["sablon"]}}}}) == (
        "shop.faq.Sablon!: topic names are 1-32 of a-z, 0-9 and _"
    )
    config = config_from_mapping({"shop": {"faq": {"sablon": {"id": "x", "words": ["custom"]}}}})
    assert config.shop.faq["sablon"].words == ["custom"]
    # promo is one kabar knows the words of: it needs none.
    config = config_from_mapping({"shop": {"faq": {"promo": {"id": "Diskon 10%"}}}})
    assert config.shop.faq["promo"].words == []


def test_tracking_is_off_until_a_provider_and_its_key_are_set(tmp_path: Path) -> None:
    assert Config().tracking.provider == "none"
    assert error_from({"tracking": {"provider": "binderbyte"}}) == (
        "tracking.api_key: required when tracking.provider is binderbyte"
    )
    path = write(tmp_path, '[tracking]\nprovider = "BinderByte"\napi_key = ""\n')
    config = load_config(path, environ={"KABAR_TRACKING__API_KEY": SECRET})
    tracking = config.tracking
    assert tracking.provider == "binderbyte"
    assert tracking.api_key is not None and tracking.api_key.get_secret_value() == SECRET
    assert (tracking.poll_minutes, tracking.daily_quota, tracking.stuck_days) == (120, 500, 4)
    assert tracking.api_base_url == "https://api.binderbyte.com"
    assert SECRET not in repr(config)


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        (
            {"provider": "aftership"},
            "tracking.provider: expected one of none, binderbyte, got 'aftership'",
        ),
        ({"poll_minutes": 1}, "tracking.poll_minutes: expected an integer >= 5, got 1"),
        ({"daily_quota": 0}, "tracking.daily_quota: expected an integer >= 1, got 0"),
        ({"stuck_days": "four"}, "tracking.stuck_days: expected an integer >= 1, got 'four'"),
        (
            {"api_base_url": "binderbyte.com"},
            "tracking.api_base_url: expected an http(s) URL, got 'binderbyte.com'",
        ),
        (
            {"couriers": {"JNE": "JNE Express"}},
            "tracking.couriers.JNE: expected the provider's courier code (a-z, 0-9, _)"
            " or '' for none, got 'JNE Express'",
        ),
        ({"colour": "red"}, "unknown key tracking.colour"),
    ],
)
def test_a_bad_tracking_key_fails_in_one_line_naming_it(
    tracking: dict[str, Any], message: str
) -> None:
    assert error_from({"tracking": tracking}) == message


def test_couriers_of_your_own_go_over_the_defaults() -> None:
    config = config_from_mapping(
        {"tracking": {"couriers": {"Shopee Express": "spx", "TIKI": "", "JNE": "jne"}}}
    )
    couriers = config.tracking.couriers
    assert couriers["Shopee Express"] == "spx" and couriers["TIKI"] == ""
    assert (couriers["J&T"], couriers["SiCepat"]) == ("jnt", "sicepat")
