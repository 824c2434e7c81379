"""Storing a validated entry, exit or renewal push once (PLATFORM_PUSHES.md, "Identity,
retries and conflicts" and "The stay"), with its park and its push-log row, in one transaction.

The entry and the exit of one ``parking_serial`` share one ``Stay`` row, and either may come
first: each writes its half with a conditional UPDATE (only while that half is empty) or, when
there is no row yet, an INSERT that the unique ``parking_serial`` lets only one writer win. The
loser re-reads and compares, as the pay order does (``orders.push.storing``).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When

from orders.models import PushLog
from orders.push.outcomes import Outcome, PushResult
from orders.push.storing import Statement, save_park, valid_entry_id
from orders.stays.models import Renewal, Stay
from orders.stays.validation import EventData, moment
from whitelist.models import Park

# Where a park is, as the entry and exit pushes say; each is written only when given.
PLACE_FIELDS = ("address", "area_code", "latitude", "longitude")
# The entry's details: on the stay from whichever push comes first, the entry's winning.
ENTRY_DETAILS = (
    "plate_color",
    "car_type",
    "vehicle_type",
    "car_desc",
    "enter_gate",
    "enter_security",
    "enter_image",
)
EXIT_DETAILS = ("parking_time", "total_value", "free_value", "autopay_value")
EXIT_TEXT = ("leave_gate", "leave_security", "leave_image")
# A write that keeps losing to other writers of the same serial is a bug, not a race.
_ATTEMPTS = 3


class _Held(Exception):
    """The half this push would write is already stored: answer from what is held."""


def _park(fields: Mapping[str, Any], *, now: datetime) -> tuple[Park, list[str]]:
    """The push's park, and the columns an existing park takes from it besides last_seen: the
    newest name, and the address and position only when the push gives them (a push without
    them, or with the platform's ``-1.0``, does not erase what an earlier one said)."""
    given = [name for name in PLACE_FIELDS if fields.get(name) not in (None, "")]
    park = Park(
        park_uuid=fields["park_uuid"],
        name=fields["park_name"],
        first_seen=now,
        last_seen=now,
        **{name: fields[name] for name in given},
    )
    return park, ["name", *given]


def _park_upsert(statement: Statement, fields: Mapping[str, Any], *, now: datetime) -> None:
    """Add the push's park to a one-statement write (PostgreSQL) as its ``park`` CTE
    (``Statement.park``), made only if its whitelist check found an entry."""
    park, update = _park(fields, now=now)
    statement.park(park, update=update)


def upsert_park(fields: Mapping[str, Any], *, now: datetime) -> int:
    """Return the push's park's id, the park created or brought up to date (the newest name
    and position win; ``save_park``)."""
    park, update = _park(fields, now=now)
    return save_park(park, update=update)


def _result(outcome: Outcome, message: str, record_id: int | None) -> PushResult:
    # PushResult.order_id carries the id of the record the push concerns; the push kind
    # (orders.push.kinds) says which log column it goes to.
    return PushResult(outcome, message, record_id)


def _answer_held(
    held: Mapping[str, Any] | None, fingerprint_field: str, data: EventData, what: str
) -> PushResult | None:
    """Answer for a serial whose half (or renewal) is held: a retry or a conflict."""
    if held is None or not held[fingerprint_field]:
        return None
    if held[fingerprint_field] == data.fingerprint:
        return _result(Outcome.DUPLICATE, f"{what} already stored", held["pk"])
    return _result(Outcome.CONFLICT, f"{what} already stored with different content", None)


def held_entry(data: EventData) -> PushResult | None:
    """Answer for an entry already held for this parking_serial, if one is."""
    held = Stay.objects.filter(parking_serial=data.serial).values("pk", "entry_fingerprint")
    return _answer_held(held.first(), "entry_fingerprint", data, "entry")


def held_exit(data: EventData) -> PushResult | None:
    """Answer for an exit already held for this parking_serial, if one is."""
    held = Stay.objects.filter(parking_serial=data.serial).values("pk", "exit_fingerprint")
    return _answer_held(held.first(), "exit_fingerprint", data, "exit")


def held_renewal(data: EventData) -> PushResult | None:
    """Answer for a renewal already held with this pay_serial, if one is."""
    held = Renewal.objects.filter(pay_serial=data.serial).values("pk", "fingerprint")
    return _answer_held(held.first(), "fingerprint", data, "renewal")


def _entry_half(data: EventData, *, now: datetime) -> dict[str, Any]:
    """The stay's columns an entry push writes (its whitelist entry is the write's to find)."""
    fields = data.fields
    return {
        "enter_time": moment(fields["enter_time"]),
        **{name: fields[name] for name in ENTRY_DETAILS},
        "entry_raw": dict(data.raw),
        "entry_extra": dict(data.extra),
        "entry_received_at": now,
        "updated_at": now,  # this write's own stamp: the sync's settle horizon relies on it
        "entry_fingerprint": data.fingerprint,
        "entry_whitelist_entry_id": None,
    }


def _exit_half(data: EventData, *, now: datetime) -> dict[str, Any]:
    """The stay's columns an exit push writes (its entry details are the entry's to set; its
    whitelist entry is the write's to find)."""
    fields = data.fields
    return {
        "leave_time": moment(fields["leave_time"]),
        **{name: fields[name] for name in (*EXIT_DETAILS, *EXIT_TEXT)},
        "exit_enter_time": moment(fields["enter_time"]),
        "exit_raw": dict(data.raw),
        "exit_extra": dict(data.extra),
        "exit_received_at": now,
        "updated_at": now,  # this write's own stamp: the sync's settle horizon relies on it
        "exit_fingerprint": data.fingerprint,
        "exit_whitelist_entry_id": None,
    }


def _store_half(
    data: EventData,
    *,
    at: datetime,
    log: PushLog,
    half: dict[str, Any],
    entry_column: str,
    empty: Q,
    review: Case,
    first: dict[str, Any],
    held: Any,
    empty_column: str,
    review_sql: str,
) -> PushResult:
    """Write one half of a stay (its entry or its exit) with the push's log row, once, if a
    whitelist entry lets the plate in at ``at`` (else raise NotWhitelisted).

    ``entry_column`` is the half's column for that whitelist entry; ``empty`` selects the stay
    while this half is missing; ``review`` recomputes the mark against the other half, read by
    the UPDATE itself (so a concurrent write of the other half cannot be missed); ``first`` is
    what a new stay takes beyond this half.
    ``empty_column`` and ``review_sql`` say the same for PostgreSQL's one-statement write.
    """
    now = log.received_at
    db = transaction.get_connection()
    if db.vendor == "postgresql":
        stay_id = _write_half_in_one_statement(
            db,
            data,
            at=at,
            log=log,
            half=half,
            entry_column=entry_column,
            first=first,
            empty=empty_column,
            review=review_sql,
        )
        if stay_id is None:
            # The half is held: ON CONFLICT found the stay with it already written.
            log.pk = log.stay_id = None
            answer = held(data)
            if answer is None:
                raise RuntimeError(f"the stay {data.serial!r} vanished while storing it")
            return answer
        return _result(Outcome.ACCEPTED, "stay stored", stay_id)
    half = {**half, entry_column: valid_entry_id(data, at=at)}
    for _ in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                park_id = upsert_park(data.fields, now=now)
                rows = Stay.objects.filter(empty, parking_serial=data.serial)
                if rows.update(**half, needs_review=review):
                    stay_id = Stay.objects.values_list("pk", flat=True).get(
                        parking_serial=data.serial
                    )
                elif Stay.objects.filter(parking_serial=data.serial).exists():
                    raise _Held
                else:
                    stay = Stay(
                        parking_serial=data.serial,
                        park_id=park_id,
                        plate=data.plate,
                        plate_raw=data.fields["plate"],
                        app_id=data.app_id,
                        **first,
                        **half,
                    )
                    # An INSERT racing another for this serial fails here (IntegrityError).
                    stay.save(force_insert=True)
                    stay_id = stay.pk
                log.stay_id = stay_id
                log.save(force_insert=True)
        except (IntegrityError, _Held):
            # Another push of this serial committed first: the retry is answered from what
            # it stored; when it stored the other half, try again (now an UPDATE).
            log.pk = log.stay_id = None
            answer = held(data)
            if answer is not None:
                return answer
            continue
        return _result(Outcome.ACCEPTED, "stay stored", stay_id)
    raise RuntimeError(f"could not store the stay {data.serial!r}")


def _write_half_in_one_statement(
    db: Any,
    data: EventData,
    *,
    at: datetime,
    log: PushLog,
    half: dict[str, Any],
    entry_column: str,
    first: dict[str, Any],
    empty: str,
    review: str,
) -> int | None:
    """Write one half of a stay, its park and its log row with one PostgreSQL statement, if a
    whitelist entry lets the plate in at ``at`` (else raise NotWhitelisted, nothing written).

    The stay is inserted, or, when its serial is held, updated with this half only while the
    half is empty (``ON CONFLICT ... DO UPDATE ... WHERE``: PostgreSQL locks the row, so two
    writers of one serial take turns and the second sees the first's half). The log row is
    inserted only with the stay's. Return the stay's id, or None when the half was held.
    The park's upsert runs either way: a retry (or a 1409) of a signed, whitelisted push
    refreshes the park's name, position and last_seen, which is the park as the platform last
    described it, not part of the stay.
    """
    qn = db.ops.quote_name
    stay = Stay(
        parking_serial=data.serial,
        plate=data.plate,
        plate_raw=data.fields["plate"],
        app_id=data.app_id,
        **first,
        **half,
    )
    columns = [Stay._meta.get_field(name).column for name in half]
    sets = ", ".join(f"{qn(column)} = EXCLUDED.{qn(column)}" for column in columns)
    table = qn(Stay._meta.db_table)
    statement = Statement(db)
    statement.whitelisted(data, at=at)
    _park_upsert(statement, data.fields, now=log.received_at)
    statement.insert(
        "stay",
        Stay,
        [stay],
        f'ON CONFLICT ("parking_serial") DO UPDATE SET {sets}, "needs_review" = {review} '
        f"WHERE {table}.{qn(empty)} = '' RETURNING id",
        refs={"park_id": "park", Stay._meta.get_field(entry_column).attname: "entry"},
        only_if="park",
    )
    statement.insert("pushlog", PushLog, [log], refs={"stay_id": "stay"}, only_if="stay")
    stay_id = statement.run("stay")
    log.stay_id = stay_id
    return stay_id


def store_entry(data: EventData, *, at: datetime, log: PushLog) -> PushResult:
    """Store an entry on its stay (creating the stay when the exit has not come)."""
    enter_time = moment(data.fields["enter_time"])
    return _store_half(
        data,
        log=log,
        at=at,
        half=_entry_half(data, now=log.received_at),
        entry_column="entry_whitelist_entry_id",
        empty=Q(entry_fingerprint=""),
        # The exit, if held, came first: mark the stay when it saw another entry time.
        review=Case(
            When(exit_enter_time__isnull=True, then=Value(False)),
            When(exit_enter_time=enter_time, then=Value(False)),
            default=Value(True),
        ),
        first={},
        held=held_entry,
        empty_column="entry_fingerprint",
        # The held stay's exit (if any) against this entry's time (EXCLUDED: the new row).
        review_sql='CASE WHEN "orders_stay"."exit_enter_time" IS NULL OR '
        '"orders_stay"."exit_enter_time" = EXCLUDED."enter_time" THEN false ELSE true END',
    )


def store_exit(data: EventData, *, at: datetime, log: PushLog) -> PushResult:
    """Store an exit on its stay (creating the stay, with the exit's entry details, when the
    entry has not come: the entry's own details win when it does)."""
    enter_time = moment(data.fields["enter_time"])
    return _store_half(
        data,
        log=log,
        at=at,
        half=_exit_half(data, now=log.received_at),
        entry_column="exit_whitelist_entry_id",
        empty=Q(exit_fingerprint=""),
        review=Case(
            When(entry_received_at__isnull=True, then=Value(False)),
            When(enter_time=enter_time, then=Value(False)),
            default=Value(True),
        ),
        first={
            "enter_time": enter_time,
            **{name: data.fields[name] for name in ENTRY_DETAILS},
        },
        held=held_exit,
        empty_column="exit_fingerprint",
        # The held stay's entry (if any) against this exit's own entry time.
        review_sql='CASE WHEN "orders_stay"."entry_received_at" IS NULL OR '
        '"orders_stay"."enter_time" = EXCLUDED."exit_enter_time" THEN false ELSE true END',
    )


def store_renewal(data: EventData, *, at: datetime, log: PushLog) -> PushResult:
    """Store a renewal with its park and log row, once per pay_serial, if a whitelist entry
    lets the plate in at ``at`` (else raise NotWhitelisted, nothing written)."""
    fields = data.fields
    now = log.received_at
    renewal = Renewal(
        pay_serial=data.serial,
        plate=data.plate,
        plate_raw=fields["plate"],
        vip_type=fields["vip_type"],
        quantity=fields["quantity"],
        start_time=moment(fields["start_time"]),
        end_time=moment(fields["end_time"]),
        pay_value=fields["pay_value"],
        pay_time=moment(fields["pay_time"]),
        channel=fields["channel"],
        identity=fields["identity"],
        app_id=data.app_id,
        raw=dict(data.raw),
        extra=dict(data.extra),
        received_at=now,
        fingerprint=data.fingerprint,
    )
    db = transaction.get_connection()
    try:
        if db.vendor == "postgresql":
            # One statement, as the pay order's (orders.push.storing): the hot path.
            statement = Statement(db)
            statement.whitelisted(data, at=at)
            _park_upsert(statement, fields, now=now)
            refs = {"park_id": "park", "whitelist_entry_id": "entry"}
            statement.insert("renewal", Renewal, [renewal], "RETURNING id", refs, "park")
            statement.insert(
                "pushlog", PushLog, [log], refs={"renewal_id": "renewal"}, only_if="renewal"
            )
            renewal.pk = log.renewal_id = statement.run("renewal")
        else:
            renewal.whitelist_entry_id = valid_entry_id(data, at=at)
            with transaction.atomic():
                renewal.park_id = upsert_park(fields, now=now)
                renewal.save(force_insert=True)
                log.renewal_id = renewal.pk
                log.save(force_insert=True)
    except IntegrityError:
        # Another request committed this pay_serial first: the unique constraint decided.
        log.pk = log.renewal_id = None
        answer = held_renewal(data)
        if answer is None:
            raise
        return answer
    return _result(Outcome.ACCEPTED, "renewal stored", renewal.pk)
