"""Shared bench plumbing: a throwaway migrated database, medians, a results file."""

import json
import os
import statistics
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from eventlog import migrate

RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def bench_database(prefix: str):
    base = os.environ.get("LIUHEN_DATABASE_URL", "postgresql:///liuhen")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_conninfo(base, dbname=name)
    migrate.ensure_database(admin, name)
    migrate.migrate(admin, "liuhen_app")
    try:
        yield admin, make_conninfo(admin, user="liuhen_app")
    finally:
        with psycopg.connect(
            make_conninfo(base, dbname="postgres"), autocommit=True
        ) as c:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def median(values):
    return statistics.median(values) if values else float("nan")


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def save(name: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(figures, indent=2))
    return path
