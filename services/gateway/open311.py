"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): pure mappings.

The routes do the HTTP, the api_key and the RPC; this module turns Open311 input into
our intake payload and list filters, and complaint views into Open311 resources, in
XML (the spec's required format) or JSON (its Spark convention: the root element is
dropped and each list wrapper becomes an array; service_definition stays an object).

Decisions, each against the spec's words:
- jurisdiction_id is the district code, and required: one deployment serves several
  districts ("only required if the endpoint serves multiple jurisdictions"). Missing
  is 400; unknown, or not the district of the caller's api_key, is 404 ("jurisdiction_id
  provided was not found"), so other districts cannot be told apart from none.
- Every service is `realtime` ("the service request ID will be returned immediately"),
  so POST answers service_request_id and never token ("should not be returned if
  service_request_id is returned"). An anonymous complainant's query code, shown once,
  goes in service_notice, which clients show to the person who filed.
- "Optional" parameters sent empty count as absent, as the spec's definition says.
- A missing or unknown format suffix names no resource: 404 (as mysociety's
  open311-adapter), rendered in XML, the one required format.
"""

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

from contracts.complaints import NewComplaint
from contracts.vocabulary import CATEGORIES, RATINGS, STATUSES, TERMINAL

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# XML only: the element each list is wrapped in -> the element of each of its items.
# Roots: GET services -> services; GET services/{code} -> service_definition (one
# object); POST requests, GET requests, requests/{id}, tokens/{token} ->
# service_requests; any error -> errors.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}
GROUP = "作风问题 (work-style misconduct)"
SPAN = timedelta(days=90)  # "the range defaults to most recent 90 days"
MAX_RESULTS = 1000  # "or first 1000 requests returned, whichever is smallest"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311Error(Exception):
    """An error as the spec's `errors` resource: `code` is also the HTTP status."""

    def __init__(self, code: int, description: str, headers=None):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.headers = headers  # e.g. a 429's Retry-After


def parse_format(path_tail: str) -> tuple[str, str]:
    """`requests/C-2026-7K3M9QXA.json` -> (`requests/C-2026-7K3M9QXA`, `json`)."""
    tail, dot, fmt = path_tail.rpartition(".")
    if not (dot and tail and fmt.lower() in FORMATS):
        raise Open311Error(404, f"no resource {path_tail!r}: append .xml or .json")
    return tail, fmt.lower()


def check_jurisdiction(args: Mapping, districts: Collection[str]) -> str:
    """The district a request names, among those the caller may use."""
    district = _one(args, "jurisdiction_id")
    if district is None:
        raise Open311Error(400, "jurisdiction_id was not provided")
    if district not in districts:
        raise Open311Error(404, f"jurisdiction_id {district!r} was not found")
    return district


# ---- services ------------------------------------------------------------------


def service_name(code: str) -> str:
    zh, en, _ = CATEGORIES.get(code, (code, code, ""))
    return code if zh == en else f"{zh} ({en})"


def service_list(categories: Mapping = CATEGORIES) -> list[dict]:
    return [
        {
            "service_code": code,
            "service_name": f"{zh} ({en})",
            "description": covers,
            "metadata": False,
            "type": "realtime",
            # keywords are comma separated: keep each keyword free of commas
            "keywords": ", ".join((zh, en.replace(",", ""), code)),
            "group": GROUP,
        }
        for code, (zh, en, covers) in categories.items()
    ]


def service_definition(code: str) -> dict:
    if code not in CATEGORIES:
        raise Open311Error(404, f"service_code {code!r} was not found")
    return {"service_code": code, "attributes": []}


# ---- service requests out ------------------------------------------------------


def to_request(view: Mapping, with_description: bool) -> dict:
    """A complaint view as an Open311 request.

    with_description=False is the public view (GET requests needs no api_key): it
    withholds everything contracts/complaints.py keeps out of public payloads because
    it often identifies the complainant: description, location, media, and the free
    text written to them (reply, feedback, reject reason)."""
    closed = view["status"] in TERMINAL
    place = (view["location"] or {}) if with_description else {}
    media = view["attachments"][:1] if with_description else []
    return {
        "service_request_id": view["id"],
        "status": "closed" if closed else "open",
        "status_notes": status_notes(view, with_description),
        "service_name": service_name(view["category"]),
        "service_code": view["category"],
        "description": view["description"] if with_description else None,
        "agency_responsible": view["handling_unit_name"],
        "service_notice": None,
        "requested_datetime": w3c(view["received_at"]),
        # "For requests with status=closed, this will be the date the request was
        # closed"
        "updated_datetime": w3c((closed and view["closed_at"]) or view["updated_at"]),
        "expected_datetime": w3c(view["due_at"]),
        "address": place.get("address"),
        "address_id": None,
        "zipcode": None,
        "lat": place.get("lat"),
        "long": place.get("long"),
        "media_url": media[0] if media else None,
    }


_NOTES = {
    "received": "已登记，待受理 (received, awaiting acceptance)",
    "accepted": "已受理，待转办 (accepted, to be dispatched)",
    "rejected": "不予受理 (rejected)",
    "merged": "已并入{into}办理 (merged into {into_en})",
    "dispatched": "已转办至{unit} (dispatched to {unit_en})",
    "returned": "承办单位退回，待重新转办 (returned by the unit, to be re-dispatched)",
    "in_progress": "{unit}办理中 (in progress at {unit_en})",
    "replied": "{unit}已答复 (replied by {unit_en})",
    "fed_back": "已反馈，待回访评价 (fed back, awaiting the complainant's rating)",
    "reopened": "评价不满意，重新办理 (reopened: the complainant was dissatisfied)",
    "closed": "已办结销号 (closed)",
}
_FREE_TEXT = {
    "rejected": ("reject_reason",),
    "replied": ("reply",),
    "fed_back": ("feedback",),
    "closed": ("feedback", "reply"),
}


def status_notes(view: Mapping, with_free_text: bool) -> str:
    unit, into = view["handling_unit_name"], view.get("merged_into")
    note = _NOTES[view["status"]].format(
        unit=unit or "承办单位",
        unit_en=unit or "the handling unit",
        into=into or "重复件",
        into_en=into or "a duplicate",
    )
    if view["status"] == "closed" and view["rating"] in RATINGS:
        note += f"；评价{RATINGS[view['rating']]} (rated {view['rating']})"
    if view["overdue"] and view["status"] not in TERMINAL:
        note += "；已超期 (overdue)"
    texts = [view[k] for k in _FREE_TEXT.get(view["status"], ()) if view[k]]
    return f"{note} — {texts[0]}" if with_free_text and texts else note


def w3c(value: str | None) -> str | None:
    """The spec's w3c datetime: offset kept (it "must be included"), whole seconds."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no timezone; Open311 requires one")
    return moment.replace(microsecond=0).isoformat()


def post_response(
    complaint_id: str, query_code: str | None = None, account_id: str | None = None
) -> list[dict]:
    notice = (
        "已登记，将按规定时限受理答复 (received; it is answered within the time limit)"
    )
    if query_code:
        notice += (
            f"。匿名查询码 {query_code}，仅显示一次，请妥善保存"
            f" (anonymous query code {query_code}: shown only once, keep it)"
        )
    return [
        {
            "service_request_id": complaint_id,
            "service_notice": notice,
            "account_id": account_id,
        }
    ]


def token_response(token: str, complaint_id: str) -> list[dict]:
    return [{"service_request_id": complaint_id, "token": token}]


# ---- service requests in -------------------------------------------------------


def parse_request(form: Mapping, district: str) -> dict:
    """A POST requests form -> the intake payload of the complaints service.

    attribute[...] is ignored: no service declares attributes (metadata is false).
    address_id alone is refused: the districts keep no address register to resolve
    it. device_id and account_id are not kept (the route may echo account_id)."""
    check_jurisdiction(form, {district})
    code = _one(form, "service_code")
    if code is None:
        raise Open311Error(400, "service_code was not provided")
    service_definition(code)  # 404 when unknown
    description = _one(form, "description")
    if description is None:
        raise Open311Error(400, "description is required")
    payload = {
        "channel": "web",
        "kind": "complaint",
        "category": code,
        "urgent": False,
        "description": description,
        "location": _location(form),
        "attachments": _values(form, "media_url"),
        "complainant": _complainant(form),
    }
    _check(payload)
    return payload


def _location(form: Mapping) -> dict:
    lat, long = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long must both be sent")
    address = _one(form, "address_string")
    if lat is None and address is None:
        if _one(form, "address_id"):
            raise Open311Error(
                400,
                "address_id cannot be resolved here:"
                " send lat and long or address_string",
            )
        raise Open311Error(
            400, "a location is required: lat and long, or address_string"
        )
    return {"address": address, "lat": lat, "long": long}


def _coordinate(form: Mapping, name: str, bound: int) -> float | None:
    raw = _one(form, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not -bound <= value <= bound:  # false for nan and infinities too
        raise Open311Error(
            400, f"{name} must be WGS84 degrees from -{bound} to {bound}, not {raw!r}"
        )
    return value


def _complainant(form: Mapping) -> dict | None:
    """None (anonymous) unless a name, phone or email is given."""
    first, last = _one(form, "first_name"), _one(form, "last_name")
    if first and last and _is_chinese(first + last):
        name = last + first  # 王 + 小明: family name first, no space
    else:
        name = " ".join(p for p in (first, last) if p) or None
    who = {"name": name, "phone": _one(form, "phone"), "email": _one(form, "email")}
    return who if any(who.values()) else None


def _is_chinese(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)


# Paths in our intake schema -> the Open311 field the client sent.
_FIELD_NAMES = {
    "location.address": "address_string",
    "attachments": "media_url",
    "complainant.name": "first_name/last_name",
    "complainant.phone": "phone",
    "complainant.email": "email",
}


def _check(payload: dict) -> None:
    """Our intake schema's limits, reported with the Open311 field names."""
    errors, path = NewComplaint().validate(payload), []
    while isinstance(errors, dict) and errors:
        key = min(errors, key=str)
        path, errors = [*path, key], errors[key]
    if path:
        dotted = ".".join(str(p) for p in path if not isinstance(p, int))
        field = _FIELD_NAMES.get(dotted, dotted)
        raise Open311Error(400, f"{field}: {errors[0]}")


# ---- GET requests filters ------------------------------------------------------


def parse_list_query(args: Mapping, now: datetime) -> dict:
    """GET requests arguments -> filters for the complaints search.

    `categories` and `statuses` always list what to include (all when not asked);
    `received_to` is inclusive ("latest datetime to include"); `limit` is the spec's
    1000. service_request_id "overrides all other arguments"."""
    ids = _split(args, "service_request_id")
    if len(ids) > MAX_RESULTS:
        raise Open311Error(400, f"service_request_id: at most {MAX_RESULTS} ids")
    if ids:
        start = end = None
        categories, statuses = list(CATEGORIES), list(STATUSES)
    else:
        categories = _split(args, "service_code") or list(CATEGORIES)
        for code in categories:
            if code not in CATEGORIES:
                raise Open311Error(400, f"service_code {code!r} is not a service here")
        statuses = _statuses(_split(args, "status"))
        start, end = _date_range(args, now)
    return {
        "ids": ids,
        "categories": categories,
        "received_from": start,
        "received_to": end,
        "statuses": statuses,
        "limit": MAX_RESULTS,
    }


def _statuses(wanted: list[str]) -> list[str]:
    for status in wanted:
        if status not in ("open", "closed"):
            raise Open311Error(400, f"status {status!r} must be open or closed")
    if not wanted:
        return list(STATUSES)
    return [s for s in STATUSES if ("closed" if s in TERMINAL else "open") in wanted]


def _date_range(args: Mapping, now: datetime) -> tuple[datetime, datetime]:
    start, end = _datetime(args, "start_date"), _datetime(args, "end_date")
    if start is None and end is None:
        end = now
    start = start or end - SPAN
    end = end or start + SPAN
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > SPAN:
        raise Open311Error(400, "start_date to end_date may not span more than 90 days")
    return start, end


def _datetime(args: Mapping, name: str) -> datetime | None:
    raw = _one(args, name)
    if raw is None:
        return None
    # An unencoded "+08:00" arrives as " 08:00" (form decoding): take it back.
    raw = re.sub(r" (\d\d:?\d\d)$", r"+\1", raw)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or not 1900 <= value.year <= 9000:
        raise Open311Error(
            400,
            f"{name} must be a w3c datetime with a timezone in 1900-9000, such as"
            f" 2026-11-23T09:00:00+08:00, not {raw[:60]!r}",
        )
    # In UTC: PostgreSQL refuses offsets beyond 15:59, which Python accepts.
    return value.astimezone(UTC)


# ---- arguments -----------------------------------------------------------------


def _values(args: Mapping, key: str) -> list[str]:
    """Every non-empty value of `key`: from a werkzeug MultiDict, a dict of lists or
    a dict of strings."""
    raw = args.getlist(key) if hasattr(args, "getlist") else args.get(key)
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [v.strip() for v in items if isinstance(v, str) and v.strip()]


def _one(args: Mapping, key: str) -> str | None:
    values = _values(args, key)
    return values[0] if values else None


def _split(args: Mapping, key: str) -> list[str]:
    """Comma delimited, possibly declared several times; order kept, repeats dropped."""
    parts = (p.strip() for v in _values(args, key) for p in v.split(","))
    return list(dict.fromkeys(p for p in parts if p))


# ---- rendering -----------------------------------------------------------------


def render(payload: list | dict, fmt: str, root: str) -> tuple[bytes, str]:
    """(body, content type). `root` is the XML root element; JSON has none."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        return body.encode("utf-8"), FORMATS["json"]
    if fmt != "xml":
        raise ValueError(f"format {fmt!r} is not one of {sorted(FORMATS)}")
    xml = ET.tostring(_element(root, payload), encoding="unicode")
    return XML_DECLARATION + xml.encode("utf-8"), FORMATS["xml"]


def render_error(err: Open311Error, fmt: str | None) -> tuple[int, bytes, str]:
    """(HTTP status, body, content type); XML when the format is unknown."""
    payload = [{"code": err.code, "description": err.description}]
    body, content_type = render(payload, fmt if fmt in FORMATS else "xml", "errors")
    return err.code, body, content_type


def _element(name: str, value) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, list):
        element.extend(_element(LIST_ITEMS[name], item) for item in value)
    elif isinstance(value, dict):
        element.extend(_element(key, item) for key, item in value.items())
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        # characters XML 1.0 cannot hold at all would make the document unreadable
        element.text = _XML_INVALID.sub("", str(value))
    return element
