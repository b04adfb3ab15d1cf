"""Sealed complaints: a complaint about the receiving district's own principal leader
is recorded at the level above (the city), and never in the district. Pure.

Why: the district's organs (its hotline, its letters-and-visits office, its discipline
commission) answer to its principal leaders (主要领导: the party secretary, the
district head, the head of the discipline commission itself). An accusation against
one of them goes to the level above (上一级纪检监察机关), which is where the seeds put
the reporting line, 12388 "设在市纪委". So the complaint's stream, its events, its
read-model rows, the notifications and clues that follow all carry the city's code:
every query, count, timeline, feed, webhook and routing key of the district selects
by district, and never includes it. By construction, not by a filter to forget.

How it is identified (`seal`):
- the intake clerk, or the portal's integrator, says so: `about_principal_leader`;
- or, whatever the clerk says, the complaint names one of them in `persons`, by
  directory id or by exact name, from its directory file's `principal_leaders`. The
  clerk works for those leaders: the seal must not rest on their discretion alone. A
  namesake seals too: a complaint sent up wrongly costs the city a look, one kept
  wrongly puts the complainant in front of the person complained about.

The trace of the forwarding (`Seal.record`) goes into the city's ComplaintReceived,
internal data never published: which district received it, the unit it named there
(a code of that district's directory, not the city's), why it was sealed; the event's
actor and time are the clerk's and the moment of receipt. Nothing is written in the
district, and the answer to its clerk names neither the complaint nor its id.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FLAG = "about_principal_leader"


@dataclass(frozen=True)
class Seal:
    received_in: str  # the district whose intake received it
    to: str | None  # the jurisdiction above; None: the directory names none
    flagged_by_intake: bool
    principal_leaders: tuple[str, ...]  # the principal leaders the complaint names
    unit_complained: str | None  # a unit of `received_in`

    def record(self) -> dict:
        """`forwarded_from`, as the city's ComplaintReceived keeps it."""
        return {
            "district": self.received_in,
            "unit_complained": self.unit_complained,
            "flagged_by_intake": self.flagged_by_intake,
            "principal_leaders": list(self.principal_leaders),
        }

    def receipt(self, query_code: str | None) -> dict:
        """What the receiving district's intake is told: that it went up, and the
        anonymous complainant's query code; no id, nothing it could look up."""
        return {"sealed": True, "forwarded_to": self.to, "query_code": query_code}


def _normal(text: str) -> str:
    return "".join(text.split()).casefold()


def named(persons: Iterable[str], leaders: Mapping[str, str | None]) -> tuple:
    """The ids of `leaders` ({person id: name}) that `persons` names, by id or by
    name (spaces and case aside: "王 建国" is 王建国), in the directory's order."""
    given = {_normal(p) for p in persons}
    return tuple(
        pid
        for pid, name in leaders.items()
        if _normal(pid) in given or (name and _normal(name) in given)
    )


def seal(
    district: str, entry: Mapping, leaders: Mapping[str, str | None], body: Mapping
) -> Seal | None:
    """The seal of a new complaint `body` received in `district`, or None when it is
    not about one of the district's principal leaders. `entry` is the district's
    directory entry (read.district), `leaders` its principal leaders' names."""
    flagged = bool(body.get(FLAG))
    names = named(body.get("persons") or (), leaders)
    if not flagged and not names:
        return None
    return Seal(
        received_in=district,
        to=entry.get("level_above"),
        flagged_by_intake=flagged,
        principal_leaders=names,
        unit_complained=body.get("unit_complained"),
    )
