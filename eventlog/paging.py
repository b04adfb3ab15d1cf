"""Keyset paging of read models, newest first, on (a time column, id).

A page never repeats or skips a row when new ones arrive meanwhile, as OFFSET would.
The cursor is the last row's (time, id), base64url JSON; one this server did not give
is refused (BadCursor) before it reaches SQL.
"""

import base64
import json
import re
from datetime import datetime

from psycopg.rows import dict_row

from .tenancy import district_scope


class BadCursor(ValueError):
    pass


def encode(at: datetime, key: str) -> str:
    raw = json.dumps([at.isoformat(), key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, key_pattern: re.Pattern) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, key = json.loads(raw)
        if not (isinstance(key, str) and key_pattern.fullmatch(key)):
            raise ValueError(key)
        return [datetime.fromisoformat(at), key]
    except (ValueError, TypeError, RecursionError) as exc:
        raise BadCursor("the paging cursor is not one this server gave") from exc


def page(conn, district, *, select, order, key_pattern, filters, query, extra=("", ())):
    """(rows, next cursor) of `select` (`SELECT ... FROM t`) in `district`.

    `filters` maps query names to SQL clauses with one parameter each; `extra` is a
    (clause, parameters) the caller always adds (a viewer's scope); `order` is the
    time column, paired with `id`."""
    where, args = ["true"], []
    for name, clause in filters.items():
        if query.get(name) not in (None, [], ""):
            where.append(clause)
            args.append(query[name])
    if query.get("after"):
        where.append(f"({order}, id) < (%s, %s)")
        args.extend(decode(query["after"], key_pattern))
    limit = query.get("limit", 50)
    sql = (
        f"{select} WHERE {' AND '.join(where)}{extra[0]}"
        f" ORDER BY {order} DESC, id DESC LIMIT %s"
    )
    with district_scope(conn, district):
        rows = (
            conn.cursor(row_factory=dict_row)
            .execute(sql, [*args, *extra[1], limit + 1])
            .fetchall()
        )
    nxt = (
        encode(rows[limit - 1][order], rows[limit - 1]["id"])
        if len(rows) > limit
        else None
    )
    return rows[:limit], nxt
