"""A fake of the platform's open API: a real local HTTP server for tests and the demo.

It implements the whitelist endpoints and the payment list with the platform's signature
check and answer codes, keeps its state in memory, and can be told to fail (``1500``, ``401``,
``403``) or to answer slowly. Tests drive it in-process (``FakePlatform.start()``); the
``fake_platform`` command serves it, and then its control endpoints under ``/_fake/`` seed
payments and switch failures over HTTP.
"""

import json
import math
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from parkingops.formatting import CHINA
from parkingops.pcloud import signing
from parkingops.pcloud.client import PAYMENT_LIST_ENDPOINT, WHITELIST_ENDPOINT


def _parse_china_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=CHINA)


def _parse_pay_time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        return None


class FakePlatform:
    """The platform's state and rules, independent of HTTP (thread-safe)."""

    def __init__(self, *, app_id: str, secrets: list[str]) -> None:
        self.app_id = app_id
        self._secrets = list(secrets)
        self.lock = threading.Lock()
        self.whitelist: dict[str, dict[str, Any]] = {}
        self.payments: list[dict[str, Any]] = []
        self._listed_at: list[datetime | None] = []  # the window time of each payment
        self.calls: list[dict[str, Any]] = []
        self._failures: deque[tuple[str, float]] = deque()
        self.server: ThreadingHTTPServer | None = None

    # --- seeding and switches --------------------------------------------------------------

    def add_payment(self, *, listed_at: datetime | None = None, **fields: Any) -> dict[str, Any]:
        """Add a payment to the list; ``pay_time`` may be a datetime or ISO-8601 text.

        Any field may be given any value, even one the platform should never send (tests of
        hostile lists); ``listed_at`` then says in which day's window the row is listed when
        its ``pay_time`` cannot say it.
        """
        pay_time = fields.pop("pay_time", datetime.now(UTC))
        if isinstance(pay_time, datetime):
            pay_time = pay_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pay_value = fields.get("pay_value", 100)
        payment = {
            "id": uuid.uuid4().hex,
            "park_uuid": "",
            "park_name": "",
            "merchant": "",
            "plate": "",
            "plate_color": "blue",
            "parking_serial": str(uuid.uuid4().int)[:18],
            "enter_time": pay_time,
            "value": pay_value,
            "pay_value": pay_value,
            "free_value": 0,
            "discount_value": 0,
            "reduce_value": 0,
            "pay_serial": str(uuid.uuid4().int)[:26],
            "pay_time": pay_time,
            "pay_partner": "",
            "channel": "200102",
            "identity": "",
        }
        payment.update(fields)
        with self.lock:
            self.payments.append(payment)
            self._listed_at.append(listed_at or _parse_pay_time(pay_time))
        return payment

    def answer_next_list(self, payload: Any) -> None:
        """Answer the next payment-list call ``1001`` with this ``payload``, whatever its shape."""
        with self.lock:
            self._failures.append(("payload", payload))

    def fail_next(self, code: str, times: int = 1) -> None:
        """Answer the next ``times`` calls with ``code`` (``1500``, ``401``, ``403``...)."""
        with self.lock:
            self._failures.extend([(code, 0.0)] * times)

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``times`` calls."""
        with self.lock:
            self._failures.extend([("slow", seconds)] * times)

    def reset(self) -> None:
        with self.lock:
            self.whitelist.clear()
            self.payments.clear()
            self._listed_at.clear()
            self.calls.clear()
            self._failures.clear()

    def status_of(self, plate: str) -> int | None:
        """The plate's status here: 1 enabled, 0 disabled, None when not held."""
        entry = self.whitelist.get(plate)
        return None if entry is None else entry["status"]

    # --- the API ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        """Answer one API call the way the platform does."""
        started = time.monotonic()
        with self.lock:
            self.calls.append({"method": method, "path": path, "params": dict(params)})
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            code, seconds = failure
            if code == "slow":
                time.sleep(seconds)
            elif code == "payload":
                return self._answer("1001", "success", started, seconds)
            else:
                return self._answer(code, f"simulated failure {code}", started)
        if params.get("app_id") != self.app_id:
            return self._answer("401", "unknown app_id", started)
        if params.get("sign_type", "MD5").upper() != "MD5" or not signing.verify_params(
            params, params.get("sign", ""), self._secrets
        ):
            return self._answer("401", "bad signature", started)

        if path == WHITELIST_ENDPOINT and method in ("POST", "DELETE"):
            return self._whitelist(method, params, started)
        if path == PAYMENT_LIST_ENDPOINT and method == "GET":
            return self._payment_list(params, started)
        return self._answer("403", "interface not authorised", started)

    def _whitelist(self, method: str, params: dict[str, str], started: float) -> dict[str, Any]:
        plate = params.get("plate", "")
        if not plate:
            return self._answer("1500", "plate is required", started)
        status = "-1" if method == "DELETE" else params.get("status", "")
        if status not in ("1", "0", "-1"):
            return self._answer("1500", "status must be 1, 0 or -1", started)
        with self.lock:
            if status == "-1":
                self.whitelist.pop(plate, None)
            else:
                self.whitelist[plate] = {"status": int(status), "reason": params.get("reason", "")}
        return self._answer("1001", "success", started)

    def _payment_list(self, params: dict[str, str], started: float) -> dict[str, Any]:
        try:
            start = _parse_china_time(params["start_time"])
            end = _parse_china_time(params["end_time"])
            page_index = int(params["page_index"])
            page_size = int(params["page_size"])
            park_uuid = params["park_uuid"]
        except (KeyError, ValueError):
            return self._answer("1500", "bad paging or time parameters", started)
        if page_index < 1 or page_size < 1:
            return self._answer("1500", "bad paging parameters", started)
        with self.lock:
            rows = [
                payment
                for payment, moment in zip(self.payments, self._listed_at, strict=True)
                if payment.get("park_uuid") == park_uuid
                and moment is not None
                and start <= moment <= end
            ]
        if not rows:
            return self._answer("1002", "no data", started)
        rows.sort(key=lambda payment: (str(payment["pay_time"]), str(payment.get("pay_serial"))))
        page = rows[(page_index - 1) * page_size : page_index * page_size]
        payload = {
            "paging_header": {
                "total_count": len(rows),
                "page_index": page_index,
                "page_size": page_size,
                "page_count": math.ceil(len(rows) / page_size),
            },
            "row": page,
        }
        return self._answer("1001", "success", started, payload)

    @staticmethod
    def _answer(code: str, message: str, started: float, payload: Any = None) -> dict[str, Any]:
        answer = {
            "code": code,
            "message": message,
            "seqno": uuid.uuid4().hex,
            "data_node": "fake",
            "time_cost": round((time.monotonic() - started) * 1000),
        }
        if payload is not None:
            answer["payload"] = payload
        return answer

    # --- serving ---------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; return the base URL (a free port when ``port`` is 0)."""
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- control endpoints (the command mode) ------------------------------------------------

    def control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """Handle ``/_fake/...``: seed payments, switch failures, read the state."""
        data = json.loads(body or b"null") if method == "POST" else None
        if path == "_fake/state" and method == "GET":
            with self.lock:
                return 200, {"whitelist": self.whitelist, "payments": self.payments}
        if path == "_fake/payments" and method == "POST":
            items = data if isinstance(data, list) else [data]
            return 200, [self.add_payment(**item) for item in items]
        if path == "_fake/fail" and method == "POST":
            self.fail_next(str(data["code"]), int(data.get("times", 1)))
            return 200, {"ok": True}
        if path == "_fake/slow" and method == "POST":
            self.slow_next(float(data["seconds"]), int(data.get("times", 1)))
            return 200, {"ok": True}
        if path == "_fake/reset" and method == "POST":
            self.reset()
            return 200, {"ok": True}
        return 404, {"error": "unknown control endpoint"}


def _handler_for(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.lstrip("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                if path.startswith("_fake/"):
                    status, answer = platform.control(self.command, path, body)
                else:
                    params = dict(parse_qsl(parts.query, keep_blank_values=True))
                    params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                    status, answer = 200, platform.handle(self.command, path, params)
            except (ValueError, KeyError, TypeError) as exc:
                status, answer = 400, {"code": "1500", "message": f"bad request: {exc}"}
            data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _dispatch

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet in tests; the command prints its own lines

    return Handler
