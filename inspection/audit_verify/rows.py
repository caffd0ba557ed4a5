"""What the verifier reads: each event's stored columns, and its canonical text put together from them."""

import json

from django.db import connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from inspection.audit_chain import canonical_time

# The canonical UTC time of an event as text (`audit_chain.canonical_time`), formatted by the database.
TIME_SQL = {
    "sqlite": "replace(occurred_at, ' ', 'T') || CASE WHEN length(occurred_at) = 19 THEN '.000000' ELSE '' END",
    "postgresql": """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')""",
}


class _Quoted(dict):
    """Role or action -> its JSON string. They repeat: each one is escaped once per verification."""

    def __missing__(self, value):
        quoted = self[value] = json.dumps(value, ensure_ascii=False)
        return quoted


def text_chunks(queryset, chunk_size: int):
    """Lists of up to `chunk_size` (id, seq, prev_hash, event_hash, canonical text, mac, body), in id order,
    streamed (a server-side cursor on PostgreSQL). The text, and the body the seal covers
    (`audit_chain.event_text` and `event_body`), are put together here from the stored columns, inlined in one
    loop: this is most of the verifier's cost, with the fetching and the hashing; the database only
    returns them, the data as its stored canonical text and the time as text. Rows go straight from the
    cursor, without the ORM's per-row work."""
    time_text = RawSQL(TIME_SQL[connection.vendor], (), output_field=TextField())  # noqa: S611 (constant SQL)
    columns = ["id", "seq", "prev_hash", "event_hash", "mac", "actor_id", "role", "action", "consignment_id"]
    query = queryset.annotate(time_text=time_text).order_by("id").values_list(*columns, "time_text", "data_text")
    sql, params = query.query.sql_with_params()
    quoted = _Quoted()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            chunk = []
            for row_id, seq, prev, stored, mac, actor, role, action, consignment, t, data in rows:
                tail = (
                    f', "role": {quoted[role]}, "actor": {"null" if actor is None else actor}, '
                    f'"action": {quoted[action]}, '
                    f'"consignment": {"null" if consignment is None else consignment}, "occurred_at": "{t}Z"}}'
                )
                chunk.append(
                    (
                        row_id,
                        seq,
                        prev,
                        stored,
                        f'{{"seq": {seq}, "data": {data}, "prev": "{prev}"{tail}',
                        mac,
                        f'{{"data": {data}{tail}',
                    )
                )
            yield chunk
            if len(quoted) > 10_000:  # a tampered chain may hold any number of distinct values
                quoted.clear()


def event_texts(queryset, chunk_size: int):
    """(id, seq, prev_hash, event_hash, canonical text, mac, body) in id order, streamed."""
    for chunk in text_chunks(queryset, chunk_size):
        yield from chunk


def event_rows(queryset, chunk_size: int):
    """(id, seq, prev_hash, event_hash, occurred_at as canonical text, actor_id, role, action, consignment_id,
    data as stored text, mac), in id order, without Django's per-row conversions of JSON and (on SQLite) dates."""
    text = TextField()
    fields = ["id", "seq", "prev_hash", "event_hash", "actor_id", "role", "action", "consignment_id"]
    if connection.vendor == "sqlite":
        # SQLite stores UTC as `YYYY-MM-DD HH:MM:SS[.ffffff]`: rewritten by string operations, not parsed.
        qs = queryset.annotate(t=Cast("occurred_at", text), d=Cast("data", text)).values_list(*fields, "t", "d", "mac")
        for i, s, p, h, a, r, act, c, t, d, m in qs.order_by("id").iterator(chunk_size=chunk_size):
            yield (
                i,
                s,
                p,
                h,
                (t.replace(" ", "T") if len(t) == 26 else t.replace(" ", "T") + ".000000") + "Z",
                a,
                r,
                act,
                c,
                d,
                m,
            )
    else:
        qs = queryset.annotate(d=Cast("data", text)).values_list(*fields, "occurred_at", "d", "mac")
        for i, s, p, h, a, r, act, c, t, d, m in qs.order_by("id").iterator(chunk_size=chunk_size):
            yield i, s, p, h, canonical_time(t), a, r, act, c, d, m
