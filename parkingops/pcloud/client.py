"""HTTP client for the platform's open API (docs/platform-api.md): whitelist sync, payment list.

Signs with the same rule as the push (``pcloud.signing``), retries with backoff on network
errors and ``1500``, raises clear exceptions for the other codes, and reports every call to a
recorder (by default a ``PlatformCall`` row) without the secret or the signature.
"""

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext

from parkingops.formatting import CHINA
from parkingops.pcloud import signing
from parkingops.pcloud.codes import BAD_PAYLOAD, NETWORK

logger = logging.getLogger(__name__)

WHITELIST_ENDPOINT = "gate/1.0/parking/whitelist"
PAYMENT_LIST_ENDPOINT = "gate/1.0/parking/payment/list"

STATUS_ENABLE = 1
STATUS_DISABLE = 0
STATUS_DELETE = -1


class PlatformError(Exception):
    """The platform refused or failed a call; ``code`` is its answer code (or ``network``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class PlatformAuthError(PlatformError):
    """401: the platform does not know our app id or rejects our signature."""


class PlatformForbidden(PlatformError):
    """403: this interface is not authorised for our app."""


class PlatformUnavailable(PlatformError):
    """Network failure or 1500 that persisted through every retry."""


def not_configured_message(error: ImproperlyConfigured) -> str:
    """Return what to tell a user when ``from_settings`` could not build the client."""
    return gettext("The platform client is not configured: %(error)s") % {"error": error}


@dataclass(frozen=True)
class CallRecord:
    """What is recorded of one call: never the secret, never the signature."""

    method: str
    endpoint: str
    params: dict[str, Any]
    code: str
    message: str
    duration_ms: int


Recorder = Callable[[CallRecord], None]


def record_to_database(record: CallRecord) -> None:
    """Store a call as a ``PlatformCall`` row; a failure to record never fails the call."""
    from parkingops.pcloud.models import PLATE_MAX_LENGTH, PlatformCall

    try:
        PlatformCall.objects.create(
            method=record.method,
            endpoint=record.endpoint,
            plate=str(record.params.get("plate", ""))[:PLATE_MAX_LENGTH]
            if record.endpoint == WHITELIST_ENDPOINT
            else "",
            params=record.params,
            code=record.code[:16],
            message=record.message[:500],
            duration_ms=record.duration_ms,
        )
    except Exception:  # noqa: BLE001 — recording is best effort, the call's outcome matters
        logger.warning("platform: could not record a call to %s", record.endpoint, exc_info=True)


def platform_time(moment: datetime) -> str:
    """Format a moment as the platform's ``yyyyMMddHHmmss`` in China time."""
    return moment.astimezone(CHINA).strftime("%Y%m%d%H%M%S")


# More pages than this is not a list but a loop: a million payments at the largest page size.
MAX_PAGES = 10_000


def _page(answer: dict[str, Any]) -> tuple[list[Any], int]:
    """Return a list page's rows and its page count; raise PlatformError for another shape
    (the platform's answer is input: a bad one stops the list with a message, not a crash)."""
    payload = answer.get("payload") or {}
    header = payload.get("paging_header") or {} if isinstance(payload, dict) else None
    rows = payload.get("row") or [] if isinstance(payload, dict) else None
    count = header.get("page_count") or 0 if isinstance(header, dict) else None
    if isinstance(count, str) and count.strip().isascii() and count.strip().isdigit():
        count = int(count.strip()) if len(count.strip()) < 10 else None
    if (
        not isinstance(rows, list)
        or isinstance(count, bool)
        or not isinstance(count, int)
        or not 0 <= count <= MAX_PAGES
    ):
        raise PlatformError(
            BAD_PAYLOAD, f"the payment list's page cannot be read: {str(payload)[:200]}"
        )
    return rows, count


