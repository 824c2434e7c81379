"""Play the platform: build, sign and POST pushes of every kind (pay order, entry, exit,
renewal, or a whole visit), and print what the receiver says."""

import argparse
import json
import os
import re
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _g

from orders.demo import simulator
from orders.push.outcomes import Outcome
from parkingops.formatting import CHINA

PUSH_PATH = simulator.PUSH_PATHS["pay"]
# The field that identifies a push of each kind: fresh for each push of --count.
SERIAL_FIELD = {
    "pay": "pay_serial",
    "entry": "parking_serial",
    "exit": "parking_serial",
    "renewal": "pay_serial",
}
_DIGITS = re.compile(r"[0-9]+")
# Failures listed after a --count summary; the rest are only counted.
MAX_LISTED_FAILURES = 20
# The code of a stored push (accepted, or a duplicate of one held): the platform stops there.
STORED = Outcome.ACCEPTED.code


def default_url(kind: str = "pay") -> str:
    """Return the push URL of a kind on the local server: ``127.0.0.1`` on ``$PORT`` (8000)."""
    port = os.environ.get("PORT") or "8000"
    return f"http://127.0.0.1:{port}{simulator.PUSH_PATHS[kind]}"


def url_for(url: str, kind: str) -> str:
    """Return the URL of ``kind`` on the server of ``url`` (another kind's push URL)."""
    for path in simulator.PUSH_PATHS.values():
        base, found, _ = url.partition(path.rstrip("/"))
        if found:
            return base + simulator.PUSH_PATHS[kind]
    return url


def _positive_int(text: str) -> int:
    if not _DIGITS.fullmatch(text) or int(text) < 1:
        raise argparse.ArgumentTypeError(_g("must be a whole number of at least 1"))
    return int(text)


