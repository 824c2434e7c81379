"""The import page's template download and its column descriptions (whitelist.admin_import)."""

import io

import openpyxl
import pytest
from django.test import Client

from whitelist.services import importing
from whitelist.spreadsheet import COLUMNS, IMPORT_COLUMNS
from whitelist.tests.conftest import CHANGELIST

pytestmark = pytest.mark.django_db

TEMPLATE = CHANGELIST + "import/template/"


@pytest.fixture
def admin_zh(superuser) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(superuser)
    return client


def test_the_template_has_the_chinese_headers_and_one_example_row_that_imports(admin_en):
    response = admin_en.get(TEMPLATE)

    assert response.status_code == 200
    assert 'filename="whitelist-import-template.xlsx"' in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = [row for row in sheet.iter_rows(values_only=True)]
    # Chinese whatever the user's language: the headers every import accepts.
    expected = ["编号", "车牌", "车场编号", "生效时间", "失效时间", "启用", "持有人", "备注"]
    assert list(rows[0]) == expected
    assert list(rows[0]) == [COLUMNS[column][0] for column in IMPORT_COLUMNS]
    assert len(rows) == 2
    assert rows[1][1] == "川A660P1"

    preview = importing.preview_import(data=data, name="whitelist-import-template.xlsx")

    assert preview.counts["created"] == 1 and preview.counts["invalid"] == 0


def test_only_users_who_may_import_get_the_template(viewer_en, operator_en):
    assert viewer_en.get(TEMPLATE).status_code == 403
    assert operator_en.get(TEMPLATE).status_code == 200


def test_the_import_page_links_the_template_and_describes_the_columns_in_chinese(admin_zh):
    html = admin_zh.get(CHANGELIST + "import/").content.decode()

    assert TEMPLATE in html
    assert "下载导入模板（XLSX）" in html
    for words in ("列名", "是否必填", "格式与示例", "说明", "车牌", "新增时必填", "长期有效"):
        assert words in html
    assert "<code>park_uuid</code>" not in html
