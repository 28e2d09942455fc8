"""The fake Messages API answers the real twilio async client as Twilio would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes import twilio as fake_twilio
from tests.fakes.twilio import FakeTwilio, inbound_params, sign, status_params

pytestmark = fake_twilio.AIOHTTP_AUTH_DEPRECATIONS

CUSTOMER = "whatsapp:+6281234567890"
SENDER = "whatsapp:+6281100001111"
WEBHOOK_URL = "https://kabar.example.com/whatsapp/inbound"


@pytest.fixture(autouse=True)
def no_twilio_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    # With an edge or region set, twilio rewrites the host of every URL, the fake's 127.0.0.1 too.
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)


@asynccontextmanager
async def twilio_client(
    fake: FakeTwilio, *, auth_token: str | None = None, account_sid: str | None = None
) -> AsyncIterator[Client]:
    """Yield a real async twilio Client aimed at the fake; close its aiohttp session after."""
    client = Client(
        fake.account_sid,
        auth_token or fake.auth_token,
        account_sid=account_sid,
        http_client=AsyncTwilioHttpClient(),
    )
    client.api.base_url = fake.base_url
    try:
        yield client
    finally:
        await client.http_client.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
async def client(fake: FakeTwilio) -> AsyncIterator[Client]:
    async with twilio_client(fake) as real:
        yield real


async def test_text_message_is_recorded_and_its_sid_returned(
    fake: FakeTwilio, client: Client
) -> None:
    message = await client.messages.create_async(
        to=CUSTOMER,
        from_=SENDER,
        body="Pesanan #42 sudah dikirim",
        status_callback="https://kabar.example.com/whatsapp/status",
    )

    [sent] = fake.messages
    assert message.sid == sent.sid
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert (sent.to, sent.from_, sent.body) == (CUSTOMER, SENDER, "Pesanan #42 sudah dikirim")
    assert sent.status_callback == "https://kabar.example.com/whatsapp/status"
    assert (sent.content_sid, sent.content_variables, sent.media_url) == (None, None, [])
    assert (message.status, message.direction, message.to) == ("queued", "outbound-api", CUSTOMER)
    assert message.date_created is not None
    assert fake.requests == 1


async def test_template_message_records_content_sid_and_variables(
    fake: FakeTwilio, client: Client
) -> None:
    await client.messages.create_async(
        to=CUSTOMER,
        from_=SENDER,
        content_sid="HX" + "a" * 32,
        content_variables=json.dumps({"1": "Sari", "2": "#42"}),
    )

    [sent] = fake.messages
    assert sent.body is None
    assert sent.content_sid == "HX" + "a" * 32
    assert sent.content_variables == {"1": "Sari", "2": "#42"}


async def test_media_urls_are_recorded_in_order(fake: FakeTwilio, client: Client) -> None:
    message = await client.messages.create_async(
        to=CUSTOMER, from_=SENDER, media_url=["https://x.test/a.jpg", "https://x.test/b.jpg"]
    )

    assert fake.messages[0].media_url == ["https://x.test/a.jpg", "https://x.test/b.jpg"]
    assert message.num_media == "2"


async def test_wrong_token_is_refused_with_401(fake: FakeTwilio) -> None:
    async with twilio_client(fake, auth_token="not-the-token") as client:
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=CUSTOMER, from_=SENDER, body="hai")

    assert (caught.value.status, caught.value.code) == (401, fake_twilio.AUTHENTICATE)
    assert fake.messages == []
    assert fake.requests == 1


async def test_another_account_in_the_path_is_not_found(fake: FakeTwilio) -> None:
    async with twilio_client(fake, account_sid="AC" + "1" * 32) as client:
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=CUSTOMER, from_=SENDER, body="hai")

    assert (caught.value.status, caught.value.code) == (404, fake_twilio.NOT_FOUND)


async def test_fail_next_answers_the_queued_error_once(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(429, code=20429, message="Too Many Requests")

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=CUSTOMER, from_=SENDER, body="hai")
    await client.messages.create_async(to=CUSTOMER, from_=SENDER, body="hai lagi")

    assert (caught.value.status, caught.value.code) == (429, 20429)
    assert "Too Many Requests" in caught.value.msg
    assert [m.body for m in fake.messages] == ["hai lagi"]
    assert fake.requests == 2


async def test_blocked_recipient_is_refused_as_invalid(fake: FakeTwilio, client: Client) -> None:
    fake.blocked.add(CUSTOMER)

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=CUSTOMER, from_=SENDER, body="hai")

    assert (caught.value.status, caught.value.code) == (400, fake_twilio.INVALID_RECIPIENT)
    assert fake.messages == []


async def test_message_without_body_media_or_template_is_refused(
    fake: FakeTwilio, client: Client
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=CUSTOMER, from_=SENDER)

    assert (caught.value.status, caught.value.code) == (400, fake_twilio.BODY_REQUIRED)


async def test_sms_sender_to_whatsapp_recipient_is_refused(
    fake: FakeTwilio, client: Client
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=CUSTOMER, from_="+6281100001111", body="hai")

    assert caught.value.code == fake_twilio.CHANNEL_MISMATCH


async def test_over_the_rate_limit_answers_429(fake: FakeTwilio, client: Client) -> None:
    fake.limit(per_second=1)

    await client.messages.create_async(to=CUSTOMER, from_=SENDER, body="satu")
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=CUSTOMER, from_=SENDER, body="dua")

    assert (caught.value.status, caught.value.code) == (429, fake_twilio.TOO_MANY_REQUESTS)
    assert fake.too_many == 1
    assert [m.body for m in fake.messages] == ["satu"]


async def test_wait_for_messages_returns_once_enough_arrived(
    fake: FakeTwilio, client: Client
) -> None:
    send = asyncio.create_task(client.messages.create_async(to=CUSTOMER, from_=SENDER, body="a"))

    [message] = await fake.wait_for_messages(1, timeout=2.0)
    await send

    assert message.body == "a"
    with pytest.raises(TimeoutError):
        await fake.wait_for_messages(2, timeout=0.05)


def test_sign_matches_twilio_request_validator() -> None:
    params = inbound_params(
        account_sid="AC" + "0" * 32, from_=CUSTOMER, to=SENDER, body="status 42"
    )

    signature = sign("test-auth-token", WEBHOOK_URL, params)

    assert RequestValidator("test-auth-token").validate(WEBHOOK_URL, params, signature)
    assert not RequestValidator("another-token").validate(WEBHOOK_URL, params, signature)
    assert not RequestValidator("test-auth-token").validate(
        WEBHOOK_URL, params | {"Body": "status 43"}, signature
    )


def test_inbound_params_look_like_a_whatsapp_webhook() -> None:
    params = inbound_params(
        account_sid="AC" + "0" * 32,
        from_=CUSTOMER,
        to=SENDER,
        body="Lacak",
        message_sid="SM" + "1" * 32,
        media_url="https://api.twilio.com/media/ME1",
        button_payload="track:42",
    )

    assert params["MessageSid"] == params["SmsMessageSid"] == "SM" + "1" * 32
    assert params["WaId"] == "6281234567890"
    assert (params["NumMedia"], params["MediaUrl0"]) == ("1", "https://api.twilio.com/media/ME1")
    assert (params["ButtonPayload"], params["ButtonText"]) == ("track:42", "Lacak")
    assert (params["SmsStatus"], params["ProfileName"]) == ("received", "Sari")


def test_status_params_carry_the_error_code_only_when_given() -> None:
    failed = status_params(
        account_sid="AC" + "0" * 32,
        message_sid="SM" + "2" * 32,
        status="failed",
        to=CUSTOMER,
        from_=SENDER,
        error_code="63016",
    )
    delivered = status_params(
        account_sid="AC" + "0" * 32,
        message_sid="SM" + "2" * 32,
        status="delivered",
        to=CUSTOMER,
        from_=SENDER,
    )

    assert (failed["MessageStatus"], failed["ErrorCode"]) == ("failed", "63016")
    assert "ErrorCode" not in delivered
    assert delivered["ChannelPrefix"] == "whatsapp"
