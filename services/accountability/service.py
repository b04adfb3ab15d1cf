"""accountability: clues, cases, decisions, dual investigation, exemption, scores."""

from eventlog.providers import Calendar, Clock, Logger, Store

# The mixin by its module: `nameko run` would take a class imported into this module
# for a second service of its own.
from . import assessment_service


class Accountability(assessment_service.AssessmentEntrypoints):
    name = "accountability"
    store = Store()
    clock = Clock()
    calendar = Calendar()
    log = Logger()
