"""Confirming one import preview several times at the same instant, over real HTTP.

Each confirmation goes through the same upsert as the API's bulk endpoint, so the unique
identity decides: the rows are written once, and every confirmation is answered (the first
imports the file, the others find its entries unchanged, or find the preview already used).
"""

import pytest
from django.contrib.auth.models import User
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory

from whitelist.models import WhitelistEntry
from whitelist.tests.conftest import CHANGELIST
from whitelist.tests.test_concurrency import admin_session, all_at_once
from whitelist.tests.test_import import CHINESE_HEADER, IMPORT, PROCESS, preview

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 40


def _messages(answer) -> list[str]:
    """Return the admin messages an answer set in its cookie."""
    cookie = answer.headers.get("Set-Cookie", "")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name.endswith("messages"):
            storage = CookieStorage(RequestFactory().get("/"))
            return [str(message) for message in storage._decode(value.strip('"')) or []]
    return []


@pytest.mark.parametrize("confirmations", [2, 5])
def test_confirming_one_preview_at_once_imports_each_row_once(live_server, confirmations):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    lines = "".join(f"川A{n:05d},,2026-01-01 00:00,,1,张三,\r\n" for n in range(ROWS))
    previewed = preview(client, (CHINESE_HEADER + lines).encode("utf-8-sig"))
    token = previewed.context["confirm_form"].initial["token"]
    session = admin_session(client)

    answers = all_at_once(
        [session.post(live_server.url + PROCESS, {"token": token})] * confirmations
    )

    assert [answer.status for answer in answers] == [302] * confirmations
    assert WhitelistEntry.objects.count() == ROWS
    # No platform here: the import that ran also warns that nothing was sent (admin_sync).
    not_sent = "The platform is not configured"
    said = [
        " ".join(text for text in _messages(answer) if not text.startswith(not_sent))
        for answer in answers
    ]
    assert sum(not_sent in " ".join(_messages(answer)) for answer in answers) == 1
    first = f"Imported whitelist.csv: {ROWS} new, 0 updated, 0 unchanged."
    again = f"Imported whitelist.csv: 0 new, 0 updated, {ROWS} unchanged."
    used = "This import is no longer waiting for confirmation: upload the file again."
    assert said.count(first) == 1, said
    assert set(said) <= {first, again, used}, said
    for answer in answers:
        assert answer.headers["Location"] in {CHANGELIST, IMPORT}
