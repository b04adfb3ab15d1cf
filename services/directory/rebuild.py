"""The directory read model, as `liuhen projections rebuild` sees it: districts,
units and people, all from the `directory-<district>` streams."""

from eventlog.rebuild import Projection, per_event

from . import projections

REBUILD = Projection(
    name="directory",
    about="districts (with their rules), units and people",
    tables=("directory.districts", "directory.units", "directory.people"),
    categories=frozenset({"directory"}),
    project=per_event(projections.apply),
)
