"""accountability: clues, cases, decisions, dual investigation, exemption, scores.

Owns: the `clue-<id>` and `case-<id>` streams (and the assessment's, see
assessment_service.py); the `accountability` schema (clues, cases, bulletins, marks).
Listens to: RPC from the gateway (clues, cases, bulletins, assessment);
`*.complaint.overdue`, `*.issue.overdue` and `*.complaint.replied` (substantiated):
each raises a clue on its source, once, in the source's correlation; the events that
cost a unit points (assessment_service.py).
Emits: Clue* and Case* events (`<district>.clue.<action>`, `<district>.case.<action>`),
AssessmentPublished.
"""

from nameko.rpc import rpc

from eventlog.consumer import first_delivery
from eventlog.entrypoints import subscribe
from eventlog.model import Actor
from eventlog.paging import BadCursor
from eventlog.providers import Calendar, Clock, Logger, Store

# The mixin by its module: `nameko run` would take a class imported into this module
# for a second service of its own.
from . import assessment_service, handlers, views
from .assessment import AssessmentError
from .domain import DomainError

EXPECTED = (DomainError, AssessmentError, BadCursor)


class Accountability(assessment_service.AssessmentEntrypoints):
    name = "accountability"
    store = Store()
    clock = Clock()
    calendar = Calendar()
    log = Logger()

    @rpc(expected_exceptions=EXPECTED)
    def register_clue(self, district, actor, body):
        clue_id, new = handlers.register_clue(
            self.store, district, body, Actor(**actor), self.clock()
        )
        return {"created": new, **views.clue(self.store.conn, district, clue_id)}

    @rpc(expected_exceptions=EXPECTED)
    def clue(self, district, clue_id):
        handlers.checked("clue", clue_id)
        return views.clue(self.store.conn, district, clue_id)

    @rpc(expected_exceptions=EXPECTED)
    def clues(self, district, query):
        return views.clues(self.store.conn, district, query)

    @rpc(expected_exceptions=EXPECTED)
    def act_on_clue(self, district, actor, clue_id, action, body):
        handlers.checked("clue", clue_id)
        handlers.act_on_clue(
            self.store, district, clue_id, action, body, Actor(**actor), self.clock()
        )
        return views.clue(self.store.conn, district, clue_id)

    @rpc(expected_exceptions=EXPECTED)
    def case(self, district, case_id):
        handlers.checked("case", case_id)
        return views.case(self.store.conn, district, case_id)

    @rpc(expected_exceptions=EXPECTED)
    def cases(self, district, query):
        return views.cases(self.store.conn, district, query)

    @rpc(expected_exceptions=EXPECTED)
    def act_on_case(self, district, actor, case_id, action, body):
        handlers.checked("case", case_id)
        handlers.act_on_case(
            self.store, district, case_id, action, body, Actor(**actor), self.clock()
        )
        return views.case(self.store.conn, district, case_id)

    @rpc(expected_exceptions=EXPECTED)
    def bulletins(self, district, period=None):
        return views.bulletins(self.store.conn, district, period, self.clock())

    def _clue_from(self, envelope, consumer):
        with self.store.transaction():
            if not first_delivery(self.store.conn, consumer, envelope["event_id"]):
                return
            try:
                with self.store.transaction():  # a savepoint: the delivery stays
                    clue = handlers.clue_from_event(self.store, envelope, self.clock())
            except DomainError as exc:
                # Final, not transient: redelivering cannot help. For the operator.
                self.log.error(
                    "clue refused", error=str(exc), event_type=envelope["type"]
                )
                return
            if clue:
                self.log.info("clue raised", clue=clue, event_type=envelope["type"])

    @subscribe("*.complaint.overdue")
    def on_complaint_overdue(self, envelope):
        self._clue_from(envelope, "accountability.clues")

    @subscribe("*.complaint.replied")
    def on_complaint_replied(self, envelope):
        self._clue_from(envelope, "accountability.clues")

    @subscribe("*.issue.overdue")
    def on_issue_overdue(self, envelope):
        self._clue_from(envelope, "accountability.clues")
