"""The accountability read models, as `liuhen projections rebuild` sees them.

Clues, cases and bulletins come from the `clue-<id>` and `case-<id>` streams; a clue
the service raised from an overdue or substantiated complaint is a ClueRegistered like
any other. The marks of the unit assessment are not events: the consumer records one
per assessed event it is delivered, so their rebuild folds what that consumer applied
(eventlog/rebuild.py says why), through the same `mark` row and INSERT.
"""

from contracts.assessment import ASSESSED_EVENTS
from eventlog.rebuild import Projection, per_event, published

from . import assessment_handlers, projections

REBUILD = Projection(
    name="accountability",
    about="clues, cases and bulletins",
    tables=(
        "accountability.clues",
        "accountability.cases",
        "accountability.bulletins",
    ),
    categories=frozenset({"clue", "case"}),
    project=per_event(projections.apply),
)


def project_mark(store, event, applied_at) -> None:
    """The mark the consumer made of `event` (from its envelope, as the relay
    publishes it), recorded at the time the consumer recorded it."""
    row = assessment_handlers.mark(published(event), recorded_at=applied_at)
    if row["unit"]:
        store.conn.execute(assessment_handlers.INSERT, row)


MARKS = Projection(
    name="marks",
    about="unit assessment marks: the assessed events each unit drew",
    tables=("accountability.marks",),
    # The consumer's subscriptions are `*.<category>.<action>` (one per type).
    categories=frozenset(p.split(".")[1] for p in ASSESSED_EVENTS.values()),
    types=frozenset(ASSESSED_EVENTS),
    consumer=assessment_handlers.CONSUMER,
    project=project_mark,
    kept=(
        (
            "eventlog.processed",
            "the consumer's tracking rows: what the rebuild folds, and what keeps a "
            "redelivered event from being marked twice",
        ),
    ),
)
