"""Unit assessment (考核) entrypoints, mixed into the accountability service.

Listens to: the events that cost a unit points (contracts.assessment.ASSESSED_EVENTS),
one subscription each, recorded as marks once however often delivered.
RPC: `assessment` (every unit of a period, ranked), `assessment_of_unit`,
`publish_assessment` (AssessmentPublished, `<district>.assessment.published`).
Uses the service's `store`, `clock` and `log`.
"""

from nameko.rpc import rpc

from contracts.assessment import ASSESSED_EVENTS
from eventlog.entrypoints import subscribe
from eventlog.model import Actor

from . import assessment_handlers as handlers
from .assessment import AssessmentError, plain

EXPECTED = (AssessmentError,)


class AssessmentEntrypoints:
    @rpc(expected_exceptions=EXPECTED)
    def assessment(self, district, period=None):
        return plain(handlers.report(self.store, district, period, self.clock()))

    @rpc(expected_exceptions=EXPECTED)
    def assessment_of_unit(self, district, unit, period=None):
        found = handlers.unit_report(self.store, district, unit, period, self.clock())
        return plain(found)

    @rpc(expected_exceptions=EXPECTED)
    def publish_assessment(self, district, actor, period):
        made = handlers.publish(
            self.store, district, period, Actor(**actor), self.clock()
        )
        self.log.info("assessment published", district=district, period=period)
        return made

    def _mark(self, envelope):
        outcome = handlers.record_mark(self.store, envelope)
        self.log.info("assessment mark", outcome=outcome)

    # One entrypoint (and so one queue) per pattern; the names differ from the
    # clue handlers', which consume some of the same events on queues of their own.
    @subscribe(ASSESSED_EVENTS["ComplaintOverdue"])
    def mark_complaint_overdue(self, envelope):
        self._mark(envelope)

    @subscribe(ASSESSED_EVENTS["IssueOverdue"])
    def mark_issue_overdue(self, envelope):
        self._mark(envelope)

    @subscribe(ASSESSED_EVENTS["ComplaintReturned"])
    def mark_complaint_returned(self, envelope):
        self._mark(envelope)

    @subscribe(ASSESSED_EVENTS["ComplaintRated"])
    def mark_complaint_rated(self, envelope):
        self._mark(envelope)

    @subscribe(ASSESSED_EVENTS["CaseDecided"])
    def mark_case_decided(self, envelope):
        self._mark(envelope)

    @subscribe(ASSESSED_EVENTS["CaseBulletinPublished"])
    def mark_case_bulletin_published(self, envelope):
        self._mark(envelope)
