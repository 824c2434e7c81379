"""Whitelist import (preview, then confirm) and export through the admin, CSV and XLSX."""

import csv
import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from whitelist.models import WhitelistEntry
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.factories import ParkFactory, WhitelistEntryFactory

pytestmark = pytest.mark.django_db

IMPORT = CHANGELIST + "import/"
PROCESS = CHANGELIST + "process_import/"
EXPORT = CHANGELIST + "export/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # the import form's choices
EXPORTS = {CSV_FORMAT: EXPORT, XLSX_FORMAT: EXPORT + "xlsx/"}

CHINESE_HEADER = "车牌,车场编号,生效时间,失效时间,启用,持有人,备注\r\n"


def china(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text), timezone.get_default_timezone())


def preview(client, content: bytes, name: str = "whitelist.csv", fmt: str = CSV_FORMAT):
    upload = SimpleUploadedFile(name, content)
    return client.post(IMPORT, {"import_file": upload, "format": fmt, "resource": "0"})


def confirm(client, previewed, reason: str = ""):
    """Confirm the previewed import, with ``reason`` when the confirmation asks one."""
    form = previewed.context["confirm_form"]
    assert form is not None, "the preview offered no confirmation"
    data = {name: form.initial.get(name, "") for name in form.fields}
    if "reason" in form.fields:
        data["reason"] = reason
    return client.post(PROCESS, data, follow=True)


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def totals(response) -> dict[str, int]:
    return dict(response.context["result"].totals)


# --- import ------------------------------------------------------------------------------------


def test_utf8_bom_csv_with_chinese_headers_previews_then_imports(admin_en, superuser):
    park = ParkFactory(park_uuid="park-1")
    content = (
        CHINESE_HEADER
        + "川a 660p1,park-1,2026-01-01 08:00,2026-07-01,1,张三,月租\r\n"
        + "粤B12345,,2025/3/1 0:00,,是,李四,\r\n"
    ).encode("utf-8-sig")

    previewed = preview(admin_en, content)

    assert previewed.status_code == 200
    assert totals(previewed)["new"] == 2
    assert totals(previewed)["invalid"] == 0
    assert "2 new, 0 updated, 0 unchanged, 0 invalid." in previewed.content.decode()
    assert not WhitelistEntry.objects.exists()  # the preview writes nothing

    done = confirm(admin_en, previewed)

    assert done.status_code == 200
    first = WhitelistEntry.objects.get(plate="川A660P1")
    assert first.park_uuid == park.park_uuid
    assert first.valid_from == china("2026-01-01T08:00")
    assert first.valid_until == china("2026-07-01T00:00")
    assert (first.is_active, first.holder, first.note) == (True, "张三", "月租")
    second = WhitelistEntry.objects.get(plate="粤B12345")
    assert second.park_uuid == ""
    assert second.valid_from == china("2025-03-01T00:00")
    assert second.valid_until is None
    record = first.history.get()
    assert record.history_user == superuser
    assert record.history_change_reason == "Imported from whitelist.csv"


def test_utf8_csv_without_bom_and_english_headers_imports(admin_en):
    content = (
        "plate,park_uuid,valid_from,valid_until,is_active,holder,note\n"
        "川A660P1,,2026-01-01 08:00:00,,0,Zhang,\n"
    ).encode()

    confirm(admin_en, preview(admin_en, content))

    entry = WhitelistEntry.objects.get()
    assert (entry.plate, entry.is_active, entry.holder) == ("川A660P1", False, "Zhang")


def test_gb18030_csv_as_saved_by_excel_on_chinese_windows_imports(admin_en):
    content = (CHINESE_HEADER + "京A12345,,2026/1/1 8:00,,1,王小明,地下车库\r\n").encode("gb18030")

    previewed = preview(admin_en, content)
    assert totals(previewed)["new"] == 1
    confirm(admin_en, previewed)

    entry = WhitelistEntry.objects.get()
    assert (entry.plate, entry.holder, entry.note) == ("京A12345", "王小明", "地下车库")
    assert entry.valid_from == china("2026-01-01T08:00")


