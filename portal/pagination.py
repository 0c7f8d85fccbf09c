"""One way to split a long list into pages, for every list in the portal."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, request


def requested_page() -> int:
    """The ``?page=`` asked for; anything that is not a positive whole number means the first page."""
    page = request.args.get("page", 1, type=int)
    return page if page and page > 0 else 1


@dataclass(frozen=True)
class Pagination:
    page: int
    pages: int
    total: int
    per_page: int

    @classmethod
    def of(cls, total: int, per_page: int, page: int) -> Pagination:
        """Page ``page`` of ``total`` items; a page past the end shows the last one."""
        pages = max(1, math.ceil(total / per_page))
        return cls(min(max(1, page), pages), pages, total, per_page)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def refuse_past_the_end(pagination: Pagination, page: int) -> None:
    """A page past the end of a list with a stable address is not found (404), not the last page."""
    if page > pagination.pages:
        abort(404)


def page_of(total: int, per_page: int, page: int) -> Pagination:
    """Page ``page`` of ``total`` items, refusing a page past the end."""
    pagination = Pagination.of(total, per_page, page)
    refuse_past_the_end(pagination, page)
    return pagination