def _whole_number(text: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise argparse.ArgumentTypeError(_g("must be a whole number (digits only)"))
    return int(text)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _g("is not valid JSON: %(error)s") % {"error": exc}
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(_g("must be a JSON object"))
    return value


def parse_discount(spec: str) -> dict[str, Any]:
    """Read ``--discount VALUE[:MOBILE[:TYPE]]`` (or a JSON object, sent verbatim)."""
    if spec.lstrip().startswith("{"):
        return _json_object(spec)
    parts = spec.split(":")
    if len(parts) > 3 or not _DIGITS.fullmatch(parts[0]):
        raise argparse.ArgumentTypeError(
            _g("expected RELIEF_VALUE[:MOBILE[:TYPE]] such as 500:13800138000, got %(spec)r")
            % {"spec": spec}
        )
    value, mobile, kind = [*parts, "", ""][:3]
    return {
        "type": kind or "1",
        "token": f"tk-{secrets.token_hex(6)}",
        "openid": f"o-{secrets.token_hex(8)}",
        "mobile": mobile,
        "relief_amount": "1",
        "relief_value": value,
    }


def parse_coupon(spec: str) -> dict[str, Any]:
    """Read ``--coupon STORE_CODE:STORE_NAME:VALUE[:TYPE]`` (or a JSON object, sent verbatim)."""
    if spec.lstrip().startswith("{"):
        return _json_object(spec)
    parts = spec.split(":")
    if (
        len(parts) not in (3, 4)
        or not parts[0]
        or not parts[1]
        or not _DIGITS.fullmatch(parts[2])
        or (len(parts) == 4 and not _DIGITS.fullmatch(parts[3]))
    ):
        raise argparse.ArgumentTypeError(
            _g(
                "expected STORE_CODE:STORE_NAME:VALUE[:TYPE] such as KFC01:肯德基:1000:1, "
                "got %(spec)r"
            )
            % {"spec": spec}
        )
    store_code, store_name, value = parts[:3]
    coupon_type = int(parts[3]) if len(parts) == 4 else 1
    return {
        "coupon_name": simulator.coupon_name(coupon_type, int(value)),
        "coupon_code": f"C{secrets.token_hex(5).upper()}",
        "store_name": store_name,
        "store_code": store_code,
        "coupon_type": str(coupon_type),
        "coupon_value": value,
        "grant_time": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        "grant_serial": f"G{secrets.randbelow(10**15):015d}",
    }


@dataclass(frozen=True)
class Push:
    """One push to send: its fields (for the report) and its signed body."""

    params: dict[str, Any]
    encoded: simulator.EncodedPush


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property, so the text is translated when it is shown
        return _g(
            "Play the platform: build a push of any kind (or read one from a JSON file), sign "
            "it with the configured PLATFORM_APP_ID and first PLATFORM_APP_SECRET, POST it and "
            "print the answer. Exits non-zero unless every push is answered 1001."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default=None,
            help=_g("Where to POST (default: http://127.0.0.1:$PORT%s, PORT 8000).") % PUSH_PATH,
        )
        parser.add_argument(
            "--kind",
            choices=sorted(simulator.PUSH_PATHS),
            default="pay",
            help=_g("Which push: pay (the pay order, default), entry, exit or renewal."),
        )
        parser.add_argument(
            "--visit",
            action="store_true",
            help=_g(
                "Send a whole visit: the entry, the pay order and the exit, with one parking "
                "serial and consistent times; --amount is the fee."
            ),
        )
        parser.add_argument(
            "--parking-serial", help=_g("Parking serial of an entry or exit (default: fresh).")
        )
        parser.add_argument(
            "--free", type=_whole_number, help=_g("Exit, visit: discounts granted, in fen.")
        )
        parser.add_argument(
            "--autopay", type=_whole_number, help=_g("Exit, visit: paid by autopay, in fen.")
        )
        parser.add_argument(
            "--vip-type", type=_whole_number, help=_g("Renewal: the fixed-car type (default 1).")
        )
        parser.add_argument(
            "--quantity",
            type=_whole_number,
            help=_g("Renewal: days bought, or the type's unit (default 31)."),
        )
        parser.add_argument(
            "--file",
            type=Path,
            help=_g(
                "Read the push's fields from this JSON object instead of building them; the "
                "options below still override them, and any 'sign' is recomputed."
            ),
        )
        parser.add_argument("--plate", help=_g("Plate number (default 川A660P1)."))
        parser.add_argument(
            "--park-uuid", help=_g("Park uuid (default: the platform's demo park).")
        )
        parser.add_argument("--park-name", help=_g("Park name (default P云支付体验-停车场)."))
        parser.add_argument(
            "--amount", type=_whole_number, help=_g("Amount paid, in fen (default 100).")
        )
        parser.add_argument(
            "--pay-serial",
            help=_g(
                "Pay serial (default: a fresh one per push). With --count, every push repeats "
                "this same push, which tests idempotency."
            ),
        )
        parser.add_argument(
            "--pay-time",
            type=_whole_number,
            help=_g("Payment time, ms since epoch (default: now)."),
        )
        parser.add_argument("--channel", help=_g("Payment channel code (default 200102)."))
        parser.add_argument("--identity", help=_g("Platform user identity."))
        parser.add_argument(
            "--discount",
            action="append",
            type=parse_discount,
            default=[],
            metavar="VALUE[:MOBILE[:TYPE]]",
            help=_g(
                "Add a discount of VALUE fen, optionally with a mobile number and a type "
                "(default 1); or give a JSON object. Repeatable."
            ),
        )
        parser.add_argument(
            "--coupon",
            action="append",
            type=parse_coupon,
            default=[],
            metavar="STORE_CODE:STORE_NAME:VALUE[:TYPE]",
            help=_g(
                "Add a merchant coupon worth VALUE, of DiscountType TYPE (default 1, amount in "
                "fen); or give a JSON object. Repeatable."
            ),
        )
        body = parser.add_mutually_exclusive_group()
        body.add_argument(
            "--json", action="store_true", help=_g("Send a JSON body with a sign field.")
        )
        body.add_argument(
            "--header-sign",
            action="store_true",
            help=_g("Send a JSON body signed in the Authorization header."),
        )
        parser.add_argument(
            "--count",
            type=_positive_int,
            default=1,
            help=_g("Send this many pushes, each with a fresh pay serial, and print a summary."),
        )
        parser.add_argument(
            "--concurrency",
            type=_positive_int,
            default=1,
            help=_g("Send with this many threads at once (default 1)."),
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help=_g("Seconds to wait for each answer (default 10)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PLATFORM_APP_ID or not settings.PLATFORM_APP_SECRET:
            raise CommandError(
                _g("Set PLATFORM_APP_ID and PLATFORM_APP_SECRET (see .env.example) to sign pushes.")
            )
        self.secret = settings.PLATFORM_APP_SECRET[0]
        self.options = options
        self.url = options["url"] or default_url()
        if not re.match(r"https?://[^/]", self.url):
            raise CommandError(_g("--url must be an http:// or https:// URL."))
        self.template = self._read_file(options["file"]) if options["file"] else None
        if options["visit"]:
            self._send_visit()
            return
        self.url = url_for(self.url, options["kind"])

        count = options["count"]
        if count == 1:
            self._send_one(self._encode(self._params(fresh_serial=False)))
        elif options[SERIAL_FIELD[options["kind"]]]:
            # The very same push again and again, as a platform retrying it would.
            self._send_many([self._encode(self._params(fresh_serial=False))] * count)
        else:
            self._send_many([self._encode(self._params(fresh_serial=True)) for _ in range(count)])

    # --- building ----------------------------------------------------------------------------

    def _read_file(self, path: Path) -> dict[str, Any]:
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(
                _g("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from None
        except ValueError as exc:
            raise CommandError(
                _g("%(path)s is not valid JSON: %(error)s") % {"path": path, "error": exc}
            ) from None
        if not isinstance(value, dict):
            raise CommandError(_g("%(path)s must hold one JSON object.") % {"path": path})
        value.pop("sign", None)
        return value

    def _params(self, *, fresh_serial: bool) -> dict[str, Any]:
        options = self.options
        if options["kind"] != "pay":
            return self._other_params(options["kind"], fresh_serial=fresh_serial)
        overrides = {
            "plate": options["plate"],
            "park_uuid": options["park_uuid"],
            "park_name": options["park_name"],
            "pay_serial": options["pay_serial"],
            "channel": options["channel"],
            "identity": options["identity"],
            "pay_value": None if options["amount"] is None else str(options["amount"]),
            "pay_time": None if options["pay_time"] is None else str(options["pay_time"]),
            "discounts": options["discount"] or None,
            "mcoupons": options["coupon"] or None,
        }
        overrides = {key: value for key, value in overrides.items() if value is not None}
        if self.template is not None:
            params = {"app_id": settings.PLATFORM_APP_ID, **self.template, **overrides}
            if fresh_serial:
                params["pay_serial"] = simulator.new_serial()
            return params
        params = simulator.build_push(app_id=settings.PLATFORM_APP_ID)
        params.update(overrides)
        return params

    def _other_params(self, kind: str, *, fresh_serial: bool) -> dict[str, Any]:
        """The fields of an entry, exit or renewal push, with the options given."""
        options = self.options
        amount = None if options["amount"] is None else str(options["amount"])
        overrides = {
            "plate": options["plate"],
            "park_uuid": options["park_uuid"],
            "park_name": options["park_name"],
            SERIAL_FIELD[kind]: options[SERIAL_FIELD[kind]],
        }
        if kind == "exit":
            overrides["total_value"] = amount
            for option, field in (("free", "free_value"), ("autopay", "autopay_value")):
                if options[option] is not None:
                    overrides[field] = str(options[option])
        if kind == "renewal":
            overrides["pay_value"] = amount
            overrides["channel"] = options["channel"]
            overrides["identity"] = options["identity"]
            if options["pay_time"] is not None:
                overrides["pay_time"] = str(options["pay_time"])
        overrides = {key: value for key, value in overrides.items() if value is not None}
        app_id = settings.PLATFORM_APP_ID
        if self.template is not None:
            params = {"app_id": app_id, **self.template, **overrides}
        elif kind == "renewal":
            renewal = {
                name: options[name]
                for name in ("vip_type", "quantity")
                if options[name] is not None
            }
            params = {**simulator.build_renewal(app_id=app_id, **renewal), **overrides}
        else:
            build = simulator.build_entry if kind == "entry" else simulator.build_exit
            params = {**build(app_id=app_id), **overrides}
        if fresh_serial:
            field = SERIAL_FIELD[kind]
            params[field] = (
                simulator.new_serial() if field == "pay_serial" else simulator.new_parking_serial()
            )
        return params

    def _send_visit(self) -> None:
        """Send one whole visit (entry, pay order, exit), stopping at the first refusal."""
        options = self.options
        where = {
            name: options[name]
            for name in ("plate", "park_uuid", "park_name")
            if options[name] is not None
        }
        visit = simulator.build_visit(
            app_id=settings.PLATFORM_APP_ID,
            total_value=1000 if options["amount"] is None else options["amount"],
            free_value=options["free"] or 0,
            autopay_value=options["autopay"] or 0,
            **where,
        )
        base = self.url
        for kind, params in visit:
            self.url = url_for(base, kind)
            self._send_one(self._encode(params), kind=kind)

    def _encode(self, params: dict[str, Any]) -> Push:
        encoded = simulator.encode_push(
            params,
            secret=self.secret,
            as_json=self.options["json"],
            header_sign=self.options["header_sign"],
        )
        return Push(params, encoded)

    # --- sending -----------------------------------------------------------------------------

    def _describe(self, params: dict[str, Any], push_kind: str = "pay") -> str:
        if self.options["header_sign"]:
            kind = _g("JSON, signed in the Authorization header")
        elif self.options["json"]:
            kind = _g("JSON")
        else:
            kind = _g("form")
        if push_kind != "pay":
            return _g(
                "POST %(url)s (%(kind)s): %(push)s %(field)s=%(serial)s plate=%(plate)s "
                "park=%(park)s"
            ) % {
                "url": self.url,
                "kind": kind,
                "push": push_kind,
                "field": SERIAL_FIELD[push_kind],
                "serial": params.get(SERIAL_FIELD[push_kind], ""),
                "plate": params.get("plate", ""),
                "park": params.get("park_name", params.get("park_uuid", "")),
            }
        return _g(
            "POST %(url)s (%(kind)s): pay_serial=%(serial)s plate=%(plate)s park=%(park)s "
            "pay_value=%(value)s fen"
        ) % {
            "url": self.url,
            "kind": kind,
            "serial": params.get("pay_serial", ""),
            "plate": params.get("plate", ""),
            "park": params.get("park_name", params.get("park_uuid", "")),
            "value": params.get("pay_value", ""),
        }

    def _unreachable(self, error: simulator.Unreachable) -> CommandError:
        return CommandError(
            _g(
                "Cannot reach %(url)s: %(error)s. Is the server running? `make run` starts it; "
                "--url sends elsewhere."
            )
            % {"url": self.url, "error": error}
        )

    def _send_one(self, push: Push, kind: str | None = None) -> None:
        self.stdout.write(self._describe(push.params, kind or self.options["kind"]))
        if self.options["verbosity"] >= 2:
            # The body and the signature header; neither holds the secret.
            for name, value in push.encoded.headers.items():
                self.stdout.write(f"{name}: {value}")
            self.stdout.write(push.encoded.body.decode("utf-8"))
        try:
            answer = simulator.post_push(self.url, push.encoded, timeout=self.options["timeout"])
        except simulator.Unreachable as error:
            raise self._unreachable(error) from None
        shown = json.dumps(answer.body, ensure_ascii=False) if answer.body else answer.message
        line = f"HTTP {answer.status} {shown}"
        if answer.code == STORED:
            self.stdout.write(self.style.SUCCESS(line))
            return
        self.stdout.write(self.style.ERROR(line))
        if answer.body is None:
            raise CommandError(
                _g(
                    "The server answered HTTP %(status)d, not with a push answer: is %(url)s the "
                    "push endpoint (…%(path)s)?"
                )
                % {
                    "status": answer.status,
                    "url": self.url,
                    "path": simulator.PUSH_PATHS[kind or self.options["kind"]],
                }
            )
        raise CommandError(
            _g("The push was not accepted: %(code)s %(reason)s")
            % {"code": answer.code, "reason": answer.reason}
        )

    def _send_many(self, pushes: list[Push]) -> None:
        stop = threading.Event()
        outcomes: list[tuple[Push, simulator.Answer | simulator.Unreachable]] = []
        lock = threading.Lock()

        def send(push: Push) -> None:
            if stop.is_set():
                return
            try:
                outcome: Any = simulator.post_push(
                    self.url, push.encoded, timeout=self.options["timeout"]
                )
            except simulator.Unreachable as error:
                # No point in knocking on a closed door a thousand more times.
                stop.set()
                outcome = error
            with lock:
                outcomes.append((push, outcome))

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=self.options["concurrency"]) as pool:
            list(pool.map(send, pushes))
        elapsed = time.monotonic() - started

        answers = [(p, o) for p, o in outcomes if isinstance(o, simulator.Answer)]
        unreachable = [o for _, o in outcomes if isinstance(o, simulator.Unreachable)]
        if unreachable and not answers:
            raise self._unreachable(unreachable[0])

        self.stdout.write(
            _g("Sent %(count)d pushes to %(url)s in %(seconds).2f s (concurrency %(c)d).")
            % {
                "count": len(answers),
                "url": self.url,
                "seconds": elapsed,
                "c": self.options["concurrency"],
            }
        )
        tally = Counter((answer.code, answer.reason) for _, answer in answers)
        for (code, reason), number in sorted(tally.items()):
            line = f"  {code} {reason}: {number}"
            self.stdout.write(
                self.style.SUCCESS(line) if code == STORED else self.style.ERROR(line)
            )
        failures = [(push, answer) for push, answer in answers if answer.code != STORED]
        if failures:
            self.stdout.write(_g("Failures:"))
            for push, answer in failures[:MAX_LISTED_FAILURES]:
                self.stdout.write(
                    f"  {push.params.get(SERIAL_FIELD[self.options['kind']], '')}: "
                    f"{answer.code} {answer.reason} "
                    f"{answer.message}"
                )
            if len(failures) > MAX_LISTED_FAILURES:
                self.stdout.write(
                    _g("  ... and %(more)d more") % {"more": len(failures) - MAX_LISTED_FAILURES}
                )
        if unreachable:
            raise CommandError(
                _g("%(error)s %(sent)d of %(count)d pushes were answered before that.")
                % {
                    "error": self._unreachable(unreachable[0]),
                    "sent": len(answers),
                    "count": len(pushes),
                }
            )
        if failures:
            raise CommandError(
                _g("%(failed)d of %(count)d pushes were not accepted (1001).")
                % {"failed": len(failures), "count": len(pushes)}
            )
