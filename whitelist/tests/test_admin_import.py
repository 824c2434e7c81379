"""The import's pages (whitelist.admin_import): what the confirmation trusts, odd files, paging.

Messages are checked in Chinese, as the staff read them.
"""

import csv
import io
import json
import tempfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from whitelist import tables
from whitelist.admin_import import SESSION_KEY
from whitelist.models import WhitelistEntry
from whitelist.services import importing
from whitelist.tests.conftest import CHANGELIST

pytestmark = pytest.mark.django_db

IMPORT = CHANGELIST + "import/"
PROCESS = CHANGELIST + "process_import/"
HEADER = "车牌,车场编号,生效时间,失效时间,启用,持有人,备注\r\n"
ONE_ROW = (HEADER + "川A660P1,,2026-01-01,,1,张三,\r\n").encode()
NOT_PENDING_ZH = "此次导入已不在等待确认：请重新上传文件。"


def chinese_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def admin_zh(superuser) -> Client:
    return chinese_client(superuser)


@pytest.fixture
def operator_zh(operator) -> Client:
    return chinese_client(operator)


def preview(client, content: bytes, name: str = "whitelist.csv"):
    return client.post(IMPORT, {"import_file": SimpleUploadedFile(name, content)})


def token_of(previewed) -> str:
    return previewed.context["confirm_form"].initial["token"]


def messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- the confirmation trusts nothing the browser names ------------------------------------------


@pytest.fixture
def victim():
    """A file in the temporary folder that an import would happily read, were it named."""
    path = Path(tempfile.gettempdir()) / "victim.txt"
    content = (HEADER + "川A99999,,2026-01-01,,1,受害者,\r\n").encode()
    path.write_bytes(content)
    yield path, content
    path.unlink(missing_ok=True)


def assert_untouched(victim) -> None:
    path, content = victim
    assert path.read_bytes() == content  # neither deleted nor changed
    assert not WhitelistEntry.objects.filter(plate="川A99999").exists()  # nor imported


@pytest.mark.parametrize(
    "name",
    [
        "victim.txt",
        "../victim.txt",
        "../../../../tmp/victim.txt",
        str(Path(tempfile.gettempdir()) / "victim.txt"),
        "..%2F..%2Fvictim.txt",
        "....//victim.txt",
        "川../victim.txt",
    ],
)
def test_a_confirmation_naming_a_file_neither_reads_nor_deletes_it(admin_zh, victim, name):
    posted = {
        "import_file_name": name,
        "original_file_name": name,
        "file_name": name,
        "upload": name,
        "format": "0",
        "resource": "0",
    }

    for data in (posted, {**posted, "token": name}):
        done = admin_zh.post(PROCESS, data, follow=True)

        assert done.status_code == 200
        assert done.redirect_chain[-1][0] == IMPORT
        assert messages(done) == [NOT_PENDING_ZH]
        assert_untouched(victim)
    assert not WhitelistEntry.objects.exists()


def test_a_pending_import_confirms_its_own_file_whatever_file_name_is_posted(admin_zh, victim):
    previewed = preview(admin_zh, ONE_ROW)

    done = admin_zh.post(
        PROCESS,
        {"token": token_of(previewed), "import_file_name": "victim.txt"},
        follow=True,
    )

    assert done.redirect_chain[-1][0] == CHANGELIST
    assert list(WhitelistEntry.objects.values_list("plate", flat=True)) == ["川A660P1"]
    assert_untouched(victim)


def test_another_users_token_imports_nothing(admin_zh, operator_zh, victim):
    theirs = preview(operator_zh, ONE_ROW)

    forged = admin_zh.post(
        PROCESS, {"token": token_of(theirs), "import_file_name": "victim.txt"}, follow=True
    )

    assert messages(forged) == [NOT_PENDING_ZH]
    assert not WhitelistEntry.objects.exists()
    assert_untouched(victim)
    # The other user's own import is still waiting, and still works.
    operator_zh.post(PROCESS, {"token": token_of(theirs)})
    assert WhitelistEntry.objects.count() == 1


def test_a_confirmation_works_once_per_preview(admin_zh, victim):
    previewed = preview(admin_zh, ONE_ROW)
    admin_zh.post(PROCESS, {"token": token_of(previewed)}, follow=True)
    entry = WhitelistEntry.objects.get()
    entry.delete()  # were the file imported again, the entry would come back

    replayed = admin_zh.post(
        PROCESS, {"token": token_of(previewed), "import_file_name": "victim.txt"}, follow=True
    )

    assert messages(replayed) == [NOT_PENDING_ZH]
    assert not WhitelistEntry.objects.exists()
    assert_untouched(victim)


