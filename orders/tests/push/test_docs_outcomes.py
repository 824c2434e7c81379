"""The outcome table of docs/operations.md is the enum's: reason, code, HTTP status and, in
Chinese, the label and the explanation the push log shows. Nothing in it is written by hand:
when an outcome or its wording changes, this test fails and prints the table to paste."""

from pathlib import Path

from django.utils import translation

from orders.push.outcomes import Outcome

DOCS = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
START = "<!-- push outcomes: generated from orders.push.outcomes.Outcome, checked by a test -->"
END = "<!-- end of push outcomes -->"


def outcome_table() -> str:
    """The table as the docs must hold it, in Chinese (the clerks' language)."""
    with translation.override("zh-hans"):
        rows = [
            f"| `{outcome.value}` | {outcome.code} | {outcome.status} | {outcome.label} "
            f"| {outcome.explanation} |"
            for outcome in Outcome
        ]
    return "\n".join(
        [
            "| reason | code | HTTP | 名称 (label) | 含义与处理 (explanation) |",
            "|---|---|---|---|---|",
        ]
        + rows
    )


def test_the_operations_guide_lists_every_outcome_as_the_enum_does():
    text = DOCS.read_text(encoding="utf-8")
    assert START in text and END in text, "docs/operations.md lost the outcome table's markers"
    documented = text.split(START, 1)[1].split(END, 1)[0].strip()

    assert documented == outcome_table(), "replace the table with:\n" + outcome_table()