def test_xlsx_with_date_cells_previews_then_imports(admin_en):
    content = xlsx(
        [
            ["车牌", "车场编号", "生效时间", "失效时间", "启用", "持有人", "备注"],
            ["沪C·88888", None, datetime(2026, 2, 1, 9, 30), datetime(2026, 3, 1), 1, "赵六", None],
            [None, None, None, None, None, None, None],  # Excel's trailing blank rows
        ]
    )

    previewed = preview(admin_en, content, "whitelist.xlsx", XLSX_FORMAT)
    assert totals(previewed)["new"] == 1
    confirm(admin_en, previewed)

    entry = WhitelistEntry.objects.get()
    assert (entry.plate, entry.holder, entry.note) == ("沪C88888", "赵六", "")
    assert entry.valid_from == china("2026-02-01T09:30")
    assert entry.valid_until == china("2026-03-01T00:00")


def test_one_invalid_row_writes_nothing_and_shows_each_rows_error(admin_en):
    content = (
        CHINESE_HEADER
        + "川A660P1,,2026-01-01,,1,,\r\n"
        + "XA12345,,2026-01-01,,1,,\r\n"
        + "川A00002,,2026-05-01,2026-04-01,1,,\r\n"
        + "川A00003,,someday,,maybe,,\r\n"
        + "川A00004,,,,1,,\r\n"
    ).encode()

    previewed = preview(admin_en, content)

    assert previewed.context.get("confirm_form") is None
    result = previewed.context["result"]
    invalid = {row.number: row.error_dict for row in result.rows}
    assert sorted(invalid) == [2, 3, 4, 5]
    assert invalid[2]["plate"] == [
        "“XA12345” does not start with a province abbreviation such as 京, 沪 or 粤."
    ]
    assert "must be later than “valid from”" in invalid[3]["valid until"][0]
    assert invalid[4]["valid from"] == [
        "“someday” is not a date and time such as 2026-01-31 08:00."
    ]
    assert invalid[4]["active"] == ["“maybe” is not yes or no; write 1 or 0."]
    assert invalid[5]["valid from"] == ["Enter “valid from” for a new entry."]
    html = previewed.content.decode()
    assert "1 new, 0 updated, 0 unchanged, 4 invalid." in html
    assert "Nothing will be imported until every row is valid." in html
    assert "<td>XA12345</td>" in html  # the invalid row's cells, beside its errors
    assert "川A660P1" not in html  # while rows are invalid, only they are listed
    assert not WhitelistEntry.objects.exists()


def test_row_with_an_id_updates_that_entry_and_an_equal_row_is_unchanged(admin_en):
    changed = WhitelistEntryFactory(plate="川A00001", holder="旧", valid_from=china("2025-01-01"))
    same = WhitelistEntryFactory(plate="川A00002", holder="同", valid_from=china("2025-01-01"))
    content = (
        "编号,车牌,车场编号,生效时间,失效时间,启用,持有人,备注\r\n"
        f"{changed.pk},川A00001,,2025-01-01 00:00:00,,1,新,\r\n"
        f"{same.pk},川A00002,,2025-01-01 00:00:00,,1,同,\r\n"
    ).encode()

    previewed = preview(admin_en, content)

    assert (totals(previewed)["new"], totals(previewed)["update"], totals(previewed)["skip"]) == (
        0,
        1,
        1,
    )
    confirm(admin_en, previewed)
    changed.refresh_from_db()
    assert changed.holder == "新"
    assert changed.history.latest().history_type == "~"
    assert same.history.count() == 1


def test_row_without_id_updates_the_entry_with_same_plate_park_and_start(admin_en):
    entry = WhitelistEntryFactory(
        plate="川A660P1", park_uuid="park-1", valid_from=china("2026-01-01T08:00")
    )
    content = (CHINESE_HEADER + "川a-660p1,park-1,2026/1/1 8:00,2026-12-31,0,,续期\r\n").encode()

    previewed = preview(admin_en, content)
    assert (totals(previewed)["new"], totals(previewed)["update"]) == (0, 1)
    confirm(admin_en, previewed, reason="停用并设到期")

    entry.refresh_from_db()
    assert (entry.is_active, entry.note) == (False, "续期")
    assert entry.valid_until == china("2026-12-31T00:00")
    assert WhitelistEntry.objects.count() == 1


