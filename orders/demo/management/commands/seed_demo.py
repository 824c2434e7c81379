"""Load the demo: parks, whitelist entries of every kind, ~300 orders, stays (entry and exit
pushes around those orders, a few cars in the park now; yesterday one stay with a payment gap and
one order whose stay was lost) and fixed-car renewals, all pushed like the platform.

Orders go through ``orders.push.services.receive_push`` with signed bodies built by the simulator,
so they are validated, whitelisted, stored and logged exactly as real pushes are. Everything is
deterministic (fixed serials, ``random.Random(SEED)``) and existing rows are left alone, so a
second run adds nothing.
"""

import base64
import contextlib
import hashlib
import logging
import math
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _g

from orders.demo import simulator
from orders.models import PayOrder
from orders.push import kinds
from orders.push.services import PushRequest, push_logger, receive_push
from orders.stays.models import Renewal, Stay
from parkingops.formatting import CHINA
from whitelist.models import Park, WhitelistEntry

SEED = 20210421
ORDER_COUNT = 300
DAYS = 30
# Marks the demo's whitelist entries, so a second run finds them instead of adding more.
DEMO_NOTE = "演示数据"


def _park(name: str) -> tuple[str, str]:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"parkingops-demo/{name}")), name


PARKS = [
    _park("成都天府广场地下停车场"),
    _park("成都春熙路IFS国际金融中心停车场"),
    _park("成都环球中心南区停车场"),
    _park("重庆解放碑时代广场停车场"),
]


@dataclass(frozen=True)
class DemoEntry:
    """A demo whitelist entry; days are counted from today's midnight (China time)."""

    kind: str  # what it shows, in its note (demo data, in the users' language)
    plate: str
    holder: str
    from_days: int | None  # None: from 2020-01-01
    until_days: int | None = None  # None: open-ended
    park: int | None = None  # index into PARKS; None: all parks
    is_active: bool = True
    weight: int = 1  # share of the demo orders


ENTRIES = [
    DemoEntry("全部车场，长期有效", simulator.DEMO_PLATE, "张伟", None, weight=6),
    DemoEntry("全部车场，新能源车", "川AD12345", "李娜", -180, weight=4),
    DemoEntry("全部车场，限期有效", "川A8K3M2", "王芳", -400, 200, weight=3),
    DemoEntry("指定车场，限期有效", "川A5R9E7", "刘洋", -90, 275, park=0, weight=3),
    DemoEntry("指定车场，长期有效", "渝B5C8Q6", "陈静", -60, park=3, weight=3),
    DemoEntry("已过期", "川A2N7H5", "杨磊", -365, -12, weight=2),
    DemoEntry("尚未生效", "川A9T4W1", "赵敏", 7),
    DemoEntry("已停用", "川A3G6X8", "黄勇", -200, is_active=False),
]

AMOUNTS = [300, 500, 600, 800, 1000, 1200, 1500, 1800, 2000, 2500, 3000, 4000, 4500, 6000, 8000]
# Illustrative channel codes; the seed sample's 200102 is the usual one.
CHANNELS = ["200102"] * 6 + ["200101"] * 2 + ["200201"]
STORES = [
    ("KFC-CD01", "肯德基（天府广场店）"),
    ("SBUX-0207", "星巴克咖啡"),
    ("WANDA-CD03", "万达影城"),
    ("YH-CS12", "永辉超市"),
    ("HDL-0521", "海底捞火锅"),
]
# (DiscountType, coupon_value): amounts in fen, time in minutes, free, percentage payable.
COUPONS = [(1, 500), (1, 1000), (1, 1500), (2, 60), (2, 120), (3, 0), (6, 80), (6, 50)]
# Stays: around every demo order (but one), plus cars in the park now: one car per park.
IN_PARK_PLATES = (simulator.DEMO_PLATE, "川AD12345", "川A8K3M2")  # entries for all parks
IN_PARK_NOW = len(IN_PARK_PLATES)
# Fixed-car renewals: (plate, vip_type, quantity, pay_value in fen, days ago).
RENEWALS = [
    (simulator.DEMO_PLATE, 1, 31, 30000, 25),
    (simulator.DEMO_PLATE, 1, 31, 30000, 2),
    ("川AD12345", 5, 365, 300000, 40),
    ("川AD12345", 2, 50000, 50000, 12),
    ("渝B5C8Q6", 6, 92, 80000, 20),
    ("渝B5C8Q6", 3, 20, 20000, 6),
]
MOBILE_PREFIXES = ["135", "138", "139", "150", "152", "158", "177", "186", "189", "199"]


