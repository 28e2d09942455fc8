"""The web app over real HTTP: checks before reading, a body cap, and any body answered sanely."""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from bot.web import SECRET_HEADER, SIGNATURE_HEADER
from models import Notification
from models.storage import Database
from tests.fakes.twilio import inbound_params, status_params
from tests.support.webhooks import SECRET, SHOP_NUMBER, Served, served, server_config

FORM = "application/x-www-form-urlencoded"
SARI = "+6281234567890"


async def _answer(reader: asyncio.StreamReader) -> int:
    """The status code of the response the server sends (without reading the body)."""
    async with asyncio.timeout(30):  # a guard, not a measure: the server must answer at all
        status_line = await reader.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    return int(status_line.split()[1])


async def _headers_only(web: Served, path: str, length: int, **headers: str) -> int:
    """POST headers announcing `length` bytes of body, send none, and read the answer."""
    reader, writer = await web.connect()
    lines = [f"POST {path} HTTP/1.1", "Host: shop.example", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        return await _answer(reader)
    finally:
        writer.close()


async def test_an_unsigned_twilio_request_is_refused_before_its_body_is_read(
    sqlite_db: Database,
) -> None:
    async with served(sqlite_db) as web:
        ten_mb = 10 * 1024 * 1024
        # The body never comes: an answer at all means it was not waited for.
        for path in ("/whatsapp/webhook", "/whatsapp/status"):
            assert await _headers_only(web, path, ten_mb, **{"Content-Type": FORM}) == 403
        assert await _headers_only(web, "/telegram/webhook", ten_mb) == 403  # no secret


async def test_a_body_over_the_cap_is_refused_unread_with_413(sqlite_db: Database) -> None:
    async with served(sqlite_db, server_config(max_body_bytes=64 * 1024)) as web:
        signed = {SIGNATURE_HEADER: "any", "Content-Type": FORM}
        assert await _headers_only(web, "/whatsapp/webhook", 64 * 1024 + 1, **signed) == 413
        assert (
            await _headers_only(web, "/telegram/webhook", 10**9, **{SECRET_HEADER: SECRET}) == 413
        )
        # Chunked: no length to check up front, the read itself stops at the cap.
        reader, writer = await web.connect()
        writer.write(
            b"POST /whatsapp/webhook HTTP/1.1\r\nHost: shop.example\r\n"
            b"Transfer-Encoding: chunked\r\nX-Twilio-Signature: any\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        answered = asyncio.ensure_future(_answer(reader))
        sent = 0
        chunk = b"Body=" + b"a" * (16 * 1024 - 5)
        try:
            while not answered.done() and sent < 10 * 1024 * 1024:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                await asyncio.sleep(0)  # let the answer in
                sent += len(chunk)
        except ConnectionError:
            pass  # the server answered and closed while we still sent
        # 413 says the cap stopped the read: a whole body read would fail the signature, 403.
        assert await answered == 413
        writer.close()
        # A body within the cap goes through as ever.
        params = inbound_params(
            account_sid=web.twilio.account_sid,
            from_=f"whatsapp:{SARI}",
            to=f"whatsapp:{SHOP_NUMBER}",
            body="halo",
        )
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{web.url}/whatsapp/webhook",
                data=params,
                headers={SIGNATURE_HEADER: web.signature("/whatsapp/webhook", params)},
            )
        assert answer.status_code == 200
        await web.twilio.wait_for_messages(1)


class _Heard(logging.Handler):
    """Sets an event when a log line containing `words` is emitted."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


async def test_a_client_that_hangs_up_mid_body_is_one_log_line(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    heard = _Heard("hung up")
    logging.getLogger().addHandler(heard)
    try:
        async with served(sqlite_db) as web:
            _, writer = await web.connect()
            writer.write(
                b"POST /telegram/webhook HTTP/1.1\r\nHost: shop.example\r\n"
                + f"{SECRET_HEADER}: {SECRET}\r\nContent-Length: 1000\r\n\r\n".encode()
                + b'{"update_id": 1, '
            )
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            async with asyncio.timeout(30):  # a guard: the server must notice at all
                await heard.event.wait()
    finally:
        logging.getLogger().removeHandler(heard)
    (line,) = [r for r in caplog.records if "hung up" in r.getMessage()]
    assert line.getMessage() == "POST /telegram/webhook: the client hung up mid-request"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _update(web: Served, **message: object) -> dict[str, object]:
    update = web.telegram_api.message_update(chat_id=5001, user_id=5001, text="/bantuan")
    update["update_id"] = 1
    update["message"] = {**update["message"], **message}
    return update


MALFORMED_TELEGRAM: list[tuple[str, object]] = [
    ("not JSON", b"{not json"),
    ("not UTF-8", b'{"update_id": 1, "x": "\xff\xfe"}'),
    ("a JSON array", b"[1, 2, 3]"),
    ("a JSON string", b'"update"'),
    ("no update_id", b'{"message": {}}'),
    ("no message", {"update_id": 7}),
    ("an edited message only", {"update_id": 8, "edited_message": {"message_id": 1}}),
    ("message without chat", "drop:chat"),
    ("message without from", "drop:from"),
    ("message of a string", {"update_id": 9, "message": "hello"}),
    ("huge update_id", {"update_id": 10**40}),
    ("huge chat id", {"chat": {"id": 10**30, "type": "private", "first_name": "Sari"}}),
    ("huge user id", {"from": {"id": 10**30, "is_bot": False, "first_name": "Sari"}}),
    ("huge date", {"date": 10**20}),
    ("float chat id", {"chat": {"id": 5001.5, "type": "private", "first_name": "Sari"}}),
    ("text a number", {"text": 5}),
    ("text a list", {"text": ["/bantuan"]}),
    ("caption a dict", {"caption": {"a": 1}}),
    ("entities a string", {"entities": "bold"}),
    ("photo a number", {"photo": 5}),
    ("contact of a string", {"contact": "0812"}),
    ("contact number a number", {"contact": {"phone_number": 812, "first_name": "S"}}),
    ("first_name a number", {"from": {"id": 5001, "is_bot": False, "first_name": 7}}),
    ("NUL in text", {"text": "/status INV\x00-1001"}),
    ("lone surrogate in text", b"SURROGATE"),
    ("callback without data", {"update_id": 11, "callback_query": {"id": "1"}}),
]


def _telegram_body(web: Served, body: object) -> bytes:
    if isinstance(body, bytes):
        if body == b"SURROGATE":  # JSON may escape a lone surrogate; Python reads it as one
            text = json.dumps(_update(web, text="/status INV-1001")).replace("INV-1001", "\\ud800")
            return text.encode()
        return body
    if body == "drop:chat" or body == "drop:from":
        update = _update(web)
        del update["message"][body.removeprefix("drop:")]  # type: ignore[attr-defined]
        return json.dumps(update).encode()
    assert isinstance(body, dict)
    whole = "update_id" in body
    return json.dumps(body if whole else _update(web, **body)).encode()


MALFORMED_TWILIO: list[tuple[str, str, dict[str, str]]] = [
    ("no From", "/whatsapp/webhook", {"Body": "halo", "MessageSid": "SM1"}),
    ("no Body", "/whatsapp/webhook", {"From": f"whatsapp:{SARI}", "MessageSid": "SM2"}),
    ("nothing at all", "/whatsapp/webhook", {}),
    ("From not a number", "/whatsapp/webhook", {"From": "whatsapp:halo", "Body": "x"}),
    ("NumMedia not a number", "/whatsapp/webhook", {"From": f"whatsapp:{SARI}", "NumMedia": "x"}),
    ("NumMedia without URL", "/whatsapp/webhook", {"From": f"whatsapp:{SARI}", "NumMedia": "3"}),
    ("NUL in Body", "/whatsapp/webhook", {"From": f"whatsapp:{SARI}", "Body": "st\x00ok"}),
    ("NUL in From", "/whatsapp/webhook", {"From": "whatsapp:+62812\x0034567890", "Body": "a"}),
    ("long MessageSid", "/whatsapp/webhook", {"From": f"whatsapp:{SARI}", "MessageSid": "S" * 99}),
    ("status without sid", "/whatsapp/status", {"MessageStatus": "delivered"}),
    ("status with NUL sid", "/whatsapp/status", {"MessageSid": "SM\x00", "MessageStatus": "sent"}),
    ("status unknown", "/whatsapp/status", {"MessageSid": "SM9", "MessageStatus": "x" * 500}),
    ("error code long", "/whatsapp/status", {"MessageSid": "SM9", "ErrorCode": "6" * 300}),
]  # fmt: skip


async def test_malformed_webhook_bodies_get_2xx_or_4xx_and_no_traceback(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    statuses: dict[str, int] = {}
    async with served(db) as web, httpx.AsyncClient() as client:
        for name, body in MALFORMED_TELEGRAM:
            answer = await client.post(
                f"{web.url}/telegram/webhook",
                content=_telegram_body(web, body),
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            )
            statuses[f"telegram: {name}"] = answer.status_code
        for name, path, fields in MALFORMED_TWILIO:
            answer = await client.post(
                f"{web.url}{path}",
                content=urlencode(fields),
                headers={SIGNATURE_HEADER: web.signature(path, fields), "Content-Type": FORM},
            )
            statuses[f"whatsapp: {name}"] = answer.status_code
        for name, content_type, raw in (
            ("multipart cut short", "multipart/form-data; boundary=xx", b"--xx\r\nContent-Dis"),
            ("JSON, not a form", "application/json", b'{"From": "x"}'),
        ):
            signature = web.signature("/whatsapp/webhook", {})
            answer = await client.post(
                f"{web.url}/whatsapp/webhook",
                content=raw,
                headers={SIGNATURE_HEADER: signature, "Content-Type": content_type},
            )
            statuses[f"whatsapp: {name}"] = answer.status_code
        # Still answering what makes sense:
        hello = _update(web)
        hello["update_id"] = 99
        answer = await client.post(
            f"{web.url}/telegram/webhook", json=hello, headers={SECRET_HEADER: SECRET}
        )
        assert answer.status_code == 200
    # Leaving `served` waited for every update's processing to end.
    wrong = {name: status for name, status in statuses.items() if not 200 <= status < 500}
    assert wrong == {}
    replies = [m.text for m in web.telegram_api.sent if m.chat_id == 5001]
    assert any(text.startswith("Perintah yang bisa Anda pakai") for text in replies)
    noisy = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert noisy == [], [(r.name, r.getMessage()) for r in noisy]
    ignored = [r for r in caplog.records if "ignored" in r.getMessage()]
    assert len(ignored) >= 10  # each unreadable update or callback: one line, no traceback
    assert all("\n" not in r.getMessage() for r in ignored)


async def test_a_status_callback_for_a_push_is_stored_on_both_backends(db: Database) -> None:
    async with served(db) as web, httpx.AsyncClient() as client:
        await web.shop.say("dewi", "/bayar INV-1001")
        async with web.shop.db.sessions() as s:
            row = await s.scalar(select(Notification).limit(1))
        assert row is not None
        async with web.shop.db.transaction() as s:
            stored = await s.get(Notification, row.id)
            assert stored is not None
            stored.provider_message_id = "SM" + "7" * 32
        fields = status_params(
            account_sid=web.twilio.account_sid,
            message_sid="SM" + "7" * 32,
            status="delivered",
            to=f"whatsapp:{SARI}",
            from_=f"whatsapp:{SHOP_NUMBER}",
            error_code="1" * 40,
        )
        answer = await client.post(
            f"{web.url}/whatsapp/status",
            data=fields,
            headers={SIGNATURE_HEADER: web.signature("/whatsapp/status", fields)},
        )
        assert answer.status_code == 204
        async with web.shop.db.sessions() as s:
            after = await s.get(Notification, row.id)
        assert after is not None and after.delivery_status == "delivered"
        assert after.delivery_error_code == "1" * 20
