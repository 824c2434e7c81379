"""The kinds of job: a name, a label people read, and the function that does the work.

An app declares its kinds in its ``jobs.py`` (found at start-up, as the admin finds
``admin.py``)::

    @job_kind("whitelist.import", _("Whitelist import"))
    def import_whitelist(job: Job, progress: Progress) -> dict:
        ...
        return {"created": 12}

The function runs in a worker, in the language of whoever started the job. It reports its
progress through ``progress`` (``parkingops.jobs.progress``), may attach a file
(``runner.attach_file``), raises ``JobFailed`` with a message for the user when the work cannot
be done, and returns the result to show (plain JSON data), which the kind's ``describe`` turns
into lines on the job's page. A result may name a page of this site where the work goes on
(``"next_url"``: the import preview's, with its confirmation); the kind's ``next_step`` names
the link to it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext


class JobFailed(Exception):
    """The work cannot be done; ``str(error)`` tells the user why, in their language."""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    run: Callable[..., dict[str, Any] | None]
    # Lines telling the result on the job's page (the counts of an import, the days of a
    # reconciliation); by default none besides the message and the file.
    describe: Callable[[dict[str, Any]], list[str]] | None = None
    # The label of the link to the result's ``next_url``.
    next_step: Callable[[dict[str, Any]], str | Promise] | None = None


_KINDS: dict[str, Kind] = {}


def job_kind(
    name: str,
    label: str | Promise,
    *,
    describe: Callable[[dict[str, Any]], list[str]] | None = None,
    next_step: Callable[[dict[str, Any]], str | Promise] | None = None,
):
    """Register the decorated function as the job kind ``name``."""

    def register(function):
        if name in _KINDS and _KINDS[name].run is not function:
            raise ValueError(f"Job kind {name!r} is registered twice.")
        _KINDS[name] = Kind(
            name=name, label=label, run=function, describe=describe, next_step=next_step
        )
        return function

    return register


def get_kind(name: str) -> Kind:
    """Return the kind ``name``; KeyError when no app registers it."""
    return _KINDS[name]


def label_of(name: str) -> str:
    kind = _KINDS.get(name)
    return str(kind.label) if kind else name


def describe(name: str, result: dict[str, Any]) -> list[str]:
    kind = _KINDS.get(name)
    if kind is None or kind.describe is None or not result:
        return []
    try:
        return [str(line) for line in kind.describe(result)]
    except (KeyError, TypeError, ValueError):  # a result written by an older version
        return [gettext("The result cannot be shown.")]


def next_step(name: str, result: dict[str, Any]) -> tuple[str, str] | None:
    """The link to where the work goes on (``result["next_url"]``, a path of this site) and its
    label; None when there is none."""
    url = result.get("next_url") if isinstance(result, dict) else None
    if not (isinstance(url, str) and url.startswith("/") and not url.startswith("//")):
        return None
    kind = _KINDS.get(name)
    label = kind.next_step(result) if kind and kind.next_step else gettext("Continue")
    return url, str(label)


def choices() -> list[tuple[str, str]]:
    return sorted(((name, str(kind.label)) for name, kind in _KINDS.items()), key=lambda c: c[1])


def discover() -> None:
    """Import every installed app's ``jobs`` module (``ParkingOpsConfig.ready``)."""
    autodiscover_modules("jobs")
