"""The demo's gates: the fake platform pushes live entries, pay orders and exits, as the real
platform does while cars come and go.

``fake_platform --demo --push-to URL`` runs a ``DemoGate`` beside the fake's open API: every
``every`` seconds one whitelisted car enters a park it may use, or a car in a park leaves — its
pay order first when a fee is due (``FEE_PER_HOUR`` per started hour), then its exit. Each pay
order is listed by the fake's payment list too, so a reconciliation of today agrees with what
was pushed. The stay list and the dashboard's 在场车辆 change while a clerk watches.
"""

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from orders.demo import simulator
from orders.stays.models import Stay
from parkingops.pcloud.fake import FakePlatform
from whitelist.models import Park, Status, WhitelistEntry, status_q

FEE_PER_HOUR = 500  # fen, per started hour
MOST_IN_PARK = 4  # cars in the parks at once, at most
LEAVES_AFTER_TICKS = 3  # a car stays at least this many ticks


@dataclass(frozen=True)
class Car:
    """A plate the whitelist admits into one park (a car of an all-parks entry is one Car per
    park it may use)."""

    plate: str
    park_uuid: str
    park_name: str


def whitelisted_cars(*, at: datetime) -> list[Car]:
    """Every (plate, park) the whitelist admits at ``at``: the cars the gate lets in."""
    parks = list(Park.objects.order_by("name", "pk"))
    entries = WhitelistEntry.objects.filter(status_q(Status.ACTIVE, at=at)).order_by("plate", "pk")
    cars = {
        Car(entry.plate, park.park_uuid, park.name)
        for entry in entries
        for park in parks
        if entry.park_uuid in ("", park.park_uuid)
    }
    return sorted(cars, key=lambda car: (car.plate, car.park_uuid))


@dataclass
class _Parked:
    car: Car
    parking_serial: str
    enter_ms: int
    ticks: int = 0
    paid: bool = False  # its pay order was taken; an exit tried again does not pay twice


class DemoGate:
    """Pushes one gate event per tick to the receiver at ``base_url`` (the receiver's
    origin, e.g. ``http://127.0.0.1:8000``). ``say`` gets one line per event."""

    def __init__(
        self,
        *,
        platform: FakePlatform,
        base_url: str,
        app_id: str,
        secret: str,
        cars: list[Car],
        say: Callable[[str], None],
        seed: int | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.secret = secret
        self.cars = cars
        self.say = say
        self.rng = random.Random(seed)  # noqa: S311 (demo traffic, not security)
        self.parked: list[_Parked] = []  # see park_the_cars_inside
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def park_the_cars_inside(self) -> None:
        """Take the cars the stays say are in a park now (seed_demo's, or left by an earlier
        run) as parked, so none enters twice and each leaves in its turn."""
        inside = Stay.objects.in_park().select_related("park").order_by("enter_time", "pk")
        self.parked = [
            _Parked(
                Car(stay.plate, stay.park.park_uuid, stay.park.name),
                stay.parking_serial,
                int(stay.enter_time.timestamp() * 1000),
            )
            for stay in inside
        ]

    def start(self, every: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.tick()

    def tick(self, *, now_ms: int | None = None) -> list[tuple[str, str]]:
        """Let one car in or out; return what was pushed as (kind, code)."""
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        for parked in self.parked:
            parked.ticks += 1
        ready = [parked for parked in self.parked if parked.ticks >= LEAVES_AFTER_TICKS]
        outside = self._outside()
        leave = ready and (
            len(self.parked) >= MOST_IN_PARK or not outside or self.rng.random() < 0.5
        )
        if leave:
            return self._leave(self.rng.choice(ready), now_ms)
        if outside:
            return self._enter(self.rng.choice(outside), now_ms)
        return []

    def _outside(self) -> list[Car]:
        inside = {parked.car.plate for parked in self.parked}
        return [car for car in self.cars if car.plate not in inside]

    def _enter(self, car: Car, now_ms: int) -> list[tuple[str, str]]:
        serial = simulator.new_parking_serial()
        entry = simulator.build_entry(
            app_id=self.app_id,
            parking_serial=serial,
            plate=car.plate,
            park_uuid=car.park_uuid,
            park_name=car.park_name,
            enter_time_ms=now_ms,
        )
        code = self._push("entry", entry)
        if code == "1001":
            self.parked.append(_Parked(car, serial, now_ms))
        return [("entry", code)]

    def _leave(self, parked: _Parked, now_ms: int) -> list[tuple[str, str]]:
        car = parked.car
        hours = max(1, math.ceil((now_ms - parked.enter_ms) / 3_600_000))
        fee = hours * FEE_PER_HOUR
        where = {"plate": car.plate, "park_uuid": car.park_uuid, "park_name": car.park_name}
        order = simulator.build_push(
            app_id=self.app_id, pay_value=fee, pay_time_ms=now_ms - 1000, **where
        )
        order["parking_serial"] = parked.parking_serial
        pushed = [] if parked.paid else [("pay", self._push("pay", order))]
        if pushed and pushed[0][1] == "1001":
            parked.paid = True
            self.platform.add_payment(
                park_uuid=car.park_uuid,
                park_name=car.park_name,
                plate=car.plate,
                parking_serial=parked.parking_serial,
                pay_serial=order["pay_serial"],
                value=fee,
                pay_value=fee,
                pay_time=datetime.fromtimestamp(int(order["pay_time"]) / 1000, UTC),
                channel=order["channel"],
                identity=order["identity"],
            )
        exit_push = simulator.build_exit(
            app_id=self.app_id,
            parking_serial=parked.parking_serial,
            enter_time_ms=parked.enter_ms,
            leave_time_ms=now_ms,
            total_value=fee,
            **where,
        )
        pushed.append(("exit", self._push("exit", exit_push)))
        if pushed[-1][1] == "1001":
            self.parked.remove(parked)
        return pushed

    def _push(self, kind: str, params: dict) -> str:
        """Sign and send one push; the receiver's code, or why it could not be reached (the
        gate tries again at a later tick: an entry refused is simply not in the park)."""
        encoded = simulator.encode_push(params, secret=self.secret)
        url = self.base_url + simulator.PUSH_PATHS[kind]
        try:
            answer = simulator.post_push(url, encoded, timeout=10)
        except simulator.Unreachable as error:
            self.say(f"gate: {kind} {params['plate']}: {url} unreachable ({error})")
            return "unreachable"
        self.say(f"gate: {kind} {params['plate']} {params['park_name']}: {answer.code}")
        return answer.code
