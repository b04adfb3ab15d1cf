"""Shared bench plumbing: a throwaway migrated database, medians, a results file."""

import json
import os
import statistics
import time
import uuid
from pathlib import Path

from eventlog import migrate

RESULTS = Path(__file__).resolve().parent / "results"


def bench_database(prefix: str):
    base = os.environ.get("LIUHEN_DATABASE_URL", "postgresql:///liuhen")
    return migrate.throwaway_database(base, f"{prefix}_{uuid.uuid4().hex[:8]}")


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