class PlatformClient:
    """A small, synchronous client; one instance may be shared by threads."""

    def __init__(
        self,
        *,
        base_url: str,
        app_id: str,
        secret: str,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        recorder: Recorder | None = record_to_database,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url:
            raise ImproperlyConfigured("PLATFORM_API_BASE is not set.")
        self.base_url = base_url.rstrip("/") + "/"
        self.app_id = app_id
        self._secret = secret
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.recorder = recorder
        self.clock = clock
        self.sleep = sleep

    def __repr__(self) -> str:
        # The secret is deliberately left out.
        return f"PlatformClient(base_url={self.base_url!r}, app_id={self.app_id!r})"

    @classmethod
    def from_settings(cls, **overrides: Any) -> "PlatformClient":
        """Build the client from PLATFORM_API_BASE and the push's app id and first secret."""
        if not settings.PLATFORM_APP_SECRET:
            raise ImproperlyConfigured("PLATFORM_APP_SECRET is not set.")
        options: dict[str, Any] = {
            "base_url": settings.PLATFORM_API_BASE,
            "app_id": settings.PLATFORM_APP_ID,
            "secret": settings.PLATFORM_APP_SECRET[0],
            "timeout": settings.PLATFORM_API_TIMEOUT,
            "retries": settings.PLATFORM_API_RETRIES,
        }
        options.update(overrides)
        return cls(**options)

    # --- the endpoints ---------------------------------------------------------------------

    def set_whitelist(self, *, plate: str, status: int, reason: str = "") -> dict[str, Any]:
        """Enable (1), disable (0) or delete (-1) a plate on the platform's whitelist."""
        params = {"plate": plate, "status": str(status), "reason": reason}
        return self.call("POST", WHITELIST_ENDPOINT, params)

    def delete_whitelist(self, *, plate: str, reason: str = "") -> dict[str, Any]:
        """Remove a plate from the platform's whitelist."""
        return self.call("DELETE", WHITELIST_ENDPOINT, {"plate": plate, "reason": reason})

    def iter_payments(
        self, *, park_uuid: str, start: datetime, end: datetime, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Yield every payment of a park in ``[start, end]``, page after page."""
        page_index = 1
        while True:
            answer = self.call(
                "GET",
                PAYMENT_LIST_ENDPOINT,
                {
                    "park_uuid": park_uuid,
                    "start_time": platform_time(start),
                    "end_time": platform_time(end),
                    "page_index": str(page_index),
                    "page_size": str(page_size),
                },
                no_data_ok=True,
            )
            if answer.get("code") == "1002":
                return
            rows, page_count = _page(answer)
            yield from rows
            if page_index >= page_count:
                return
            page_index += 1

    # --- the mechanics ---------------------------------------------------------------------

    def signed(self, params: dict[str, Any]) -> dict[str, str]:
        """Return ``params`` with app_id, timestamp, sign_type and sign added."""
        full = {key: str(value) for key, value in params.items() if value not in (None, "")}
        full.update(
            app_id=self.app_id,
            timestamp=str(int(self.clock() * 1000)),
            sign_type="MD5",
        )
        full["sign"] = signing.sign_params(full, self._secret)
        return full

    def call(
        self, method: str, endpoint: str, params: dict[str, Any], *, no_data_ok: bool = False
    ) -> dict[str, Any]:
        """Make one call with retries; return the decoded answer or raise PlatformError."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._call_once(method, endpoint, params, no_data_ok=no_data_ok)
            except PlatformUnavailable:
                if attempt > self.retries:
                    raise
                # Exponential backoff: 0.5 s, 1 s, 2 s ... between attempts.
                self.sleep(self.backoff * 2 ** (attempt - 1))

    def _call_once(
        self, method: str, endpoint: str, params: dict[str, Any], *, no_data_ok: bool
    ) -> dict[str, Any]:
        signed = self.signed(params)
        url = self.base_url + endpoint
        data = None
        if method == "GET":
            url = f"{url}?{urlencode(signed)}"
        else:
            data = urlencode(signed).encode("ascii")
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        started = time.monotonic()
        code, message, answer = NETWORK, "", {}
        try:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    raw = response.read()
            except urllib.error.HTTPError as exc:
                # The platform answers its codes with an HTTP error status too; read the body.
                raw = exc.read()
            answer = json.loads(raw.decode("utf-8"))
            if not isinstance(answer, dict):
                raise ValueError("answer is not a JSON object")
            code = str(answer.get("code", ""))
            message = str(answer.get("message", ""))
        except (OSError, ValueError) as exc:
            code, message = NETWORK, f"{type(exc).__name__}: {exc}"
        finally:
            if self.recorder is not None:
                public = {k: v for k, v in signed.items() if k != "sign"}
                self.recorder(
                    CallRecord(
                        method=method,
                        endpoint=endpoint,
                        params=public,
                        code=code,
                        message=message,
                        duration_ms=round((time.monotonic() - started) * 1000),
                    )
                )
        if code == "1001" or (code == "1002" and no_data_ok):
            return answer
        if code in (NETWORK, "1500"):
            raise PlatformUnavailable(code, message)
        if code == "401":
            raise PlatformAuthError(code, message)
        if code == "403":
            raise PlatformForbidden(code, message)
        raise PlatformError(code, message)
