"""A fake Twilio Messages API that the real twilio client can talk to, and signed-webhook helpers.

Point the client at it with `client.api.base_url = fake.base_url`: twilio joins that with
"2010-04-01/Accounts/{AccountSid}/Messages.json", the only route this fake answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType
from typing import Any, Self

import pytest
from aiohttp import BasicAuth, hdrs, web
from multidict import MultiMapping
from twilio.request_validator import RequestValidator

JSONDict = dict[str, Any]

# twilio's AsyncTwilioHttpClient passes aiohttp's BasicAuth/`auth=`, deprecated since aiohttp 3.14
# (twilio/twilio-python#931): with filterwarnings=error every request fails. Test modules that
# drive the real async client set `pytestmark = AIOHTTP_AUTH_DEPRECATIONS`.
AIOHTTP_AUTH_DEPRECATIONS = [
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
]

API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_BODY_CHARS = 1600

# The Twilio error codes this fake answers with (https://www.twilio.com/docs/errors/<code>).
AUTHENTICATE = 20003
NOT_FOUND = 20404
TOO_MANY_REQUESTS = 20429
FROM_REQUIRED = 21603
TO_REQUIRED = 21604
BODY_TOO_LONG = 21617
BODY_REQUIRED = 21619
CONTENT_SID_REQUIRED = 21654
CONTENT_VARIABLES_INVALID = 21656
CHANNEL_MISMATCH = 21910
# Meta's "not a valid WhatsApp user / recipient-side restriction". Real Twilio usually accepts the
# create (201 queued) and reports this later as a failed status callback; `blocked` answers it at
# once so tests can cover the synchronous path too.
INVALID_RECIPIENT = 63024


@dataclass
class TwilioMessage:
    """A message the client created and the fake accepted."""

    sid: str
    to: str
    from_: str
    body: str | None
    content_sid: str | None
    content_variables: JSONDict | None
    status_callback: str | None
    media_url: list[str]
    at: float


class _TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else None
        return web.json_response(body, status=self.status, headers=headers)


def _bad_request(code: int, message: str) -> _TwilioError:
    return _TwilioError(400, code, message)


def _channel(address: str) -> str:
    """Return the channel prefix of an address ("whatsapp" for "whatsapp:+62…", "" for SMS)."""
    prefix, sep, _ = address.partition(":")
    return prefix.lower() if sep else ""


def new_sid(prefix: str = "SM") -> str:
    """Make a Twilio-shaped sid: the prefix and 32 hex digits."""
    return prefix + uuid.uuid4().hex


class FakeTwilio:
    """A local Messages API: records created messages, rejects like Twilio, fails on cue."""

    def __init__(
        self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-auth-token"
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[TwilioMessage] = []
        self.requests = 0
        self.blocked: set[str] = set()
        self.too_many = 0
        self._failures: deque[_TwilioError] = deque()
        self._span = 0.0
        self._capacity = 0
        self._times: deque[float] = deque()
        self._waiters: set[asyncio.Event] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._media: dict[str, tuple[bytes, str]] = {}  # what customers sent, by media sid

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve the API on a free port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("FakeTwilio is already running")
        app = web.Application()
        app.router.add_post(f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json", self._create)
        app.router.add_get(
            f"/{API_VERSION}/Accounts/{{account_sid}}/Messages/{{message}}/Media/{{media}}",
            self._serve_media,
        )
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The URL to give `client.api.base_url` (twilio appends the version and path)."""
        if self._port is None:
            raise RuntimeError("start() the FakeTwilio first")
        return f"http://127.0.0.1:{self._port}"

    # -- test controls --------------------------------------------------------------------------

    def fail_next(self, status: int, *, code: int = 20001, message: str = "error") -> None:
        """Answer the next create with this Twilio error (calls queue up)."""
        self._failures.append(_TwilioError(status, code, message))

    def limit(self, per_second: float | None) -> None:
        """Answer creates over this rate with 429 / 20429, counted in `too_many`; None lifts it."""
        self._times.clear()
        if per_second is None:
            self._capacity = 0
            return
        if per_second <= 0:
            raise ValueError("a rate limit must be positive")
        # Below 1/s the window widens so that, e.g., 0.5/s means one create per two seconds.
        self._span = max(1.0, 1.0 / per_second)
        self._capacity = max(1, int(per_second * self._span))

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[TwilioMessage]:  # noqa: ASYNC109
        """Wait until at least `count` messages were accepted; return all accepted so far."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.messages) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                got = [(m.to, m.body or m.content_sid) for m in self.messages]
                raise TimeoutError(f"expected {count} messages within {timeout}s, got {got}")
            event = asyncio.Event()
            self._waiters.add(event)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            finally:
                self._waiters.discard(event)
        return list(self.messages)

    def add_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Keep a file a customer sends; return its MediaUrl (reading it needs the account's
        basic auth, as Twilio's does when media authentication is on)."""
        media = new_sid("ME")
        self._media[media] = (data, content_type)
        account = f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}"
        return f"{account}/Messages/{new_sid('MM')}/Media/{media}"

    # -- HTTP -----------------------------------------------------------------------------------

    async def _serve_media(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
        except _TwilioError as error:
            return error.response()
        found = self._media.get(request.match_info["media"])
        if found is None:
            return _TwilioError(404, NOT_FOUND, "The requested resource was not found").response()
        return web.Response(body=found[0], content_type=found[1])

    async def _create(self, request: web.Request) -> web.Response:
        self.requests += 1
        form = await request.post()
        try:
            self._authenticate(request)
            if self._failures:
                raise self._failures.popleft()
            self._check_rate()
            message = self._accept(form)
        except _TwilioError as error:
            return error.response()
        self.messages.append(message)
        for event in self._waiters:
            event.set()
        return web.json_response(self._resource(message), status=201)

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            auth = None
        # Only the account's own sid and token: API keys (SK…) are not modelled.
        if auth is None or (auth.login, auth.password) != (self.account_sid, self.auth_token):
            raise _TwilioError(401, AUTHENTICATE, "Authenticate")
        if request.match_info["account_sid"] != self.account_sid:
            raise _TwilioError(
                404, NOT_FOUND, f"The requested resource {request.path} was not found"
            )

    def _check_rate(self) -> None:
        if not self._capacity:
            return
        now = time.monotonic()
        while self._times and now - self._times[0] >= self._span:
            self._times.popleft()
        if len(self._times) >= self._capacity:
            self.too_many += 1
            raise _TwilioError(429, TOO_MANY_REQUESTS, "Too Many Requests")
        # Every request let through takes a slot, even one that then fails validation.
        self._times.append(now)

    def _accept(self, form: MultiMapping[object]) -> TwilioMessage:
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        to = fields.get("To", "")
        from_ = fields.get("From", "")
        body = fields.get("Body") or None
        content_sid = fields.get("ContentSid") or None
        raw_variables = fields.get("ContentVariables")
        media_url = [url for url in form.getall("MediaUrl", []) if isinstance(url, str) and url]
        if not to:
            raise _bad_request(TO_REQUIRED, "A 'To' phone number is required.")
        if not from_:
            raise _bad_request(FROM_REQUIRED, "A 'From' phone number is required.")
        if _channel(to) != _channel(from_):
            raise _bad_request(
                CHANNEL_MISMATCH,
                "Invalid From and To pair. From and To should be of the same channel",
            )
        content_variables = None
        if raw_variables is not None:
            if content_sid is None:
                raise _bad_request(
                    CONTENT_SID_REQUIRED,
                    "A ContentSid must be specified if ContentVariables are provided.",
                )
            content_variables = self._content_variables(raw_variables)
        if body is None and content_sid is None and not media_url:
            raise _bad_request(
                BODY_REQUIRED, "A text message body or media urls must be specified."
            )
        if body is not None and len(body) > MAX_BODY_CHARS:
            raise _bad_request(
                BODY_TOO_LONG,
                f"The concatenated message body exceeds the {MAX_BODY_CHARS} character limit.",
            )
        if to in self.blocked:
            raise _bad_request(INVALID_RECIPIENT, "Invalid message recipient")
        return TwilioMessage(
            sid=new_sid(),
            to=to,
            from_=from_,
            body=body,
            content_sid=content_sid,
            content_variables=content_variables,
            status_callback=fields.get("StatusCallback") or None,
            media_url=media_url,
            at=time.monotonic(),
        )

    @staticmethod
    def _content_variables(raw: str) -> JSONDict:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise _bad_request(
                CONTENT_VARIABLES_INVALID, "The ContentVariables Parameter is invalid."
            )
        return parsed

    def _resource(self, message: TwilioMessage) -> JSONDict:
        """Render a Message resource as Twilio answers a create."""
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            # Twilio renders a template's text here; the fake has no templates, so "" for those.
            "body": message.body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": None,
            "num_media": str(len(message.media_url)),
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }


# -- webhooks Twilio posts to kabar ----------------------------------------------------------------


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Compute the X-Twilio-Signature Twilio would send for this form POST to `url`."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def inbound_params(
    *,
    account_sid: str,
    from_: str,
    to: str,
    body: str = "",
    profile_name: str = "Sari",
    message_sid: str | None = None,
    media_url: str | None = None,
    media_content_type: str = "image/jpeg",
    button_payload: str | None = None,
) -> dict[str, str]:
    """Build the form fields of Twilio's inbound WhatsApp message webhook."""
    sid = message_sid or new_sid()
    message_type = "button" if button_payload is not None else "image" if media_url else "text"
    params = {
        "SmsMessageSid": sid,
        "NumMedia": "1" if media_url else "0",
        "ProfileName": profile_name,
        "MessageType": message_type,
        "SmsSid": sid,
        "WaId": "".join(ch for ch in from_ if ch.isdigit()),
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": API_VERSION,
    }
    if media_url:
        params["MediaUrl0"] = media_url
        params["MediaContentType0"] = media_content_type
    if button_payload is not None:
        # A quick-reply tap arrives with the button's text as Body and as ButtonText.
        params["ButtonPayload"] = button_payload
        params["ButtonText"] = body or button_payload
    return params


def status_params(
    *,
    account_sid: str,
    message_sid: str,
    status: str,
    to: str,
    from_: str,
    error_code: str | None = None,
) -> dict[str, str]:
    """Build the form fields of Twilio's message status callback for a WhatsApp message."""
    params = {
        "ChannelPrefix": "whatsapp",
        "ApiVersion": API_VERSION,
        "MessageStatus": status,
        "SmsSid": message_sid,
        "SmsStatus": status,
        "To": to,
        "From": from_,
        "MessageSid": message_sid,
        "AccountSid": account_sid,
    }
    if error_code is not None:
        params["ErrorCode"] = error_code
    return params