def test_blank_active_cell_keeps_the_entrys_state(admin_en):
    entry = WhitelistEntryFactory(plate="川A660P1", is_active=False)
    content = (f"id,plate,holder,is_active\r\n{entry.pk},川A660P1,新持有人,\r\n").encode()

    confirm(admin_en, preview(admin_en, content))

    entry.refresh_from_db()
    assert (entry.is_active, entry.holder) == (False, "新持有人")


def test_unknown_id_is_an_invalid_row(admin_en):
    content = b"id,plate,valid_from\r\n999999,\xe5\xb7\x9dA660P1,2026-01-01\r\n"

    previewed = preview(admin_en, content)

    invalid = previewed.context["result"].rows
    assert invalid[0].error_dict == {"ID": ["No whitelist entry has the id 999999."]}


def test_file_without_a_plate_column_is_refused(admin_en):
    previewed = preview(admin_en, "名字,备注\r\n张三,\r\n".encode())

    assert previewed.context.get("confirm_form") is None
    assert "The file has no plate column" in previewed.content.decode()
    assert not WhitelistEntry.objects.exists()


def test_confirm_writes_nothing_when_a_row_became_invalid_after_the_preview(admin_en):
    entry = WhitelistEntryFactory(plate="川A00001")
    content = (
        f"id,plate,valid_from,holder\r\n{entry.pk},川A00001,,新\r\n,川A00002,2026-01-01,\r\n"
    ).encode()
    previewed = preview(admin_en, content)
    entry.delete()

    done = confirm(admin_en, previewed)

    assert done.redirect_chain[-1][0] == IMPORT
    assert any("Nothing was imported" in str(m) for m in done.context["messages"])
    assert not WhitelistEntry.objects.exists()


def test_import_page_lists_the_columns_in_both_languages(admin_en):
    html = admin_en.get(IMPORT).content.decode()

    for chinese in ("车牌", "车场编号", "生效时间", "失效时间", "启用", "持有人", "备注"):
        assert chinese in html


# --- export ------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = response.getvalue()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_csv_has_bom_chinese_headers_and_only_the_filtered_entries(superuser, now):
    park = ParkFactory(name="万象城停车场")
    WhitelistEntryFactory(
        plate="川A00001",
        park_uuid=park.park_uuid,
        valid_from=china("2026-01-01T08:00"),
        valid_until=now + timedelta(days=30),
        holder="张三",
        note="=HYPERLINK(1)",
    )
    WhitelistEntryFactory(plate="川A00002", is_active=False)
    chinese = Client()
    chinese.force_login(superuser)

    response = chinese.get(EXPORT + "?status=active")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"whitelist-{timezone.localdate():%Y-%m-%d}.csv" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header == [
        "编号", "车牌", "车场编号", "车场名称", "生效时间", "失效时间", "启用", "状态", "持有人",
        "备注",
    ]  # fmt: skip
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["车牌"] == "川A00001"
    assert row["车场名称"] == "万象城停车场"
    assert row["生效时间"] == "2026-01-01 08:00:00"
    assert row["启用"] == "1"
    assert row["备注"] == "'=HYPERLINK(1)"  # not a formula in Excel


def test_export_uses_column_names_for_english_users(admin_en):
    WhitelistEntryFactory(plate="川A00001")

    response = admin_en.get(EXPORT)

    header, row = read_csv(response)
    assert header[:3] == ["id", "plate", "park_uuid"]
    assert row[3] == "All parks"
    assert row[7] == "Active"


def test_export_xlsx_writes_times_as_china_time_cells(admin_en):
    WhitelistEntryFactory(plate="川A00001", valid_from=china("2026-01-01T08:00"))

    response = admin_en.get(EXPORTS[XLSX_FORMAT])

    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).active
    header, row = ([cell.value for cell in line] for line in sheet.iter_rows())
    assert header[1] == "plate"
    assert row[1] == "川A00001"
    assert row[4] == datetime(2026, 1, 1, 8, 0)


