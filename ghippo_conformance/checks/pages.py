"""Walking the paginated users list once, so that several requirements can judge the same walk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ghippo_conformance.deployment.http import Api, Exchange
from ghippo_conformance.deployment.profile import Section


def first_page(profile: Section, page_size: int = 1) -> dict[str, int]:
    """Query of a plain users-list request; what the list does without one is PAGE-DEFAULTS' concern."""
    return {"page": profile.pagination.first_page, "pageSize": page_size}


def items_of(exchange: Exchange) -> list[Any]:
    body = exchange.json()
    items = body.get("items") if isinstance(body, dict) else None
    return items if isinstance(items, list) else []


def total_of(exchange: Exchange) -> Any:
    body = exchange.json()
    pagination = body.get("pagination") if isinstance(body, dict) else None
    return pagination.get("total") if isinstance(pagination, dict) else None


def user_id(user: Any) -> Any:
    return user.get("id") if isinstance(user, dict) else repr(user)


@dataclass
class Walk:
    page_size: int
    pages: list[Exchange] = field(default_factory=list)  # the non-empty pages, in order
    complete: bool = False
    ended: str = ""

    @property
    def ids(self) -> list[Any]:
        return [user_id(user) for page in self.pages for user in items_of(page)]


def walk(api: Api, profile: Section, bearer: str, page_size: int) -> Walk:
    """Read pages until one is empty, or short once `total` users have been seen.

    A short page alone does not end the walk while fewer users than `total` were seen, so a
    deployment that ignores pageSize is walked to its end; a page of users already seen ends it,
    so one that ignores `page` cannot loop."""
    result = Walk(page_size)
    seen: set[Any] = set()
    first = profile.pagination.first_page
    for page in range(first, first + profile.pagination.page_budget):
        exchange = api.get(profile.paths.users, params={"page": page, "pageSize": page_size}, bearer=bearer)
        items = items_of(exchange)
        if exchange.status != 200 or not items:
            result.complete, result.ended = (
                exchange.status == 200,
                f"page {page} answered {exchange.status} with no users",
            )
            return result
        result.pages.append(exchange)
        ids = {user_id(user) for user in items}
        if ids <= seen:
            result.complete, result.ended = True, f"page {page} held only users already seen"
            return result
        seen |= ids
        total = total_of(exchange)
        if len(items) < page_size and (not isinstance(total, int) or len(seen) >= total):
            result.complete, result.ended = True, f"page {page} was the last ({len(items)} users)"
            return result
    result.ended = f"the page budget of {profile.pagination.page_budget} pages ran out (pagination.page_budget)"
    return result