def test_a_new_preview_replaces_the_pending_one(admin_zh):
    first = preview(admin_zh, ONE_ROW)
    preview(admin_zh, (HEADER + "川B12345,,2026-01-01,,1,,\r\n").encode())

    stale = admin_zh.post(PROCESS, {"token": token_of(first)}, follow=True)

    assert messages(stale) == [NOT_PENDING_ZH]
    assert not WhitelistEntry.objects.exists()


def test_the_session_holds_a_key_to_the_file_never_the_file(admin_zh):
    content = (
        HEADER + "".join(f"川A{n:05d},,2026-01-01,,1,张三,\r\n" for n in range(2000))
    ).encode()

    preview(admin_zh, content)

    pending = admin_zh.session[SESSION_KEY]
    assert set(pending) == {"token", "upload", "preview", "name", "narrowing"}
    assert len(json.dumps(pending)) < 200
    assert len(admin_zh.session.encode(dict(admin_zh.session))) < 1000


# --- odd files: a clear message, never a 500 ---------------------------------------------------


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "提交的是空文件。"),  # Django's own check
        ("blank.csv", b"\r\n  \r\n", "文件是空的。"),
        ("header.csv", HEADER.encode(), "文件只有表头，下面没有任何条目。"),
        ("header.xlsx", xlsx([["车牌", "备注"]]), "文件只有表头，下面没有任何条目。"),
        ("garbage.xlsx", bytes(range(256)) * 64, "该文件不是可读取的 Excel 工作簿（.xlsx）。"),
        ("broken.xlsx", b"PK\x03\x04" + bytes(range(256)) * 64, "该文件不是可读取的 Excel 工作簿"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "旧版 Excel 97–2003 工作簿"),
        ("names.csv", "名字,备注\r\n张三,\r\n".encode(), "文件中没有车牌列"),
        ("twice.csv", "车牌,plate\r\n川A660P1,川A660P1\r\n".encode(), "文件中有两列都表示“车牌”"),
        (
            "latin1.csv",
            "plate,holder\r\nXA12345,José,\r\n".encode("latin-1"),
            "不支持该文件的文本编码",
        ),
        ("binary.csv", b"\x00\x01\x02\x03" * 100, "该文件不是文本文件（含有 NUL 字节）"),
    ],
)
def test_an_unreadable_file_gets_a_chinese_message_and_nothing_waits(
    admin_zh, name, content, message
):
    previewed = preview(admin_zh, content, name)

    assert previewed.status_code == 200
    assert message in previewed.content.decode()
    assert previewed.context.get("result") is None
    assert previewed.context.get("confirm_form") is None
    assert SESSION_KEY not in admin_zh.session


def test_a_zip_bomb_of_a_workbook_is_refused_before_it_is_unpacked(admin_zh, monkeypatch):
    monkeypatch.setattr(tables, "MAX_UNPACKED_BYTES", 512 * 1024)
    content = xlsx([["车牌", "备注"], *([f"川A{n:05d}", "0" * 200] for n in range(5000))])

    previewed = preview(admin_zh, content, "bomb.xlsx")

    assert "该工作簿解压后超过 0 MB" in previewed.content.decode()
    assert SESSION_KEY not in admin_zh.session


@pytest.mark.parametrize("encoding", ["utf-16", "gbk", "gb18030", "utf-8-sig"])
def test_chinese_plates_in_each_encoding_excel_writes_import(admin_zh, encoding):
    content = (HEADER + "川A660P1,,2026-01-01,,1,王小明,地下车库\r\n").encode(encoding)

    previewed = preview(admin_zh, content)
    admin_zh.post(PROCESS, {"token": token_of(previewed)})

    entry = WhitelistEntry.objects.get()
    assert (entry.plate, entry.holder, entry.note) == ("川A660P1", "王小明", "地下车库")