def demo_serial(index: int) -> str:
    """Return the fixed pay serial of demo order ``index``: 26 digits, like the platform's."""
    digest = hashlib.sha256(f"parkingops-demo:{SEED}:{index}".encode()).hexdigest()
    return f"{int(digest, 16) % 10**26:026d}"


def _window(entry: WhitelistEntry, *, start: datetime, end: datetime) -> tuple[int, int] | None:
    """Return the ms range inside both the entry's validity and [start, end), or None."""
    lower = max(entry.valid_from, start)
    upper = min(entry.valid_until or end, end)
    # A second's margin at each end keeps pay_time strictly inside the window.
    low_ms = math.ceil(lower.timestamp()) * 1000 + 1000
    high_ms = math.floor(upper.timestamp()) * 1000 - 1000
    if high_ms - low_ms < 3600 * 1000:
        return None
    return low_ms, high_ms


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Let only warnings and errors of logger ``name`` through while the block runs."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property, so the text is translated when it is shown
        return _g(
            "Load demo data once: parks, whitelist entries of every kind and about %(count)d "
            "orders over the last %(days)d days, pushed through the real push service. "
            "Running it again adds nothing."
        ) % {"count": ORDER_COUNT, "days": DAYS}

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PLATFORM_APP_ID or not settings.PLATFORM_APP_SECRET:
            raise CommandError(
                _g("Set PLATFORM_APP_ID and PLATFORM_APP_SECRET (see .env.example) to sign pushes.")
            )
        now = timezone.now()
        entries = self._ensure_entries(now)
        # One INFO line per push is right for the server, noise for 300 demo pushes.
        quiet = options["verbosity"] < 2
        with contextlib.ExitStack() as stack:
            if quiet:
                stack.enter_context(_quiet_logger("orders.push.services"))
                stack.enter_context(_quiet_logger(push_logger.name))
            self._push_orders(entries, now)
            self._push_stays(now)
            self._push_renewals(now)

    def _ensure_entries(self, now: datetime) -> list[tuple[DemoEntry, WhitelistEntry]]:
        midnight = timezone.localtime(now, CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
        result, created = [], 0
        for demo in ENTRIES:
            park_uuid = PARKS[demo.park][0] if demo.park is not None else ""
            note = f"{DEMO_NOTE}：{demo.kind}"
            entry = WhitelistEntry.objects.filter(
                plate=demo.plate, park_uuid=park_uuid, note=note
            ).first()
            if entry is None:
                valid_from = (
                    datetime(2020, 1, 1, tzinfo=CHINA)
                    if demo.from_days is None
                    else midnight + timedelta(days=demo.from_days)
                )
                valid_until = (
                    None if demo.until_days is None else midnight + timedelta(days=demo.until_days)
                )
                entry = WhitelistEntry.objects.create(
                    plate=demo.plate,
                    park_uuid=park_uuid,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    is_active=demo.is_active,
                    holder=demo.holder,
                    note=note,
                )
                created += 1
            result.append((demo, entry))
        self.stdout.write(
            _g("Whitelist: %(created)d demo entries created, %(kept)d already there.")
            % {"created": created, "kept": len(ENTRIES) - created}
        )
        return result

    def _push_orders(self, entries: list[tuple[DemoEntry, WhitelistEntry]], now: datetime) -> None:
        rng = random.Random(SEED)  # noqa: S311 (demo data, deterministic on purpose)
        serials = [demo_serial(index) for index in range(ORDER_COUNT)]
        held = set(
            PayOrder.objects.filter(pay_serial__in=serials).values_list("pay_serial", flat=True)
        )
        if len(held) == len(serials):
            self.stdout.write(
                _g("Orders: all %(count)d demo orders already there; nothing to do.")
                % {"count": len(serials)}
            )
            return

        # Orders only for entries that let a push in at some time in the last DAYS days.
        start = now - timedelta(days=DAYS)
        pushable = []
        for demo, entry in entries:
            window = _window(entry, start=start, end=now) if entry.is_active else None
            if window is not None:
                pushable.append((demo, entry, window))
        if not pushable:
            raise CommandError(_g("No demo whitelist entry is valid in the last 30 days."))
        weights = [demo.weight for demo, _, _ in pushable]

        secret = settings.PLATFORM_APP_SECRET[0]
        outcomes: Counter[tuple[str, str]] = Counter()
        failures: list[str] = []
        with_discounts = with_coupons = 0
        for serial in serials:
            # Every order draws from the generator, stored or not, so the data stay the same.
            demo, entry, window = rng.choices(pushable, weights)[0]
            params, encoding, received = self._order(rng, serial, entry, window, now)
            if serial in held:
                continue
            encoded = simulator.encode_push(
                params,
                secret=secret,
                as_json=encoding == "json",
                header_sign=encoding == "header",
            )
            result = receive_push(
                request=PushRequest(
                    body=encoded.body,
                    content_type=encoded.content_type,
                    authorization=encoded.headers.get("Authorization", ""),
                    remote_addr="seed_demo",
                ),
                now=received,
            )
            outcomes[(result.code, result.reason)] += 1
            if not result.acknowledged:
                failures.append(f"{serial} {params['plate']}: {result.code} {result.reason}")
                continue
            with_discounts += bool(params["discounts"])
            with_coupons += bool(params.get("mcoupons"))

        pushed = sum(outcomes.values())
        self.stdout.write(
            _g(
                "Orders: %(pushed)d demo pushes sent through the push service (%(outcomes)s), "
                "%(held)d already there; %(discounts)d with discounts, %(coupons)d with "
                "merchant coupons, in %(parks)d parks."
            )
            % {
                "pushed": pushed,
                "outcomes": ", ".join(f"{c} {r}: {n}" for (c, r), n in sorted(outcomes.items())),
                "held": len(held),
                "discounts": with_discounts,
                "coupons": with_coupons,
                "parks": Park.objects.filter(park_uuid__in=[u for u, _ in PARKS]).count(),
            }
        )
        if failures:
            raise CommandError(
                _g("%(count)d demo pushes were refused: %(first)s")
                % {"count": len(failures), "first": "; ".join(failures[:5])}
            )

    def _send(self, kind: str, params: dict[str, Any], received: datetime) -> str:
        """Push one signed event of ``kind`` through the push service; return its reason."""
        encoded = simulator.encode_push(params, secret=settings.PLATFORM_APP_SECRET[0])
        result = receive_push(
            request=PushRequest(
                body=encoded.body, content_type=encoded.content_type, remote_addr="seed_demo"
            ),
            now=received,
            kind=kinds.KINDS[kind],
        )
        return result.reason

    def _push_stays(self, now: datetime) -> None:
        """Entries and exits around every demo order, as the platform pushes them, and a few
        cars that entered in the last hours and are in the park now. Yesterday (China time)
        shows the reconciliation's two stay differences: its first order's stay was not paid in
        full (the rest in cash at the gate, say), and its second order's entry and exit were
        lost (no stay). An order paid in the last minutes is still in the park."""
        rng = random.Random(SEED + 1)  # noqa: S311 (demo data, deterministic on purpose)
        app_id = settings.PLATFORM_APP_ID
        orders = list(
            PayOrder.objects.filter(
                pay_serial__in=[demo_serial(index) for index in range(ORDER_COUNT)]
            )
            .select_related("park", "whitelist_entry")
            .order_by("pay_time", "pay_serial")
        )
        yesterday = timezone.localtime(now, CHINA).date() - timedelta(days=1)
        of_yesterday = [
            order
            for order in orders
            if timezone.localtime(order.pay_time, CHINA).date() == yesterday
        ]
        short = of_yesterday[0].pk if of_yesterday else None
        lost = of_yesterday[1].pk if len(of_yesterday) > 1 else None
        now_ms = int(now.timestamp() * 1000)
        visits = []
        for order in orders:
            # Drawn for every order, pushed or not, so the data stay the same.
            before, after = rng.randint(20, 300) * 60_000, rng.randint(1, 10) * 60_000
            free = rng.choice([0, 0, 0, 200, 500])
            if order.pk == lost:
                continue
            pay_ms = int(order.pay_time.timestamp() * 1000)
            # Entry and exit inside the whitelist entry's validity, as the platform pushes only
            # whitelisted plates' events.
            entry_of = order.whitelist_entry
            enter_ms = pay_ms - before
            leave_ms = pay_ms + after
            if entry_of is not None:
                enter_ms = max(enter_ms, int(entry_of.valid_from.timestamp() * 1000))
                if entry_of.valid_until is not None:
                    leave_ms = min(leave_ms, int(entry_of.valid_until.timestamp() * 1000) - 1000)
            where = {
                "plate": order.plate,
                "park_uuid": order.park.park_uuid,
                "park_name": order.park.name,
            }
            entry = simulator.build_entry(
                app_id=app_id,
                parking_serial=order.parking_serial,
                enter_time_ms=enter_ms,
                **where,
            )
            pushes = [(entry, enter_ms)]
            if leave_ms < now_ms:
                leave = simulator.build_exit(
                    app_id=app_id,
                    parking_serial=order.parking_serial,
                    enter_time_ms=enter_ms,
                    leave_time_ms=leave_ms,
                    total_value=order.pay_value + free + (500 if order.pk == short else 0),
                    free_value=free,
                    **where,
                )
                pushes.append((leave, leave_ms))
            visits.append((order.parking_serial, pushes))
        for index in range(IN_PARK_NOW):
            park_uuid, park_name = PARKS[index]
            serial = f"{SEED}{index:010d}"
            enter_ms = int((now - timedelta(minutes=rng.randint(20, 240))).timestamp() * 1000)
            entry = simulator.build_entry(
                app_id=app_id,
                parking_serial=serial,
                enter_time_ms=enter_ms,
                plate=IN_PARK_PLATES[index],
                park_uuid=park_uuid,
                park_name=park_name,
            )
            visits.append((serial, [(entry, enter_ms)]))
        held = set(
            Stay.objects.filter(parking_serial__in=[serial for serial, _ in visits]).values_list(
                "parking_serial", flat=True
            )
        )
        outcomes: Counter[str] = Counter()
        for serial, pushes in visits:
            if serial in held:
                continue
            for params, event_ms in pushes:
                kind = "exit" if "leave_time" in params else "entry"
                received = min(datetime.fromtimestamp(event_ms / 1000 + 3, CHINA), now)
                params["timestamp"] = str(int(received.timestamp() * 1000))
                outcomes[self._send(kind, params, received)] += 1
        self.stdout.write(
            _g("Stays: %(new)d demo stays pushed (%(outcomes)s), %(held)d already there.")
            % {
                "new": len(visits) - len(held),
                "outcomes": ", ".join(f"{r}: {n}" for r, n in sorted(outcomes.items())) or "-",
                "held": len(held),
            }
        )

    def _push_renewals(self, now: datetime) -> None:
        """A few fixed-car renewals of the demo plates over the last weeks."""
        app_id = settings.PLATFORM_APP_ID
        midnight = timezone.localtime(now, CHINA).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        serials = [f"{SEED}R{index:05d}" for index in range(len(RENEWALS))]
        held = set(
            Renewal.objects.filter(pay_serial__in=serials).values_list("pay_serial", flat=True)
        )
        outcomes: Counter[str] = Counter()
        for serial, (plate, vip_type, quantity, value, days) in zip(serials, RENEWALS, strict=True):
            if serial in held:
                continue
            paid = midnight - timedelta(days=days)
            park_uuid, park_name = PARKS[3] if plate == "渝B5C8Q6" else PARKS[0]
            params = simulator.build_renewal(
                app_id=app_id,
                pay_serial=serial,
                plate=plate,
                park_uuid=park_uuid,
                park_name=park_name,
                vip_type=vip_type,
                quantity=quantity,
                pay_value=value,
                pay_time_ms=int(paid.timestamp() * 1000),
                timestamp=str(int(paid.timestamp() * 1000) + 2000),
            )
            outcomes[self._send("renewal", params, paid + timedelta(seconds=3))] += 1
        self.stdout.write(
            _g("Renewals: %(new)d demo renewals pushed (%(outcomes)s), %(held)d already there.")
            % {
                "new": len(serials) - len(held),
                "outcomes": ", ".join(f"{r}: {n}" for r, n in sorted(outcomes.items())) or "-",
                "held": len(held),
            }
        )

    def _order(
        self,
        rng: random.Random,
        serial: str,
        entry: WhitelistEntry,
        window: tuple[int, int],
        now: datetime,
    ) -> tuple[dict[str, Any], str, datetime]:
        """Draw one demo order: its push fields, its encoding and when it is received."""
        park_uuid, park_name = (
            next(park for park in PARKS if park[0] == entry.park_uuid)
            if entry.park_uuid
            else rng.choice(PARKS)
        )
        pay_ms = rng.randint(*window)
        if datetime.fromtimestamp(pay_ms / 1000, CHINA).hour < 7:
            # Few people pay for parking before seven in the morning: draw once more.
            pay_ms = rng.randint(*window)
        received = min(
            datetime.fromtimestamp((pay_ms + rng.randint(2_000, 40_000)) / 1000, CHINA), now
        )
        received_ms = int(received.timestamp() * 1000)
        params = simulator.build_push(
            app_id=settings.PLATFORM_APP_ID,
            pay_serial=serial,
            plate=entry.plate,
            park_uuid=park_uuid,
            park_name=park_name,
            pay_value=rng.choice(AMOUNTS),
            pay_time_ms=pay_ms,
            channel=rng.choice(CHANNELS),
            identity=base64.b64encode(rng.randbytes(16)).decode("ascii"),
            discounts=self._discounts(rng) if rng.random() < 0.3 else [],
            mcoupons=self._coupons(rng, pay_ms) if rng.random() < 0.25 else None,
            parking_serial=str(rng.randrange(10**17, 10**18)),
            timestamp=str(received_ms - rng.randint(50, 900)),
        )
        encoding = rng.choices(["form", "json", "header"], [80, 12, 8])[0]
        return params, encoding, received

    def _discounts(self, rng: random.Random) -> list[dict[str, Any]]:
        mobile = ""
        if rng.random() < 0.6:
            mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        return [
            {
                "type": "1",
                "token": f"tk-{rng.randbytes(6).hex()}",
                "openid": "o" + base64.urlsafe_b64encode(rng.randbytes(21)).decode("ascii")[:27],
                "mobile": mobile,
                "relief_amount": "1",
                "relief_value": str(rng.choice([200, 300, 500, 800, 1000])),
            }
        ]

    def _coupons(self, rng: random.Random, pay_ms: int) -> list[dict[str, Any]]:
        coupons = []
        for _ in range(rng.choice([1, 1, 1, 2])):
            store_code, store_name = rng.choice(STORES)
            coupon_type, value = rng.choice(COUPONS)
            granted_ms = pay_ms - rng.randint(10 * 60_000, 5 * 3600_000)
            if rng.random() < 0.8:
                granted = datetime.fromtimestamp(granted_ms / 1000, CHINA)
                grant_time = granted.strftime("%Y-%m-%d %H:%M:%S")
            else:
                grant_time = str(granted_ms)
            coupons.append(
                {
                    "coupon_name": simulator.coupon_name(coupon_type, value),
                    "coupon_code": f"C{rng.randrange(16**10):010X}",
                    "store_name": store_name,
                    "store_code": store_code,
                    "coupon_type": str(coupon_type),
                    "coupon_value": str(value),
                    "grant_time": grant_time,
                    "grant_serial": f"G{rng.randrange(10**15):015d}",
                }
            )
        return coupons
