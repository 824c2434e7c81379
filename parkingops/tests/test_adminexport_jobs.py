"""An admin list's export above EXPORT_BACKGROUND_ROWS: a job writes the very file the download
would have been (same rows, same masking, same name), with its progress; a small list still
downloads at once, and a refused query or a missing permission starts no job."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.tests.conftest import FINANCE, VIEW_ALL
from orders.tests.factories import DiscountFactory, MerchantCouponFactory, PayOrderFactory
from parkingops import xlsx
from parkingops.adminexport import EXPORT_JOB
from parkingops.jobs import runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs
from whitelist.tests.factories import WhitelistEntryFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = "/admin/orders/payorder/"
COUPONS = "/admin/orders/merchantcoupon/"
WHITELIST = "/admin/whitelist/whitelistentry/"
MOBILE = "13800138000"

# The list, its export's address (CSV; the XLSX adds ``xlsx/``), the permissions to export it.
LISTS = {
    "orders": (ORDERS + "export/", FINANCE),
    "coupons": (COUPONS + "export/", FINANCE),
    "coupon totals": (COUPONS + "export-totals/", FINANCE),
    "whitelist": (WHITELIST + "export/", ("whitelist.view_whitelistentry",)),
}


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EXPORT_BACKGROUND_ROWS = 5


@pytest.fixture
def rows():
    """Six orders (each with a coupon) on plates beginning 川A, one more on another plate, and
    six whitelist entries on plates beginning 川A: ``?q=川A`` lists six of each."""
    for number in range(6):
        order = PayOrderFactory(plate=f"川A{number:05d}", pay_value=100 + number)
        MerchantCouponFactory(order=order, store_code=f"S{number % 2}")
        DiscountFactory(order=order, mobile=MOBILE)
        WhitelistEntryFactory(plate=f"川A{number:05d}")
    PayOrderFactory(plate="京B12345")
    WhitelistEntryFactory(plate="京B12345")


def export_address(name: str, file_format: str) -> str:
    address, _permissions = LISTS[name]
    return address + ("xlsx/" if file_format == "xlsx" else "")


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8")[1:], newline="")))


def read_xlsx(content: bytes) -> list[list]:
    """The data sheet's values (the last sheet says when it was exported: it differs)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()]


def read(content: bytes, file_format: str) -> list[list]:
    return read_xlsx(content) if file_format == "xlsx" else read_csv(content)


def downloaded(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content) if response.streaming else response.content


def job_file(job: Job) -> bytes:
    with job.file.open("rb") as file:
        return file.read()


def run_export(client, address: str) -> Job:
    """Ask for the export, check it went to the background, run the job; return it."""
    before = set(Job.objects.values_list("pk", flat=True))
    response = client.get(address)
    job = Job.objects.exclude(pk__in=before).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:parkingops_job_change", args=[job.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "列表较长，已转入后台导出；进度和导出文件可在本页及“我的任务”中查看。"
    ]
    assert (job.kind, job.state) == (EXPORT_JOB, Job.State.QUEUED)
    run_queued_jobs()
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("name", list(LISTS))
def test_a_long_list_is_exported_by_a_job_into_the_same_file_as_the_download(
    staff_client, settings, rows, name, file_format
):
    client = staff_client(*LISTS[name][1])
    address = export_address(name, file_format) + "?q=川A"

    job = run_export(client, address)

    assert job.state == Job.State.SUCCEEDED, job.message
    listed = 6  # the filtered list's rows: orders, coupons (the totals add them up), entries
    assert (job.stage, job.done, job.total) == ("正在写入文件", listed, listed)
    assert job.result == {"rows": listed}
    settings.EXPORT_BACKGROUND_ROWS = 1000
    direct = client.get(address)
    name_of_download = direct["Content-Disposition"].split("filename=")[1].strip('"')
    assert job.file_name == name_of_download == job.subject
    assert read(job_file(job), file_format) == read(downloaded(direct), file_format)
    if name != "coupon totals":  # the header, then a row per listed row
        assert len(read(job_file(job), file_format)) == 1 + listed
    if file_format == "csv":  # byte for byte what the download streams
        assert job_file(job) == downloaded(client.get(address))


