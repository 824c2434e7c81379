"""The push's outcomes: one list of codes, reasons and statuses, and what the log may store."""

from django.utils import translation

from orders.models import PushLog
from orders.push.outcomes import ACKNOWLEDGED_REASONS, LOGGED_CHOICES, Outcome, PushResult


def test_each_reason_has_the_protocols_code_and_status():
    assert {outcome.value: (outcome.code, outcome.status) for outcome in Outcome} == {
        "accepted": ("1001", 200),
        "duplicate": ("1001", 200),
        "bad_method": ("1400", 405),
        "bad_body": ("1400", 400),
        "unknown_app": ("1401", 401),
        "bad_signature": ("1401", 401),
        "stale_timestamp": ("1401", 401),
        "invalid_field": ("1400", 400),
        "not_whitelisted": ("1403", 403),
        "conflict": ("1409", 409),
        "address_not_allowed": ("1403", 403),
        "unavailable": ("1503", 503),
        "internal_error": ("1500", 500),
        "throttled": ("1429", 429),
    }


def test_the_push_log_stores_every_reason_but_the_throttles():
    stored = [value for value, _label in PushLog._meta.get_field("reason").choices]

    assert stored == [value for value, _label in LOGGED_CHOICES]
    assert set(stored) == set(Outcome.values) - {"throttled"}


def test_labels_are_chinese_for_staff():
    with translation.override("zh-hans"):
        assert str(Outcome.NOT_WHITELISTED.label) != "not whitelisted"
        assert str(Outcome.THROTTLED.label) == "已限流（拒绝过多）"


def test_only_stored_orders_are_acknowledged():
    assert {outcome for outcome in Outcome if outcome.acknowledged} == {
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
    }


def test_only_refusals_without_a_valid_signature_count_against_an_address():
    assert {outcome for outcome in Outcome if outcome.unauthenticated} == {
        Outcome.BAD_METHOD,
        Outcome.BAD_BODY,
        Outcome.UNKNOWN_APP,
        Outcome.BAD_SIGNATURE,
        Outcome.STALE_TIMESTAMP,
    }


def test_a_result_answers_with_its_outcome_and_message():
    result = PushResult(Outcome.CONFLICT, "pay_serial already stored with different content")
    too_large = PushResult(Outcome.BAD_BODY, "the body is larger than 1 MiB", status_override=413)

    assert result.as_json() == {
        "code": "1409",
        "reason": "conflict",
        "message": "pay_serial already stored with different content",
    }
    assert type(result.as_json()["reason"]) is str
    assert (result.status, too_large.status, too_large.code) == (409, 413, "1400")


def test_each_outcome_is_accepted_refused_or_an_error_for_the_metrics():
    verdicts = {outcome: outcome.verdict for outcome in Outcome}

    assert {o for o, v in verdicts.items() if v == "accepted"} == {
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
    }
    assert {o for o, v in verdicts.items() if v == "error"} == {
        Outcome.UNAVAILABLE,
        Outcome.INTERNAL_ERROR,
    }
    assert verdicts[Outcome.THROTTLED] == verdicts[Outcome.NOT_WHITELISTED] == "refused"


def test_every_outcome_has_a_chinese_label_and_explanation():
    # Iterates the enum: an outcome added without its translations fails here.
    for outcome in Outcome:
        with translation.override("en"):
            label, explanation = str(outcome.label), str(outcome.explanation)
        with translation.override("zh-hans"):
            chinese_label, chinese_explanation = str(outcome.label), str(outcome.explanation)
        assert label and explanation, outcome
        assert chinese_label != label, f"{outcome.value}: label not translated"
        assert chinese_explanation != explanation, f"{outcome.value}: explanation not translated"
        assert any("\u4e00" <= char <= "\u9fff" for char in chinese_explanation), outcome


def test_the_acknowledged_reasons_are_those_of_code_1001():
    assert set(ACKNOWLEDGED_REASONS) == {"accepted", "duplicate"}
