"""whitelist.services.importing: the stages it reports, a batch of rows at a time, and a
cancel during the write that leaves nothing written."""

import pytest
from django.utils import translation

from parkingops.jobs.progress import JobCancelled, Progress
from whitelist.models import WhitelistEntry
from whitelist.services import importing, upsert
from whitelist.spreadsheet import has_more_rows_than, read_datetime
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db

HEADER = "车牌,车场编号,生效时间,持有人\r\n"
START = read_datetime("2026-01-01")


def csv_file(count: int) -> bytes:
    return (HEADER + "".join(f"川A{n:05d},,2026-01-01,张三\r\n" for n in range(count))).encode()


class Recorded(Progress):
    """Progress that records its stages and advances; ``cancel_at`` raises as a cancelled
    job's progress does, at the first advance of that stage."""

    def __init__(self, cancel_at: str | None = None) -> None:
        self.steps: list[tuple[str, int | None, list[int]]] = []
        self.cancel_at = cancel_at

    def stage(self, label, total=None):
        self.steps.append((str(label), total, []))

    def advance(self, count=1):
        label, _, advances = self.steps[-1]
        if label == self.cancel_at:
            raise JobCancelled
        advances.append(count)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_a_preview_reports_reading_then_checking_a_batch_at_a_time():
    progress = Recorded()

    preview = importing.preview_import(data=csv_file(1200), progress=progress)

    assert preview.count(upsert.CREATED) == 1200
    assert progress.steps == [
        ("Reading the file", None, [500, 500, 200]),
        ("Checking", 1200, [500, 500, 200]),
    ]


def test_an_import_reports_writing_the_rows_it_adds_and_changes():
    WhitelistEntryFactory(plate="川A00001", valid_from=START, holder="李四")
    progress = Recorded()

    result = importing.import_file(data=csv_file(700), file_name="a.csv", progress=progress)

    assert (result.count(upsert.CREATED), result.count(upsert.UPDATED)) == (699, 1)
    assert [step[0] for step in progress.steps] == ["Reading the file", "Checking", "Writing"]
    # New entries a batch at a time, then the changed ones.
    assert progress.steps[-1] == ("Writing", 700, [500, 199, 1])


def test_an_import_cancelled_while_writing_writes_nothing():
    changed = WhitelistEntryFactory(plate="川A00001", valid_from=START, holder="李四")
    history = changed.history.count()

    with pytest.raises(JobCancelled):
        importing.import_file(
            data=csv_file(1200), file_name="a.csv", progress=Recorded(cancel_at="Writing")
        )

    assert list(WhitelistEntry.objects.all()) == [changed]
    changed.refresh_from_db()
    assert changed.holder == "李四" and changed.history.count() == history


def test_a_dry_run_checks_and_writes_nothing():
    result = importing.import_file(data=csv_file(10), file_name="a.csv", dry_run=True)

    assert result.count(upsert.CREATED) == 10
    assert not WhitelistEntry.objects.exists()


@pytest.mark.parametrize(("count", "more"), [(5, False), (6, True)])
def test_rows_are_counted_up_to_the_limit_blank_ones_not(count, more):
    data = csv_file(count) + b",,,\r\n" * 10

    assert has_more_rows_than(data, 5) is more
