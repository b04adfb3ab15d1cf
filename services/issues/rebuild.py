"""The issues read model, as `liuhen projections rebuild` sees it.

Derived from the `campaign-<id>` and `issue-<id>` streams; an issue registered from a
complaint's handover is an IssueRegistered like any other. The overdue timer's flag
comes back as the events say (see services/complaints/rebuild.py on sweep ticks).
"""

from eventlog.rebuild import Projection, per_event

from . import projections

REBUILD = Projection(
    name="issues",
    about="campaigns, rectification issues and their overdue timers",
    tables=("issues.campaigns", "issues.items", "issues.timers"),
    categories=frozenset({"campaign", "issue"}),
    project=per_event(projections.apply),
)