def test_a_huge_cell_is_an_error_naming_its_row_and_column_and_is_neither_kept_nor_shown(
    admin_zh,
):
    huge = "备" * (5 * 1024 * 1024)
    content = HEADER + "川A660P1,,2026-01-01,,1,,\r\n" + f"川A660P2,,2026-01-01,,1,,{huge}\r\n"

    previewed = preview(admin_zh, content.encode())

    html = previewed.content.decode()
    assert len(html) < 50_000
    (row,) = previewed.context["result"].rows
    assert row.number == 2
    assert row.error_dict == {"备注": ["该单元格有 5242880 个字符，最多允许 1000 个。"]}
    assert "备" * 100 not in html
    assert previewed.context.get("confirm_form") is None
    assert len(admin_zh.session.encode(dict(admin_zh.session))) < 1000


# --- a large file: counts and a page of rows ---------------------------------------------------


def big_file(count: int, bad_every: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["车牌", "车场编号", "生效时间", "失效时间", "启用", "持有人", "备注"])
    for n in range(count):
        start = "someday" if n % bad_every == bad_every - 1 else "2026-01-01 00:00:00"
        writer.writerow([f"沪{'BC'[n % 2]}{n:05d}", "", start, "", "1", "压测", "备注"])
    return buffer.getvalue().encode()


def test_a_100000_row_preview_is_one_small_page_of_counts_and_errors(admin_zh, settings):
    # Previewed in the request, as a site raising IMPORT_BACKGROUND_ROWS has it (a file this
    # large goes to the background by default: test_import_jobs.py).
    settings.IMPORT_BACKGROUND_ROWS = 100_000
    content = big_file(100_000, bad_every=800)  # 125 bad rows: three pages of 50

    previewed = preview(admin_zh, content)

    assert previewed.status_code == 200
    assert len(previewed.content) < 200_000
    result = previewed.context["result"]
    assert result.totals == {"new": 99_875, "update": 0, "skip": 0, "invalid": 125}
    assert (result.page, result.pages) == (1, 3)
    assert [row.number for row in result.rows] == [800 * k for k in range(1, 51)]
    html = previewed.content.decode()
    assert "新增 99875 条，更新 0 条，无变化 0 条，无效 125 条。" in html
    assert "第 1 页，共 3 页" in html
    assert 'href="?page=2"' in html

    last = admin_zh.get(IMPORT, {"page": "3"})

    assert len(last.content) < 200_000
    assert [row.number for row in last.context["result"].rows] == [800 * k for k in range(101, 126)]
    assert "“someday”" in last.content.decode()
    assert not WhitelistEntry.objects.exists()


def test_a_valid_files_pages_list_its_changes_and_keep_the_confirmation(
    admin_zh, django_assert_max_num_queries
):
    rows = "".join(f"川A{n:05d},,2026-01-01,,1,,\r\n" for n in range(1, 121))
    previewed = preview(admin_zh, (HEADER + rows).encode())
    token = token_of(previewed)
    assert [row.number for row in previewed.context["result"].rows] == list(range(1, 51))

    with django_assert_max_num_queries(6):  # the kept preview: the file is not checked again
        second = admin_zh.get(IMPORT, {"page": "2"})
    beyond = admin_zh.get(IMPORT, {"page": "99"})
    nonsense = [admin_zh.get(IMPORT, {"page": page}) for page in ("-1x", "²", "9" * 40, "")]

    assert [row.number for row in second.context["result"].rows] == list(range(51, 101))
    assert [row.number for row in beyond.context["result"].rows] == list(range(101, 121))
    assert [response.context["result"].page for response in nonsense] == [1, 1, 1, 1]
    assert token_of(second) == token
    admin_zh.post(PROCESS, {"token": token})
    assert WhitelistEntry.objects.count() == 120


def test_a_page_without_a_pending_import_says_so(admin_zh):
    response = admin_zh.get(IMPORT, {"page": "2"})

    assert response.status_code == 200
    assert messages(response) == [NOT_PENDING_ZH]
    assert response.context.get("result") is None


def test_only_the_first_rows_are_listed_of_a_file_with_many_errors(admin_zh, monkeypatch):
    monkeypatch.setattr(importing, "MAX_SHOWN_ROWS", 60)
    rows = "".join(f"川A{n:05d},,someday,,1,,\r\n" for n in range(1, 131))

    previewed = preview(admin_zh, (HEADER + rows).encode())

    result = previewed.context["result"]
    assert (result.totals["invalid"], result.listed, result.pages) == (130, 60, 2)
    assert "这 130 行中只列出前 60 行。" in previewed.content.decode()
    last = admin_zh.get(IMPORT, {"page": "2"}).context["result"]
    assert [row.number for row in last.rows] == list(range(51, 61))
