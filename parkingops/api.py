"""Building blocks shared by the integration API's views: permissions and keyset (cursor)
paging. The export operations (the files of the JSON calls) are in ``parkingops.api_exports``.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from parkingops import sync
from parkingops.api_params import refuse_empty

# --- Permissions -----------------------------------------------------------------------------


class ModelPermissions(permissions.DjangoModelPermissions):
    """The roles' model permissions: view to read, add/change/delete to write.

    A key acts as its user, so the user's groups (finance, operations) decide.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


# --- Keyset paging ---------------------------------------------------------------------------


class KeysetPagination(BasePagination):
    """Cursor paging on the ordering's columns ending with the primary key.

    The cursor holds the last row's values of those columns, and the next page is the rows
    strictly after them: rows inserted or deleted meanwhile never make a row repeat or go
    missing, and nothing is counted (no COUNT(*)). ``page_size`` is 1 to 500 (default 100); a
    value outside that, an unknown ``ordering``, a cursor not made by this API or one made for
    other filters (it holds a digest of them, ``_query``) is a 400.

    The view names its orderings: ``orderings = {"-pay_time": ("-pay_time", "-pk"), ...}`` and
    ``default_ordering``; the columns must not be nullable. A column may be a related one
    (``order__pay_time``) when the view selects the relation.

    ``sync_orderings`` names the view's incremental-sync orderings (``("received_at",)``): an
    ascending time the row is stamped with, then the primary key. Read in one of them, a list
    serves only the rows stamped before the settle horizon (``parkingops.sync``: a row
    committed late can never land behind a cursor), and every page, the last one too, carries
    ``resume``: the link that continues after the last row served (or, on an empty page, from
    where the cursor stood). A job stores it and calls it later to get exactly the rows that
    arrived since, each once.
    """

    page_size = 100
    max_page_size = 500
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"

    def order(self, queryset: QuerySet, request, view) -> QuerySet:
        """Return ``queryset`` in the order the request asks for (an export's order).

        An export is the whole list: a ``cursor`` or a ``page_size`` is refused, naming it.
        """
        self._refuse_empty(request, view)
        for name in (self.cursor_query_param, self.page_size_query_param):
            if name in request.query_params:
                raise exceptions.ValidationError(
                    {
                        name: [
                            gettext("The export is the whole list, not a page: leave %(name)s out.")
                            % {"name": name}
                        ]
                    }
                )
        name, columns = self._ordering(request, view)
        return self._settled(queryset, name, columns, view).order_by(*columns)

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list[Model]:
        self.request = request
        self._refuse_empty(request, view)
        self.page_size_value = self._page_size(request)
        self.ordering_name, self.columns = self._ordering(request, view)
        self.model = queryset.model
        self.sync = self.ordering_name in getattr(view, "sync_orderings", ())
        queryset = self._settled(queryset, self.ordering_name, self.columns, view)
        cursor = request.query_params.get(self.cursor_query_param)
        position, reverse = self._decode(cursor) if cursor is not None else (None, False)

        directions = [(name.lstrip("-"), name.startswith("-")) for name in self.columns]
        if reverse:
            directions = [(name, not descending) for name, descending in directions]
        queryset = queryset.order_by(*[("-" if d else "") + name for name, d in directions])
        if position is not None:
            queryset = queryset.filter(self._after(directions, position))
        rows = list(queryset[: self.page_size_value + 1])
        more = len(rows) > self.page_size_value
        rows = rows[: self.page_size_value]
        if reverse:
            rows.reverse()
            self.previous_position = self._values(rows[0]) if more and rows else None
            self.next_position = self._values(rows[-1]) if rows else None
        else:
            self.next_position = self._values(rows[-1]) if more else None
            self.previous_position = self._values(rows[0]) if position and rows else None
        # Where a sync resumes: after the last row it was given; nothing given, where it stood.
        self.resume_position = self._values(rows[-1]) if rows else None
        if not rows and not reverse:
            self.resume_position = position
        return rows

    def get_paginated_response(self, data) -> Response:
        body = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        if self.sync:
            body["resume"] = self.get_resume_link()
        return Response({**body, "results": data})

    def get_resume_link(self) -> str:
        """Return the link a sync calls next time: after the last row served (without a
        position yet, the same query from its start)."""
        link = self._link(self.resume_position, reverse=False)
        if link is None:
            return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        return link

    def get_next_link(self) -> str | None:
        return self._link(self.next_position, reverse=False)

    def get_previous_link(self) -> str | None:
        return self._link(self.previous_position, reverse=True)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        resume = {
            "type": "string",
            "format": "uri",
            "description": str(
                _(
                    "Only with an incremental-sync ordering (received_at, updated_at, "
                    "deleted_at), on every page, the last one too: the link that continues "
                    "after the last row served. Store it and call it at the next sync."
                )
            ),
        }
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "resume": resume, "results": schema},
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(_("The cursor of the “next” or “previous” link.")),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _("Rows per page, 1 to %(max)d (default %(default)d).")
                    % {"max": self.max_page_size, "default": self.page_size}
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
        orderings = getattr(view, "orderings", {})
        if len(orderings) > 1:
            parameters.append(
                {
                    "name": self.ordering_query_param,
                    "required": False,
                    "in": "query",
                    "description": str(_("The order of the rows (default %(default)s)."))
                    % {"default": view.default_ordering},
                    "schema": {"type": "string", "enum": list(orderings)},
                }
            )
        return parameters

    @staticmethod
    def _settled(queryset: QuerySet, name: str, columns: Sequence[str], view) -> QuerySet:
        """Return ``queryset``, held to the settle horizon when ``name`` is a sync ordering."""
        if name not in getattr(view, "sync_orderings", ()):
            return queryset
        horizon = sync.settled_before(using=queryset.db)
        return queryset.filter(**{f"{columns[0].lstrip('-')}__lt": horizon})

    def query_parameters(self, view) -> list[str]:
        """Return the query parameters the paginator reads on ``view``'s list."""
        names = [self.cursor_query_param, self.page_size_query_param]
        if len(getattr(view, "orderings", {})) > 1:
            names.append(self.ordering_query_param)
        return names

    # --- reading the query string ------------------------------------------------------------

    def _refuse_empty(self, request, view) -> None:
        refuse_empty(request.query_params, self.query_parameters(view))

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw.strip())
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        gettext("Enter a whole number from 1 to %(max)d.")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def _ordering(self, request, view) -> tuple[str, Sequence[str]]:
        orderings: dict[str, Sequence[str]] = view.orderings
        name = view.default_ordering
        raw = request.query_params.get(self.ordering_query_param)
        if len(orderings) > 1 and raw is not None:
            name = raw.strip()
            if name not in orderings:
                raise exceptions.ValidationError(
                    {
                        self.ordering_query_param: [
                            gettext("Order by one of: %(choices)s.")
                            % {"choices": ", ".join(orderings)}
                        ]
                    }
                )
        return name, orderings[name]

    # --- cursors -----------------------------------------------------------------------------

    def _invalid_cursor(self) -> exceptions.ValidationError:
        return exceptions.ValidationError(
            {
                self.cursor_query_param: [
                    gettext(
                        "This cursor is not valid here: use the “next” or “previous” link of "
                        "the same query."
                    )
                ]
            }
        )

    def _other_query(self) -> exceptions.ValidationError:
        return exceptions.ValidationError(
            {
                self.cursor_query_param: [
                    gettext(
                        "This cursor was made for other filters: keep the parameters of the "
                        "query that gave it, or start again without a cursor."
                    )
                ]
            }
        )

    def _query(self) -> str:
        """Return a digest of the request's filters and ordering: a cursor holds it, so a
        cursor given with other filters is refused instead of paging another query from a
        position of this one. The page size may change from page to page."""
        params = self.request.query_params
        skip = {self.cursor_query_param, self.page_size_query_param, "format"}
        text = json.dumps(
            sorted((name, params.getlist(name)) for name in params if name not in skip),
            ensure_ascii=False,
        )
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def _field(self, column: str):
        """Return the model field of a column; ``order__pay_time`` follows the relation."""
        *relations, name = column.lstrip("-").split("__")
        model = self.model
        for relation in relations:
            model = model._meta.get_field(relation).related_model
        return model._meta.pk if name == "pk" else model._meta.get_field(name)

    def _values(self, row: Model) -> list[Any]:
        values = []
        for column in self.columns:
            *relations, name = column.lstrip("-").split("__")
            obj = row
            for relation in relations:  # select_related by the view: no query per row
                obj = getattr(obj, relation)
            values.append(obj.pk if name == "pk" else getattr(obj, self._field(column).attname))
        return values

    def _encode(self, values: list[Any], *, reverse: bool) -> str:
        plain = [
            value.isoformat() if isinstance(value, datetime | date) else value for value in values
        ]
        payload = {"o": self.ordering_name, "v": plain, "r": int(reverse), "q": self._query()}
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")

    def _decode(self, cursor: str) -> tuple[list[Any], bool]:
        """Return the position and direction of a cursor this paginator made, or raise 400."""
        try:
            padded = cursor.strip() + "=" * (-len(cursor.strip()) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            raw_values, reverse = payload["v"], payload["r"]
            if payload["q"] != self._query():
                raise self._other_query()
            valid = (
                payload["o"] == self.ordering_name
                and isinstance(raw_values, list)
                and len(raw_values) == len(self.columns)
                and reverse in (0, 1)
            )
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error):
            valid = False
        if not valid:
            raise self._invalid_cursor()
        values = []
        for column, raw in zip(self.columns, raw_values, strict=True):
            try:
                value = self._field(column).to_python(raw)
                if isinstance(value, datetime):
                    value.astimezone(UTC)  # a naive or unrepresentable time is not ours
                    if value.tzinfo is None:
                        raise ValueError
            except (DjangoValidationError, ValueError, TypeError, OverflowError):
                raise self._invalid_cursor() from None
            if (isinstance(value, str) and "\x00" in value) or (
                isinstance(value, int) and not -(2**63) <= value < 2**63
            ):
                raise self._invalid_cursor()
            if value is None or isinstance(raw, bool | dict | list):
                raise self._invalid_cursor()
            values.append(value)
        return values, bool(reverse)

    @staticmethod
    def _after(directions: list[tuple[str, bool]], position: list[Any]) -> Q:
        """Return "strictly after ``position``" in the order ``directions``.

        ``(a, b) after (x, y)`` is ``a > x OR (a = x AND b > y)`` (with < for a descending
        column); the first column's bound is repeated on its own so its index limits the scan.
        """
        condition = Q()
        equal = Q()
        for (name, descending), value in zip(directions, position, strict=True):
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            condition |= equal & step
            equal &= Q(**{name: value})
        first, descending = directions[0]
        bound = Q(**{f"{first}__{'lte' if descending else 'gte'}": position[0]})
        return bound & condition

    def _link(self, position: list[Any] | None, *, reverse: bool) -> str | None:
        if position is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, self.cursor_query_param)
        return replace_query_param(
            url, self.cursor_query_param, self._encode(position, reverse=reverse)
        )
