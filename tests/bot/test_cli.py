"""The `kabar` command line, run as an operator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from handlers.context import Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages
from handlers.types import Incoming
from models.enums import Channel
from models.schema import head_revision
from models.storage import Database

PRODUCTS = """sku,name,variant,price,reseller_price,stock,fulfillment,stages
KAOS-HTM-XL,Kaos Polos,Hitam XL,85000,70000,10,ready_stock,
BATIK-PRM,Kemeja Batik,Premium M,350000,300000,,made_to_order,potong:1d;jahit:2d;qc:4h
"""
ORDERS = """code,customer_name,customer_phone,sku,qty,reseller,language
INV-1001,Sari,0812-3456-7890,KAOS-HTM-XL,2,,id
INV-1002,Rina,+62 813 9999 0000,BATIK-PRM,1,MAWAR,en
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a config.toml pointing at a fresh SQLite file."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("KABAR_"):
            monkeypatch.delenv(name)
    (tmp_path / "config.toml").write_text(
        '[database]\nurl = "sqlite+aiosqlite:///shop.db"\n'
        '[telegram]\nbot_username = "tokokabar_bot"\n'
        '[whatsapp]\nfrom_number = "+6281100001111"\n',
        encoding="utf-8",
    )
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    return tmp_path


def kabar(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_new_shop_is_set_up_from_the_command_line(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kabar(capsys, "init-db")[0] == 0
    code, out, _ = kabar(capsys, "init-db")  # again: an upgrade with nothing to do
    assert code == 0 and f"revision {head_revision()}" in out
    code, out, _ = kabar(capsys, "import", "products", "products.csv")
    assert code == 0 and "2 products created" in out
    assert kabar(capsys, "reseller", "add", "mawar", "--name", "Mawar Batik Store")[0] == 1
    code, out, err = kabar(
        capsys, "reseller", "add", "mawar", "--name", "Mawar Batik Store", "--telegram-id", "7007"
    )
    assert code == 0 and "MAWAR" in out, err
    code, _, _ = kabar(capsys, "staff", "add", "--name", "Dewi", "--phone", "0812-1111-2222")
    assert code == 0
    code, _, err = kabar(capsys, "staff", "add", "--name", "Dewi", "--phone", "+6281211112222")
    assert code == 1 and err.count("\n") == 1 and "exists" in err
    for name in ("De\x00wi", "De\udc80wi", " ", "D" * 201):
        code, out, err = kabar(capsys, "staff", "add", "--name", name, "--telegram-id", "9")
        assert code == 1 and err.count("\n") == 1 and err.startswith("kabar: --name: "), err
    code, out, _ = kabar(capsys, "import", "orders", "orders.csv")
    assert code == 0 and "2 orders created" in out
    code, out, _ = kabar(capsys, "import", "orders", "orders.csv")
    assert code == 0 and "0 orders created" in out and "2 unchanged" in out

    code, out, _ = kabar(capsys, "order", "links", "inv-1001", "--json")
    links = json.loads(out)
    assert code == 0 and set(links) == {"code", "telegram", "whatsapp"}
    assert links["telegram"] == f"https://t.me/tokokabar_bot?start={links['code']}"
    assert links["whatsapp"] == f"https://wa.me/6281100001111?text=kabar%20{links['code']}"
    assert len(links["code"]) >= 16
    code, _, err = kabar(capsys, "order", "links", "INV-404")
    assert code == 1 and err == "kabar: order INV-404 not found\n"


def test_forgetting_a_customer_is_one_line_and_an_unknown_number_fails(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kabar(capsys, "init-db")
    kabar(capsys, "import", "products", "products.csv")
    kabar(capsys, "reseller", "add", "mawar", "--name", "Mawar", "--telegram-id", "7007")
    assert kabar(capsys, "import", "orders", "orders.csv")[0] == 0
    code, out, err = kabar(capsys, "customer", "forget", "0812-3456-7890")
    assert code == 0, err
    assert out == (
        "customer +6281******890 forgotten: 0 chats and 0 messages deleted, "
        "1 orders kept without a name or number\n"
    )
    code, out, err = kabar(capsys, "customer", "forget", "0812-3456-7890")
    assert (code, out) == (1, "")
    assert err == "kabar: no customer has the number +6281******890\n"
    code, _, err = kabar(capsys, "customer", "forget", "not a number")
    assert code == 1 and err.count("\n") == 1
    code, out, _ = kabar(capsys, "order", "links", "INV-1001")
    assert code == 0  # the order stays


def test_bad_rows_are_listed_with_line_numbers_and_exit_1(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kabar(capsys, "init-db")
    kabar(capsys, "import", "products", "products.csv")
    (shop / "bad.csv").write_text(
        ORDERS.replace("0812-3456-7890", "12").replace("MAWAR", ""), encoding="utf-8"
    )
    code, _, err = kabar(capsys, "import", "orders", "bad.csv")
    assert code == 1
    assert err.splitlines() == [
        "bad.csv:2: customer_phone: '**' is not a phone number",  # masked
        "kabar: 1 bad row(s); nothing was imported",
    ]
    code, _out, err = kabar(capsys, "order", "links", "INV-1002")
    assert code == 1  # the good row of the rejected file was not written either


def test_rows_a_database_would_refuse_are_named_with_their_lines_and_nothing_is_written(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kabar(capsys, "init-db")
    header = PRODUCTS.splitlines()[0]
    bad = ["K1,Ka\x00os,,5,,1,ready_stock,"] + [
        f"K{n},Kaos,,{price},,1,ready_stock," for n, price in enumerate(
            ["NaN", "1e309", "0.001", "-5", "1000000000000"], start=2
        )
    ]  # fmt: skip
    (shop / "bad.csv").write_text("\n".join([header, "OK-1,Kaos,,5,,1,ready_stock,", *bad]))
    code, out, err = kabar(capsys, "import", "products", "bad.csv")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "bad.csv:3: name: contains a NUL byte",
        "bad.csv:4: price: expected a number like 350000, got 'NaN'",
        "bad.csv:5: price: expected less than 1,000,000,000,000, got '1e309'",
        "bad.csv:6: price: expected at most two decimals, got '0.001'",
        "bad.csv:7: price: expected 0 or more, got '-5'",
        "bad.csv:8: price: expected less than 1,000,000,000,000, got '1000000000000'",
        "kabar: 6 bad row(s); nothing was imported",
    ]
    code, out, _ = kabar(capsys, "import", "products", "products.csv")
    assert code == 0 and "2 products created" in out  # OK-1 was not written either


def test_commands_refuse_an_uninitialised_database_in_one_line(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = kabar(capsys, "import", "products", "products.csv")
    assert code == 1
    assert err == "kabar: the database is not initialised or is outdated: run `kabar init-db`\n"


def test_a_wrong_config_key_fails_with_one_line(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "config.toml").write_text("[telegram]\nenabled = true\n", encoding="utf-8")
    code, _, err = kabar(capsys, "init-db")
    assert code == 1
    assert err.count("\n") == 1 and "telegram.token" in err
    code, _, err = kabar(capsys, "--config", "missing.toml", "init-db")
    assert code == 1 and "missing.toml" in err


def test_config_path_comes_from_the_environment(
    shop: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (shop / "other.toml").write_text('[database]\nurl = "sqlite+aiosqlite:///other.db"\n')
    monkeypatch.setenv("KABAR_CONFIG", "other.toml")
    assert kabar(capsys, "init-db")[0] == 0
    assert (shop / "other.db").exists() and not (shop / "shop.db").exists()


def test_run_with_no_channel_enabled_says_so(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kabar(capsys, "init-db")
    code, _, err = kabar(capsys, "run")
    assert code == 1
    assert err == "kabar: nothing to run: set telegram.enabled (or whatsapp.enabled) to true\n"


def test_demo_script_needs_no_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml here
    code, out, err = kabar(capsys, "demo", "--script")
    assert code == 0, err
    assert "📩 rina ◂ Mawar Batik Store · Order DS-2001" in out
    assert not list(tmp_path.iterdir())  # the demo's database was a throwaway


def test_python_dash_m_bot_is_the_same_cli(shop: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "init-db"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "database ready" in done.stdout


async def _write_in(url: str, *texts: str) -> None:
    """A WhatsApp customer writes to the shop, through the real conversation."""
    db = Database(url)
    try:
        conversation = Conversation(db, Settings(), Messages.load())
        for number, text in enumerate(texts):
            phone = "+6281234567890"
            incoming = Incoming(
                channel=Channel.WHATSAPP,
                chat=phone,
                sender=phone,
                text=text,
                phone_verified=True,
                message_id=f"SM{number:032d}",
            )
            await conversation.handle(incoming)
    finally:
        await db.dispose()


def test_chat_export_prints_one_chat_for_a_dispute(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kabar(capsys, "init-db")[0] == 0
    assert kabar(capsys, "import", "products", "products.csv")[0] == 0
    assert (
        kabar(capsys, "reseller", "add", "MAWAR", "--name", "Mawar", "--phone", "081100002222")[0]
        == 0
    )
    assert kabar(capsys, "import", "orders", "orders.csv")[0] == 0
    asyncio.run(_write_in("sqlite+aiosqlite:///shop.db", "halo", "status INV-1001"))
    code, out, _ = kabar(capsys, "chat", "export", "0812-3456-7890")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("chat whatsapp:+6281234567890 · 4 messages kept")
    assert lines[1].endswith("◂ in: halo") and "▸ kabar: Halo" in lines[2]
    assert lines[3].endswith("◂ in: status INV-1001") and "Pesanan INV-1001" in lines[4]
    assert kabar(capsys, "chat", "export", "whatsapp:+6281234567890")[1] == out
    code, _, err = kabar(capsys, "chat", "export", "telegram:42")
    assert code == 1 and err.strip() == "kabar: no chat telegram:42"
