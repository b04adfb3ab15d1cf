"""Every read model of the platform, for `liuhen projections list | rebuild NAME`.

The composition root's list: each service declares its own next to its projection
code (services/<name>/rebuild.py); eventlog/rebuild.py rebuilds any of them.
"""

import sys

from eventlog.rebuild import Projection, Report, rebuild
from services.accountability import rebuild as accountability
from services.complaints import rebuild as complaints
from services.directory import rebuild as directory
from services.gateway import rebuild as gateway
from services.issues import rebuild as issues
from services.notify import rebuild as notify

# The order `rebuild all` takes: each in a transaction of its own.
ALL: tuple[Projection, ...] = (
    directory.REBUILD,
    gateway.REBUILD,
    complaints.REBUILD,
    issues.REBUILD,
    accountability.REBUILD,
    accountability.MARKS,
    notify.REBUILD,
    notify.UNITS,
    notify.WEBHOOKS,
)


class UnknownProjection(Exception):
    pass


def named(name: str) -> list[Projection]:
    """The projection called `name`, or all of them for `all`."""
    if name == "all":
        return list(ALL)
    found = [p for p in ALL if p.name == name]
    if not found:
        known = ", ".join(p.name for p in ALL)
        raise UnknownProjection(f"no projection {name!r}; known: {known}, or all")
    return found


def describe(projections=ALL) -> list[str]:
    """`liuhen projections list`: name and what it holds, its tables, what it folds,
    what it keeps."""
    lines = []
    for p in projections:
        lines += [
            f"{p.name:<16}{p.about}",
            f"  {'tables':<14}{', '.join(p.tables)}",
            f"  {'folds':<14}{p.folds()}",
        ]
        lines += [f"  {'keeps':<14}{table}: {why}" for table, why in p.kept]
    return lines


def rebuild_shown(conn, projection: Projection) -> Report:
    """rebuild(), with a progress bar on stderr when it is a terminal (stdout keeps
    the summary lines alone)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    with Progress(
        console=console, transient=True, disable=not sys.stderr.isatty()
    ) as bar:
        task = bar.add_task(f"rebuilding {projection.name}", total=None)
        return rebuild(
            conn,
            projection,
            on_progress=lambda done, total: bar.update(
                task, completed=done, total=total
            ),
        )
