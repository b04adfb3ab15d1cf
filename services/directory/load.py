"""A district's directory file: parse and validate it, then record the difference.

The format is documented at the top of deploy/districts/binhai.yml. A file is checked
whole (schemas.py) before anything is recorded, and so is its name: `binhai.yml` holds
district `binhai`, so a copied file that still names another district cannot
overwrite that district's directory.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml
from marshmallow import ValidationError

from eventlog.handler import handle
from eventlog.model import RecordedEvent
from eventlog.store import EventStore

from . import projections
from .domain import Directory, DirectoryError, decide, fold, stream
from .schemas import DirectorySchema

__all__ = [
    "DirectoryError",
    "load",
    "parse",
    "parse_files",
    "record",
    "record_files",
]

_SCHEMA = DirectorySchema()


def _problems(messages, path: str = "") -> Iterator[str]:
    """marshmallow's nested messages as `units[3].main_leader: no person 'x'`."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                inner = path
            elif isinstance(key, int):
                inner = f"{path}[{key}]"
            else:
                inner = f"{path}.{key}" if path else str(key)
            yield from _problems(value, inner)
    elif isinstance(messages, list):
        for message in messages:
            yield from _problems(message, path)
    else:
        yield f"{path}: {messages}" if path else str(messages)


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DirectoryError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DirectoryError(f"{path.name}: not UTF-8 text") from None
    except OSError as error:
        raise DirectoryError(f"{path}: {error.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).split("\n")[0]
        raise DirectoryError(f"{path.name}: not valid YAML{where}: {problem}") from None


def parse(path: str | os.PathLike) -> Directory:
    """The directory a file describes, or DirectoryError naming file and place."""
    path = Path(path)
    raw = _read(path)
    if not isinstance(raw, dict):
        raise DirectoryError(
            f"{path.name}: expected a mapping with district, name, people and units"
        )
    try:
        desired = _SCHEMA.load(raw)
    except ValidationError as error:
        found = list(_problems(error.messages))
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise DirectoryError(f"{path.name}: {found[0]}{more}") from None
    if path.stem != desired.district:
        raise DirectoryError(
            f"{path.name}: holds district {desired.district!r}; "
            f"its file must be named {desired.district}.yml"
        )
    return desired


def record(
    store: EventStore, desired: Directory, actor: str, reason: str | None = None
) -> list[RecordedEvent]:
    """Append what differs from the log, and project it, in one transaction."""
    return handle(
        store,
        stream(desired.district),
        desired.district,
        fold=fold,
        decide=lambda state: decide(state, desired, actor, reason),
        project=projections.apply,
    )


def load(store: EventStore, path: str | os.PathLike, actor: str) -> list[RecordedEvent]:
    desired = parse(path)
    return record(store, desired, actor, f"loaded from {Path(path).name}")


def parse_files(paths: Iterable[str | os.PathLike]) -> list[tuple[str, Directory]]:
    """(file name, directory) of each file, every file checked before any is
    recorded: one bad file loads nothing."""
    return [(Path(p).name, parse(p)) for p in paths]


def record_files(
    store: EventStore, parsed: Iterable[tuple[str, Directory]], actor: str
) -> Iterator[str]:
    """Record parsed files, yielding one line per file (`binhai: up to date`)."""
    for name, desired in parsed:
        recorded = record(store, desired, actor, f"loaded from {name}")
        done = f"{len(recorded)} events appended" if recorded else "up to date"
        yield f"{desired.district}: {done}"