@pytest.mark.parametrize("fmt", [CSV_FORMAT, XLSX_FORMAT])
def test_exported_file_imports_back_unchanged(admin_en, fmt):
    WhitelistEntryFactory(plate="川A00001", park_uuid="park-1", note="-5 车位", holder="张三")
    WhitelistEntryFactory(plate="川A00002", valid_until=china("2030-01-01"), is_active=False)

    exported = admin_en.get(EXPORTS[fmt])
    previewed = preview(
        admin_en, exported.getvalue(), "back." + ("csv" if fmt == "0" else "xlsx"), fmt
    )

    assert totals(previewed)["skip"] == 2
    assert totals(previewed)["new"] + totals(previewed)["update"] == 0


def test_view_only_staff_may_export_but_not_import(viewer_en):
    WhitelistEntryFactory()

    assert viewer_en.get(EXPORT).status_code == 200
    assert viewer_en.post(PROCESS, {}).status_code == 403


def test_confirm_imports_only_the_file_previewed_in_this_session(admin_en, superuser):
    content = (CHINESE_HEADER + "川A660P1,,2026-01-01,,1,,\r\n").encode()
    previewed = preview(admin_en, content)
    other = Client()  # another session of the same user knows no pending import
    other.force_login(superuser)

    forged = other.post(PROCESS, {"token": previewed.context["confirm_form"].initial["token"]})
    wrong = admin_en.post(PROCESS, {"token": "not-the-token", "import_file_name": "/etc/passwd"})

    assert forged.status_code == wrong.status_code == 302
    assert not WhitelistEntry.objects.exists()
    confirm(admin_en, previewed)
    assert WhitelistEntry.objects.count() == 1


def test_a_confirmed_import_cannot_be_confirmed_twice(admin_en):
    previewed = preview(admin_en, (CHINESE_HEADER + "川A660P1,,2026-01-01,,1,,\r\n").encode())
    confirm(admin_en, previewed)

    again = confirm(admin_en, previewed)

    assert again.redirect_chain[-1][0] == IMPORT
    assert any("no longer waiting" in str(m) for m in again.context["messages"])
    assert WhitelistEntry.objects.count() == 1


def test_two_rows_naming_the_same_entry_are_refused(admin_en):
    content = (
        CHINESE_HEADER + "川A660P1,,2026-01-01,,1,,\r\n" + "川a660p1,,2026/1/1,,0,,\r\n"
    ).encode()

    previewed = preview(admin_en, content)

    invalid = previewed.context["result"].rows
    assert [row.number for row in invalid] == [2]
    assert invalid[0].error_dict == {"__all__": ["This row names the same entry as row 1."]}


def test_a_file_that_is_not_a_workbook_is_refused_on_the_form(admin_en):
    previewed = preview(admin_en, b"PK\x03\x04 broken", "whitelist.xlsx", XLSX_FORMAT)

    assert "The file is not an Excel workbook" in previewed.content.decode()
    assert previewed.context.get("result") is None


def test_changelist_offers_import_to_whom_may_import(admin_en, viewer_en):
    assert 'class="import_link"' in admin_en.get(CHANGELIST).content.decode()
    assert 'class="import_link"' not in viewer_en.get(CHANGELIST).content.decode()
    assert viewer_en.get(IMPORT).status_code == 403


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(admin_en, monkeypatch):
    from whitelist import tables

    monkeypatch.setattr(tables, "MAX_FILE_BYTES", 1024)
    content = (CHINESE_HEADER + "川A00001,,2026-01-01 00:00:00,,1,张三,\r\n" * 40).encode()
    assert len(content) > 1024

    previewed = preview(admin_en, content)

    assert previewed.status_code == 200
    assert previewed.context.get("confirm_form") is None
    assert "The file is larger than 0 MB" in previewed.content.decode()
    assert not WhitelistEntry.objects.exists()