def test_a_short_list_still_downloads_at_once(staff_client, rows):
    client = staff_client(*FINANCE)

    csv_rows = read_csv(downloaded(client.get(ORDERS + "export/?q=京B")))
    sheet = read_xlsx(downloaded(client.get(ORDERS + "export/xlsx/?q=京B")))

    assert [row[4] for row in csv_rows[1:]] == [row[4] for row in sheet[1:]] == ["京B12345"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_background_export_masks_as_the_owner_may_see(staff_client, settings, rows, file_format):
    address = export_address("orders", file_format) + "?q=川A"
    masked_client = staff_client(*FINANCE)
    unmasked_client = staff_client(*FINANCE, "orders.view_personal_data")

    masked = read(job_file(run_export(masked_client, address)), file_format)
    unmasked = read(job_file(run_export(unmasked_client, address)), file_format)

    mobiles = masked[0].index("优惠手机号")
    assert {row[mobiles] for row in masked[1:]} == {"138****8000"}
    assert {row[mobiles] for row in unmasked[1:]} == {MOBILE}
    settings.EXPORT_BACKGROUND_ROWS = 1000
    assert masked == read(downloaded(masked_client.get(address)), file_format)
    assert unmasked == read(downloaded(unmasked_client.get(address)), file_format)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_query_the_list_refuses_is_answered_400_before_any_job(staff_client, rows, file_format):
    client = staff_client(*FINANCE)
    for query in ("?foo=1", "?q=川A&pay_serial__regex=(", "?q=%00"):
        response = client.get(export_address("orders", file_format) + query)
        assert response.status_code == 400, query
    assert not Job.objects.exists()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_without_the_export_permission_there_is_no_job(staff_client, rows, file_format):
    response = staff_client(*VIEW_ALL).get(export_address("orders", file_format) + "?q=川A")
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_an_owner_who_lost_the_permission_gets_a_failed_job_and_no_file(staff_client, rows):
    client = staff_client(*FINANCE)
    client.get(ORDERS + "export/?q=川A")
    job = Job.objects.get()
    job.owner.user_permissions.remove(Permission.objects.get(codename="export_orders"))

    run_queued_jobs()

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.message == "您已不能再导出此列表。"
    assert not job.file


def test_too_many_rows_for_a_sheet_fail_the_job_with_the_reason(staff_client, rows, monkeypatch):
    client = staff_client(*FINANCE)
    monkeypatch.setattr(xlsx, "MAX_ROWS", 6)  # a header and five rows

    job = run_export(client, ORDERS + "export/xlsx/?q=川A")

    assert job.state == Job.State.FAILED
    assert job.message.startswith("6 行超出 Excel 工作表的上限")
    assert not job.file


@pytest.mark.parametrize(
    "params",
    [
        {"app_label": "orders", "model_name": "nosuchmodel"},
        {"app_label": "nosuchapp", "model_name": "payorder"},
        {"app_label": "parkingops", "model_name": "job"},  # registered, but no export
        {},
    ],
)
def test_a_job_for_a_list_that_does_not_export_fails_saying_so(params):
    owner = User.objects.create_superuser("root", "root@example.com", "x")
    job = runner.start_job(EXPORT_JOB, owner=owner, params={**params, "query": ""})

    run_queued_jobs()

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.message == "此列表已不能导出。"


def test_a_filter_that_no_longer_applies_fails_the_job_saying_why(staff_client, rows):
    owner = User.objects.get(pk=staff_client(*FINANCE).session["_auth_user_id"])
    job = runner.start_job(
        EXPORT_JOB,
        owner=owner,
        params={"app_label": "orders", "model_name": "payorder", "query": "foo=1"},
    )

    run_queued_jobs()

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.message == "地址中有此列表没有的筛选条件。"


def test_a_second_click_goes_to_the_running_export_instead_of_starting_another(staff_client, rows):
    client = staff_client(*FINANCE)
    first = client.get(ORDERS + "export/xlsx/?q=川A")
    second = client.get(ORDERS + "export/xlsx/?q=川A")

    (job,) = Job.objects.filter(kind=EXPORT_JOB)
    assert (
        first["Location"]
        == second["Location"]
        == reverse("admin:parkingops_job_change", args=[job.pk])
    )
    assert [str(m) for m in get_messages(second.wsgi_request)][
        -1
    ] == "该导出已在进行中：就是这个任务。"
    # Another list, or the same one once this export ended, is a new job.
    client.get(ORDERS + "export/?q=川A")
    run_queued_jobs()
    client.get(ORDERS + "export/xlsx/?q=川A")
    assert Job.objects.filter(kind=EXPORT_JOB).count() == 3
