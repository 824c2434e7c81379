"""manage.py import_whitelist: the admin's import from a shell, with plain progress lines in a
log, the counts, and the first invalid rows listed with status 1."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from whitelist.models import WhitelistEntry

pytestmark = pytest.mark.django_db

HEADER = "车牌,车场编号,生效时间,持有人\r\n"


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def write(tmp_path, count: int, *, bad: set[int] = frozenset()) -> str:
    lines = [
        f"川A{n:05d},,{'someday' if n in bad else '2026-01-01'},张三\r\n" for n in range(count)
    ]
    path = tmp_path / "名单.csv"
    path.write_bytes((HEADER + "".join(lines)).encode("gb18030"))
    return str(path)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_whitelist", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_dry_run_prints_the_counts_and_writes_nothing(tmp_path):
    out, err = run(write(tmp_path, 30), "--dry-run")

    assert out.splitlines() == [
        "试运行：未写入任何数据。",
        "新增 30 条，更新 0 条，无变化 0 条，无效 0 条。",
    ]
    # Not a terminal: a plain line as each step starts and ends.
    assert [line.split(" ", 2)[2] for line in err.splitlines()] == [
        "读取文件: 开始 0",
        "读取文件: 完成 30",
        "检查: 开始 0/30",
        "检查: 完成 30/30",
    ]
    assert not WhitelistEntry.objects.exists()


def test_an_import_writes_every_row_with_its_history(tmp_path):
    out, err = run(write(tmp_path, 30))

    assert out.strip() == "已导入 名单.csv：新增 30 条，更新 0 条，未变 0 条。"
    assert err.splitlines()[-1].endswith("写入: 完成 30/30")
    assert WhitelistEntry.objects.filter(holder="张三").count() == 30
    record = WhitelistEntry.objects.get(plate="川A00007").history.get()
    assert record.history_change_reason == "从 名单.csv 导入"

    again, _ = run(write(tmp_path, 30))
    assert again.strip() == "已导入 名单.csv：新增 0 条，更新 0 条，未变 30 条。"


def test_invalid_rows_are_listed_the_first_20_and_nothing_is_written(tmp_path):
    path = write(tmp_path, 40, bad=set(range(3, 28)))  # 25 rows, numbered from 1

    with pytest.raises(CommandError, match="未导入任何数据：有 25 行无效。") as raised:
        run(path)

    assert raised.value.returncode == 1
    assert not WhitelistEntry.objects.exists()


def test_the_invalid_rows_listed(tmp_path):
    path = write(tmp_path, 40, bad=set(range(3, 28)))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_whitelist", path, "--dry-run", stdout=io.StringIO(), stderr=err)

    listed = [line for line in err.getvalue().splitlines() if line.startswith("第")]
    assert len(listed) == 20
    assert listed[0] == "第 4 行：生效时间: “someday”不是日期时间，格式应如 2026-01-31 08:00。"
    assert err.getvalue().splitlines()[-1] == "……另有 5 行无效。"


def test_a_file_that_cannot_be_read_is_an_error_saying_why(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("plate_number,start\r\nA,B\r\n")

    with pytest.raises(CommandError, match="没有车牌列"):
        run(str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "missing.csv"))
