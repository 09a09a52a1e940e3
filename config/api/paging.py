"""Cursor pages for every API list: `?cursor=` from the previous page's `next`.

A cursor is the sort key of the last item sent (keyset pagination), so a page costs
the same however deep it is, and papers arriving meanwhile neither repeat nor go
missing. The sort key is read off the queryset's own order_by(), whose last field must
be unique (`id`); every field in it must be a column or an annotation without NULLs.
A view may carry other values from page to page in the cursor (`carry()`), e.g. the
day trending scores were computed for, so later pages rank as the first did.
"""

import base64
import binascii
import json
from collections import OrderedDict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

MAX_LIMIT = 100


class CursorPagination(BasePagination):
    cursor_query_param = "cursor"
    limit_query_param = "limit"
    default_limit = 20

    def carried(self, request, name: str, default=None):
        """A value an earlier page carried in its cursor, else `default`."""
        return self._cursor(request).get("carry", {}).get(name, default)

    def carry(self, **values) -> None:
        """Values the next page's cursor should carry (JSON-serialisable)."""
        self._carry = values

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self._limit(request)
        order = [_parse(field) for field in queryset.query.order_by]
        if not order or order[-1][0] not in ("id", "pk"):
            raise ValueError("cursor pages need an order_by() ending in the unique id")
        after = self._cursor(request).get("after")
        if after is not None:
            if not isinstance(after, list) or len(after) != len(order):
                raise _bad_cursor()
            try:
                queryset = queryset.filter(_beyond(order, after))
            except (DjangoValidationError, TypeError, ValueError):
                raise _bad_cursor() from None
        rows = list(queryset[: self.limit + 1])
        self.has_next = len(rows) > self.limit
        rows = rows[: self.limit]
        self.last_key = [_json(_value(rows[-1], name)) for name, _ in order] if rows else None
        return rows

    def get_paginated_response(self, data):
        return Response(OrderedDict([("next", self.get_next_link()), ("results", data)]))

    def get_next_link(self):
        if not self.has_next:
            return None
        payload = {"after": self.last_key, "carry": getattr(self, "_carry", {})}
        token = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, token.decode().rstrip("="))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page, or null on the last one.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Where the page starts: taken from the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": self.limit_query_param,
                "in": "query",
                "required": False,
                "description": f"Items per page, 1 to {MAX_LIMIT} (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
        ]

    def _limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            raise serializers.ValidationError(
                {self.limit_query_param: [f"Enter a whole number from 1 to {MAX_LIMIT}."]}
            )
        return limit

    def _cursor(self, request) -> dict:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return {}
        try:
            payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise _bad_cursor() from None
        if not isinstance(payload, dict) or not isinstance(payload.get("carry", {}), dict):
            raise _bad_cursor()
        return payload


def _parse(field) -> tuple[str, bool]:
    if not isinstance(field, str) or "__" in field or field.startswith("?"):
        raise ValueError(f"cursor pages cannot order by {field!r}")
    return field.removeprefix("-"), field.startswith("-")


def _beyond(order, after) -> Q:
    """Rows after the key `after` in this order: (a < x) or (a = x and b > y) or …"""
    condition = Q()
    for position, (name, descending) in enumerate(order):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": after[position]})
        for earlier, (earlier_name, _) in enumerate(order[:position]):
            step &= Q(**{earlier_name: after[earlier]})
        condition |= step
    # The same bound on the first key alone lets the index start at the cursor.
    first, descending = order[0]
    return condition & Q(**{f"{first}__{'lte' if descending else 'gte'}": after[0]})


def _value(row, name: str):
    return row.pk if name == "pk" else getattr(row, name)


def _json(value):
    if isinstance(value, int | float | str) or value is None:
        return value
    return value.isoformat()  # dates and times


def _bad_cursor():
    return serializers.ValidationError(
        {"cursor": ["This cursor is not valid: use the `next` link of a previous page."]}
    )
