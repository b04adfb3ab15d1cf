"""The complaints read model, as `liuhen projections rebuild` sees it.

Every table is derived from the `complaint-<id>` streams, the timers included: which
complaints have a running clock, when it is due, when to remind. Their two flags
(overdue_marked, reminded) come back as the events say. A sweep also ticks a flag
without an event when the domain answers "not due" (a deadline already marked before a
return and a new signing); after a rebuild the next sweep asks once more, gets the
same answer from the stream and ticks it again: the stream, not the flag, is what
marks a deadline once.
"""

from eventlog.rebuild import Projection, per_event

from . import projections

REBUILD = Projection(
    name="complaints",
    about="complaints, complainants, returns, overdue marks, query codes, timers",
    tables=(
        "complaints.complaints",
        "complaints.complainants",
        "complaints.returns",
        "complaints.overdue_marks",
        "complaints.query_codes",
        "complaints.timers",
    ),
    # complainant-*: an erasure empties the identity's row again (identity.py).
    categories=frozenset({"complaint", "complainant"}),
    project=per_event(projections.apply),
    kept=(
        (
            "complaints.pii_keys",
            "complainants' data keys are in no event, by design: erasure deletes them",
        ),
        (
            "complaints.pii_index",
            "complainants' blind indexes are in no event, by design: erasure deletes "
            "them with the key",
        ),
    ),
)
