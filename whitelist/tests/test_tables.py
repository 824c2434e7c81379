"""whitelist.tables: reading an uploaded file's lines, whatever its encoding, format or size."""

import io
import zipfile

import openpyxl
import pytest
from django.utils import translation

from whitelist import tables
from whitelist.tables import FileRefused, LongCell, Table

HEADER = ["车牌", "持有人"]
CHINESE_ROW = ["川A660P1", "王小明"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def read(data: bytes, name: str = "whitelist.csv", width: int = 2) -> list[list]:
    table = Table(data, name=name)
    return [table.header, *table.lines(width)]


def csv_text(*lines: list[str], delimiter: str = ",") -> str:
    return "".join(delimiter.join(line) + "\r\n" for line in lines)


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "gbk"]
)
def test_csv_in_each_supported_encoding_reads_the_chinese_plates(encoding):
    text = csv_text(HEADER, CHINESE_ROW)
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # Excel writes the BOM; so do we here
        data = ("\ufeff" + text).encode(encoding)

    assert read(data) == [HEADER, CHINESE_ROW]


def test_excel_unicode_text_is_tab_separated_utf16():
    data = csv_text(HEADER, CHINESE_ROW, delimiter="\t").encode("utf-16")

    assert read(data) == [HEADER, CHINESE_ROW]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # Latin-1 "José," is neither UTF-8 nor GB18030.
        (
            "plate,holder\r\nXA12345,José,x\r\n".encode("latin-1"),
            "neither UTF-8 nor GB18030/GBK (line 2)",
        ),
        (b"\xef\xbb\xbfplate\r\n\xff\xfe\r\n", "begins like UTF-8 text, but line 2 is not UTF-8"),
        (b"p\x00l\x00a\x00t\x00e\x00\r\x00\n\x00", "is not text (it holds NUL bytes)"),
        (b"", "The file is empty."),
        (b" \r\n", "The file is empty."),
        (b"\r\nplate\r\n", "first row is empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old Excel 97–2003 workbook (.xls)"),
    ],
)
def test_unreadable_text_is_refused_naming_the_problem(data, message):
    with pytest.raises(FileRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(data)


def test_the_encoding_message_is_chinese_for_chinese_users():
    with translation.override("zh-hans"), pytest.raises(FileRefused) as refused:
        read("plate\r\nJosé,\r\n".encode("latin-1"))

    assert "编码" in str(refused.value)


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_lines_are_cut_and_padded_to_the_width_asked_for():
    data = xlsx([[*HEADER, "extra"], [*CHINESE_ROW, "ignored"], ["川A660P2"]])

    assert read(data, "w.xlsx") == [[*HEADER, "extra"], CHINESE_ROW, ["川A660P2", None]]


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,  # a picture renamed .xlsx
        b"plate\r\nXA12345\r\n",  # a CSV renamed .xlsx
    ],
)
def test_anything_named_xlsx_that_is_not_a_workbook_is_refused(data):
    with pytest.raises(FileRefused, match="not an Excel workbook"):
        read(data, "whitelist.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")

    with pytest.raises(FileRefused, match="not an Excel workbook"):
        read(out.getvalue(), "whitelist.xlsx")


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_unpacking(monkeypatch):
    # A real zip bomb is 200 MB of zeros squeezed into 200 KB; the limit is lowered instead.
    monkeypatch.setattr(tables, "MAX_UNPACKED_BYTES", 1024 * 1024)
    data = xlsx([HEADER, *(["川A660P1", "x" * 900] for _ in range(2000))])
    assert len(data) < tables.MAX_UNPACKED_BYTES

    with pytest.raises(FileRefused, match="would unpack to more than 1 MB"):
        read(data, "bomb.xlsx")


def test_a_sheet_declaring_a_huge_size_reads_only_its_cells():
    data = xlsx([HEADER, CHINESE_ROW])
    # Rewrite the sheet's declared size to the largest Excel allows.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b'ref="A1:B2"', b'ref="A1:XFD1048576"')
                assert b"XFD1048576" in content
            target.writestr(info, content)

    assert read(out.getvalue(), "big.xlsx") == [HEADER, CHINESE_ROW]


def test_a_long_cell_keeps_only_its_length_and_beginning():
    data = csv_text(HEADER, ["川A660P1", "长" * 5000]).encode()

    header, (plate, note) = read(data)

    assert plate == "川A660P1"
    assert note == LongCell(length=5000, start="长" * tables.SHOWN_CHARS)
