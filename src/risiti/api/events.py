"""`GET /v1/events`: the account's own feed, in log order, with its webhooks' payloads."""

from __future__ import annotations

from aiohttp import web

from risiti.api.envelope import page, parse_query
from risiti.api.keys import CALLER, LEDGER
from risiti.api.models import ListEventsQuery
from risiti.eventstore.feed import read_feed


async def list_events(request: web.Request) -> web.Response:
    query = parse_query(request, ListEventsQuery)
    caller = request[CALLER]
    feed = await read_feed(
        request.app[LEDGER].pool,
        caller.account_id,
        caller.livemode,
        limit=query.limit,
        after=query.cursor,
        event_type=query.type,
    )
    return page(feed.payloads, has_more=feed.has_more, next_cursor=feed.next_cursor)
