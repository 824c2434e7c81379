"""Language and look: Chinese by default, English on request, and a complete, compiled catalogue."""

import ast
import gettext as gnu_gettext
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation

from orders.models import PayOrder
from orders.tests.factories import PayOrderFactory
from whitelist.models import Status

CATALOGUE = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
HEADER_ZH = "ParkingOps 停车支付后台"
HEADER_EN = "ParkingOps payment back-office"


def read_po(path) -> list[dict]:
    """Parse a .po file into entries: msgid, msgstr (the first form), fuzzy; skip obsolete ones."""
    entries, entry, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#~"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
        starts_entry = line.startswith("#") or (match and match[1] in {"msgctxt", "msgid"})
        if entry is None or (starts_entry and key is not None and key.startswith("msgstr")):
            entry = {
                "msgid": "",
                "msgid_plural": None,
                "msgstr": "",
                "fuzzy": False,
                "context": None,
            }
            key = None
            entries.append(entry)
        if line.startswith("#"):
            entry["fuzzy"] = entry["fuzzy"] or (line.startswith("#,") and "fuzzy" in line)
            continue
        if match:
            key, value = match[1], match[2]
        else:
            value = line  # a continuation of the previous string
        field = {"msgctxt": "context", "msgstr[0]": "msgstr"}.get(key, key)
        if field in entry:
            entry[field] = (entry[field] or "") + ast.literal_eval(value)
    return [e for e in entries if e["msgid"]]


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser(username="boss", password="x")


def test_admin_index_is_chinese_by_default(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans"' in html
    assert HEADER_ZH in html
    assert f"| {HEADER_ZH}</title>" in html
    assert "支付订单" in html
    assert HEADER_EN not in html


def test_chinese_browser_gets_chinese(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/admin/", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})

    assert HEADER_ZH in response.content.decode()


def test_unsupported_browser_language_falls_back_to_chinese(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/admin/", headers={"accept-language": "fr-FR,de;q=0.8"})

    assert HEADER_ZH in response.content.decode()


def test_english_browser_gets_english(client, admin_user):
    client.force_login(admin_user)

    response = client.get("/admin/", headers={"accept-language": "en"})

    html = response.content.decode()
    assert '<html lang="en"' in html
    assert HEADER_EN in html
    assert "Pay orders" in html
    assert HEADER_ZH not in html


def test_order_changelist_follows_the_language(client, admin_user):
    PayOrderFactory()
    client.force_login(admin_user)

    chinese = client.get("/admin/orders/payorder/").content.decode()
    english = client.get("/admin/orders/payorder/", headers={"accept-language": "en"})

    assert HEADER_ZH in chinese
    assert "支付流水" in chinese  # the pay_serial column
    assert english.status_code == 200
    assert HEADER_EN in english.content.decode()
    assert "Pay serial" in english.content.decode()


def test_language_switch_posts_to_set_language_and_returns_to_the_page(client, admin_user):
    client.force_login(admin_user)
    page = "/admin/orders/payorder/?q=660P1"

    html = client.get(page).content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'name="next" value="/admin/orders/payorder/?q=660P1"' in html
    assert 'name="language" value="en"' in html
    assert "简体中文" in html and "English" in html

    response = client.post("/i18n/setlang/", {"language": "en", "next": page})

    assert response.status_code == 302
    assert response["Location"] == page
    # The choice outlives the request and beats the browser's own preference.
    again = client.get(page, headers={"accept-language": "zh-CN"}).content.decode()
    assert HEADER_EN in again


def test_switching_back_to_chinese(client, admin_user):
    client.force_login(admin_user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})

    assert HEADER_ZH in client.get("/admin/").content.decode()


def test_login_page_is_chinese_and_offers_the_language_switch(client, db):
    response = client.get("/admin/login/")

    html = response.content.decode()
    assert HEADER_ZH in html
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html


def test_compiled_catalogue_translates_model_names():
    with translation.override("zh-hans"):
        assert translation.gettext("pay order") == "支付订单"
        assert str(PayOrder._meta.verbose_name) == "支付订单"
        assert str(PayOrder._meta.get_field("pay_serial").verbose_name) == "支付流水"
        assert str(Status.ACTIVE.label) == "生效中"
        assert str(Status.EXPIRED.label) == "已过期"
    with translation.override("en"):
        assert str(PayOrder._meta.verbose_name) == "pay order"


def test_every_po_entry_is_translated_and_compiled_into_the_mo():
    entries = read_po(CATALOGUE / "django.po")
    with (CATALOGUE / "django.mo").open("rb") as mo_file:
        compiled = gnu_gettext.GNUTranslations(mo_file)

    untranslated = [e["msgid"] for e in entries if not e["msgstr"] or e["fuzzy"]]
    assert untranslated == []

    def compiled_text(entry):
        context, msgid, plural = entry["context"], entry["msgid"], entry["msgid_plural"]
        if context is None:
            if plural is None:
                return compiled.gettext(msgid)
            return compiled.ngettext(msgid, plural, 1)
        if plural is None:
            return compiled.pgettext(context, msgid)
        return compiled.npgettext(context, msgid, plural, 1)

    stale = [e["msgid"] for e in entries if compiled_text(e) != e["msgstr"]]
    assert stale == [], "run `manage.py compilemessages` after editing the .po"
    assert len(entries) > 50


def test_every_model_and_field_name_has_a_chinese_translation():
    texts = []
    for app_label in ("orders", "whitelist"):
        config = apps.get_app_config(app_label)
        texts.append(config.verbose_name)
        for model in config.get_models():
            if model.__name__.startswith("Historical"):
                continue  # django-simple-history names these itself
            texts += [model._meta.verbose_name, model._meta.verbose_name_plural]
            texts += [
                field.verbose_name
                for field in model._meta.get_fields()
                if hasattr(field, "attname") and not field.auto_created
            ]

    with translation.override("en"):
        english = [str(text) for text in texts]
    with translation.override("zh-hans"):
        chinese = [str(text) for text in texts]

    assert [en for en, zh in zip(english, chinese, strict=True) if en == zh] == []
