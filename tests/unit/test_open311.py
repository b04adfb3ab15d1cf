import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest
from werkzeug.datastructures import MultiDict

from contracts.vocabulary import CATEGORIES, STATUSES, TERMINAL
from services.gateway import open311
from services.gateway.open311 import Open311Error

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=BEIJING)
REQUEST_FIELDS = [  # the spec's GET requests response, in its order
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def view(**overrides):
    base = {
        "id": "C-2026-7K3M9QXA",
        "district": "binhai",
        "status": "in_progress",
        "channel": "web",
        "kind": "complaint",
        "category": "shirking",
        "urgent": False,
        "description": "窗口说材料不全，让我去别的部门开证明",
        "location": {"address": "滨海新区行政审批大厅", "lat": 39.0, "long": 117.7},
        "attachments": ["https://example.org/a.jpg", "https://example.org/b.jpg"],
        "unit_complained": "approvals",
        "handling_unit": "approvals",
        "handling_unit_name": "区行政审批局",
        "received_at": "2026-11-23T09:00:00.123456+08:00",
        "updated_at": "2026-11-24T10:00:00+08:00",
        "due_at": "2026-12-01T17:00:00+08:00",
        "overdue": False,
        "reply": None,
        "feedback": None,
        "reject_reason": None,
        "rating": None,
        "closed_at": None,
    }
    return {**base, **overrides}


def form(**overrides):
    base = {
        "api_key": "k",
        "jurisdiction_id": "binhai",
        "service_code": "shirking",
        "lat": "39.0",
        "long": "117.7",
        "description": "办事窗口互相推诿",
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def xml_of(payload, root):
    body, content_type = open311.render(payload, "xml", root)
    assert content_type == "text/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(body)


def children(element):
    return {child.tag: child.text for child in element}


# ---- services ------------------------------------------------------------------


def test_each_category_is_a_realtime_service_without_metadata():
    services = open311.service_list()
    assert [s["service_code"] for s in services] == list(CATEGORIES)
    assert services[0] == {
        "service_code": "shirking",
        "service_name": "推诿扯皮 (Shirking)",
        "description": "passing the matter to others, no one owns it",
        "metadata": False,
        "type": "realtime",
        "keywords": "推诿扯皮, Shirking, shirking",
        "group": "作风问题 (work-style misconduct)",
    }


def test_keywords_stay_comma_separated_when_a_name_holds_a_comma():
    (service,) = open311.service_list({"x": ("某", "Easy door, nothing done", "d")})
    assert service["keywords"] == "某, Easy door nothing done, x"


def test_services_xml_wraps_each_service_and_writes_booleans_as_words():
    root = xml_of(open311.service_list(), "services")
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    first = children(root[0])
    assert first["metadata"] == "false"
    assert first["service_name"] == "推诿扯皮 (Shirking)"
    assert list(children(root[4])) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]


def test_service_definition_is_an_object_in_json_and_has_an_attributes_wrapper():
    definition = open311.service_definition("favours")
    body, content_type = open311.render(definition, "json", "service_definition")
    assert content_type == "application/json; charset=utf-8"
    assert json.loads(body) == {"service_code": "favours", "attributes": []}
    root = xml_of(definition, "service_definition")
    assert [c.tag for c in root] == ["service_code", "attributes"]
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0


def test_attributes_and_their_values_get_the_spec_item_elements():
    definition = {
        "service_code": "x",
        "attributes": [{"code": "A", "values": [{"key": 1, "name": "一"}]}],
    }
    root = xml_of(definition, "service_definition")
    assert root.find("attributes/attribute/values/value/name").text == "一"


def test_an_unknown_service_definition_is_404():
    with pytest.raises(Open311Error) as caught:
        open311.service_definition("potholes")
    assert (caught.value.code, caught.value.description) == (
        404,
        "service_code 'potholes' was not found",
    )


# ---- requests out --------------------------------------------------------------


def test_a_request_with_its_description_carries_every_spec_field():
    request = open311.to_request(view(), with_description=True)
    assert list(request) == REQUEST_FIELDS
    assert request == {
        "service_request_id": "C-2026-7K3M9QXA",
        "status": "open",
        "status_notes": "区行政审批局办理中 (in progress at 区行政审批局)",
        "service_name": "推诿扯皮 (Shirking)",
        "service_code": "shirking",
        "description": "窗口说材料不全，让我去别的部门开证明",
        "agency_responsible": "区行政审批局",
        "service_notice": None,
        "requested_datetime": "2026-11-23T09:00:00+08:00",
        "updated_datetime": "2026-11-24T10:00:00+08:00",
        "expected_datetime": "2026-12-01T17:00:00+08:00",
        "address": "滨海新区行政审批大厅",
        "address_id": None,
        "zipcode": None,
        "lat": 39.0,
        "long": 117.7,
        "media_url": "https://example.org/a.jpg",
    }


def test_the_public_request_withholds_what_identifies_the_complainant():
    closed = view(status="closed", feedback="已约谈窗口负责人", rating="satisfied")
    request = open311.to_request(closed, with_description=False)
    assert list(request) == REQUEST_FIELDS
    for field in ("description", "address", "lat", "long", "media_url"):
        assert request[field] is None
    assert "约谈" not in request["status_notes"]
    assert request["agency_responsible"] == "区行政审批局"


@pytest.mark.parametrize("status", STATUSES)
def test_terminal_statuses_are_closed_and_every_other_is_open(status):
    request = open311.to_request(view(status=status), with_description=False)
    assert request["status"] == ("closed" if status in TERMINAL else "open")
    assert request["status_notes"]


@pytest.mark.parametrize(
    ("overrides", "full", "notes"),
    [
        (
            {"status": "dispatched"},
            False,
            "已转办至区行政审批局 (dispatched to 区行政审批局)",
        ),
        (
            {"status": "accepted", "handling_unit_name": None, "overdue": True},
            False,
            "已受理，待转办 (accepted, to be dispatched)；已超期 (overdue)",
        ),
        (
            {"status": "rejected", "reject_reason": "不属于受理范围", "overdue": True},
            True,
            "不予受理 (rejected) — 不属于受理范围",
        ),
        (
            {"status": "rejected", "reject_reason": "不属于"},
            False,
            "不予受理 (rejected)",
        ),
        (
            {"status": "merged", "merged_into": "C-2026-AAAAAAAA"},
            False,
            "已并入C-2026-AAAAAAAA办理 (merged into C-2026-AAAAAAAA)",
        ),
        ({"status": "merged"}, False, "已并入重复件办理 (merged into a duplicate)"),
        (
            {"status": "replied", "reply": "已责令整改"},
            True,
            "区行政审批局已答复 (replied by 区行政审批局) — 已责令整改",
        ),
        (
            {"status": "closed", "reply": "已整改", "rating": "basically_satisfied"},
            True,
            "已办结销号 (closed)；评价基本满意 (rated basically_satisfied) — 已整改",
        ),
        (
            {"status": "closed", "reply": "r", "feedback": "f"},
            True,
            "已办结销号 (closed) — f",
        ),
    ],
)
def test_status_notes_say_where_the_complaint_stands(overrides, full, notes):
    assert open311.to_request(view(**overrides), full)["status_notes"] == notes


def test_a_closed_request_was_updated_when_it_was_closed():
    closed = view(status="closed", closed_at="2026-11-30T08:00:00+08:00")
    assert open311.to_request(closed, False)["updated_datetime"] == (
        "2026-11-30T08:00:00+08:00"
    )
    rejected = view(status="rejected")  # closed_at not set: the last update stands
    assert open311.to_request(rejected, False)["updated_datetime"] == (
        "2026-11-24T10:00:00+08:00"
    )


def test_datetimes_keep_their_offset_and_a_naive_one_is_refused():
    assert open311.w3c("2026-11-23T01:00:00.5Z") == "2026-11-23T01:00:00+00:00"
    assert open311.w3c(None) is None
    with pytest.raises(ValueError, match="no timezone"):
        open311.w3c("2026-11-23T01:00:00")


def test_requests_xml_has_the_spec_elements_and_survives_a_round_trip():
    requests = [open311.to_request(view(), True), open311.to_request(view(), False)]
    root = xml_of(requests, "service_requests")
    assert root.tag == "service_requests"
    assert [c.tag for c in root] == ["request", "request"]
    assert [c.tag for c in root[0]] == REQUEST_FIELDS
    full, public = children(root[0]), children(root[1])
    assert full["description"] == "窗口说材料不全，让我去别的部门开证明"
    assert full["lat"] == "39.0"
    assert public["description"] is None  # an empty element, as the spec shows


def test_json_is_a_utf8_list_with_chinese_unescaped():
    body, _ = open311.render([open311.to_request(view(), True)], "json", "x")
    assert "推诿扯皮".encode() in body
    assert b"\\u" not in body
    assert json.loads(body)[0]["service_request_id"] == "C-2026-7K3M9QXA"


def test_characters_xml_cannot_hold_are_dropped_not_sent_broken():
    request = open311.to_request(view(description="a\x0bb\x00c"), True)
    root = xml_of([request], "service_requests")
    assert root.find("request/description").text == "abc"


def test_rendering_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="html"):
        open311.render([], "html", "services")


# ---- POST requests -------------------------------------------------------------


def test_a_form_becomes_an_anonymous_intake_payload():
    assert open311.parse_request(form(), "binhai") == {
        "channel": "web",
        "kind": "complaint",
        "category": "shirking",
        "urgent": False,
        "description": "办事窗口互相推诿",
        "location": {"address": None, "lat": 39.0, "long": 117.7},
        "attachments": [],
        "complainant": None,
    }


def test_a_named_complainant_keeps_chinese_name_order_and_contacts():
    named = form(first_name="小明", last_name="王", phone="13800000000", email="")
    payload = open311.parse_request(named, "binhai")
    assert payload["complainant"] == {
        "name": "王小明",
        "phone": "13800000000",
        "email": None,
    }
    latin = form(first_name="John", last_name="Smith", email="js@example.org")
    assert open311.parse_request(latin, "binhai")["complainant"]["name"] == (
        "John Smith"
    )


def test_an_address_alone_is_a_location_and_empty_parameters_count_as_absent():
    payload = open311.parse_request(
        form(lat="", long=" ", address_string="滨海新区第三大街"), "binhai"
    )
    assert payload["location"] == {
        "address": "滨海新区第三大街",
        "lat": None,
        "long": None,
    }


def test_list_valued_forms_and_multidicts_keep_every_media_url():
    urls = ["https://example.org/1.jpg", "https://example.org/2.jpg"]
    as_lists = {k: [v] for k, v in form().items()} | {"media_url": urls}
    assert open311.parse_request(as_lists, "binhai")["attachments"] == urls
    multi = MultiDict([*form().items(), *(("media_url", u) for u in urls)])
    assert open311.parse_request(multi, "binhai")["attachments"] == urls


def test_attributes_device_and_account_are_not_carried_into_the_complaint():
    extra = form(**{"attribute[WHISPAWN]": "1", "device_id": "d", "account_id": "a"})
    assert open311.parse_request(extra, "binhai") == open311.parse_request(
        form(), "binhai"
    )


@pytest.mark.parametrize(
    ("overrides", "code", "description"),
    [
        ({"jurisdiction_id": None}, 400, "jurisdiction_id was not provided"),
        (
            {"jurisdiction_id": "jinghai"},
            404,
            "jurisdiction_id 'jinghai' was not found",
        ),
        ({"service_code": ""}, 400, "service_code was not provided"),
        ({"service_code": "graffiti"}, 404, "service_code 'graffiti' was not found"),
        ({"description": " "}, 400, "description is required"),
        (
            {"lat": None, "long": None},
            400,
            "a location is required: lat and long, or address_string",
        ),
        (
            {"lat": None, "long": None, "address_id": "545483"},
            400,
            "address_id cannot be resolved here: send lat and long or address_string",
        ),
        ({"long": None}, 400, "lat and long must both be sent"),
        (
            {"lat": "north"},
            400,
            "lat must be WGS84 degrees from -90 to 90, not 'north'",
        ),
        (
            {"long": "181"},
            400,
            "long must be WGS84 degrees from -180 to 180, not '181'",
        ),
        ({"lat": "nan"}, 400, "lat must be WGS84 degrees from -90 to 90, not 'nan'"),
        ({"email": "nobody"}, 400, "email: Not a valid email address."),
        ({"phone": "call me"}, 400, "phone: String does not match expected pattern."),
        ({"media_url": "photo.jpg"}, 400, "media_url: Not a valid URL."),
        (
            {"description": "长" * 10001},
            400,
            "description: Length must be between 1 and 10000.",
        ),
    ],
)
def test_a_bad_form_is_refused_naming_the_field(overrides, code, description):
    with pytest.raises(Open311Error) as caught:
        open311.parse_request(form(**overrides), "binhai")
    assert (caught.value.code, caught.value.description) == (code, description)


def test_the_post_answer_has_an_id_and_no_token_and_shows_a_query_code_once():
    (named,) = open311.post_response("C-2026-7K3M9QXA")
    assert list(named) == ["service_request_id", "service_notice", "account_id"]
    assert named["account_id"] is None
    (anonymous,) = open311.post_response("C-2026-7K3M9QXA", "ABCD-EFGH-JKMN", "u1")
    assert "ABCD-EFGH-JKMN" in anonymous["service_notice"]
    assert anonymous["account_id"] == "u1"
    root = xml_of([anonymous], "service_requests")
    assert children(root.find("request")) == {**anonymous}


def test_a_token_answers_with_its_request_id():
    response = open311.token_response("ABCD-EFGH-JKMN", "C-2026-7K3M9QXA")
    assert response == [
        {"service_request_id": "C-2026-7K3M9QXA", "token": "ABCD-EFGH-JKMN"}
    ]
    root = xml_of(response, "service_requests")
    assert [c.tag for c in root.find("request")] == ["service_request_id", "token"]


# ---- GET requests --------------------------------------------------------------


def test_without_arguments_the_list_is_the_last_90_days_of_everything():
    assert open311.parse_list_query({}, NOW) == {
        "ids": [],
        "categories": list(CATEGORIES),
        "received_from": NOW - timedelta(days=90),
        "received_to": NOW,
        "statuses": list(STATUSES),
        "limit": 1000,
    }


def test_service_request_ids_override_every_other_argument():
    args = {
        "service_request_id": "C-1, C-2,,C-1",
        "status": "bogus",
        "start_date": "yesterday",
    }
    filters = open311.parse_list_query(args, NOW)
    assert filters["ids"] == ["C-1", "C-2"]
    assert (filters["received_from"], filters["received_to"]) == (None, None)
    assert filters["statuses"] == list(STATUSES)


def test_open_and_closed_expand_to_our_statuses():
    def statuses(value):
        return open311.parse_list_query({"status": value}, NOW)["statuses"]

    assert statuses("closed") == ["rejected", "merged", "closed"]
    assert statuses("open") == [s for s in STATUSES if s not in TERMINAL]
    assert statuses("open,closed") == list(STATUSES)
    assert statuses(["open", "closed"]) == list(STATUSES)


def test_service_codes_may_be_comma_separated_or_repeated():
    args = MultiDict([("service_code", "favours,inaction"), ("service_code", "other")])
    assert open311.parse_list_query(args, NOW)["categories"] == [
        "favours",
        "inaction",
        "other",
    ]


def test_one_date_opens_a_90_day_window_from_it():
    start = datetime(2026, 9, 1, tzinfo=UTC)
    filters = open311.parse_list_query({"start_date": "2026-09-01T00:00:00Z"}, NOW)
    assert (filters["received_from"], filters["received_to"]) == (
        start,
        start + timedelta(days=90),
    )
    filters = open311.parse_list_query({"end_date": "2026-09-01T00:00:00Z"}, NOW)
    assert filters["received_from"] == start - timedelta(days=90)


def test_an_offset_whose_plus_was_decoded_as_a_space_is_read_back():
    args = {"start_date": "2026-11-01T00:00:00 08:00"}
    filters = open311.parse_list_query(args, NOW)
    assert filters["received_from"] == datetime(2026, 11, 1, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("args", "description"),
    [
        (
            {"start_date": "2026-11-01"},
            "start_date must be a w3c datetime with a timezone in 1900-9000, such as"
            " 2026-11-23T09:00:00+08:00, not '2026-11-01'",
        ),
        (
            {"end_date": "last week"},
            "end_date must be a w3c datetime with a timezone in 1900-9000, such as"
            " 2026-11-23T09:00:00+08:00, not 'last week'",
        ),
        (
            {"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"},
            "end_date is before start_date",
        ),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"},
            "start_date to end_date may not span more than 90 days",
        ),
        ({"status": "open,pending"}, "status 'pending' must be open or closed"),
        ({"service_code": "graffiti"}, "service_code 'graffiti' is not a service here"),
        (
            {"service_request_id": ",".join(f"C-{i}" for i in range(1001))},
            "service_request_id: at most 1000 ids",
        ),
    ],
)
def test_bad_list_arguments_are_400_naming_the_argument(args, description):
    with pytest.raises(Open311Error) as caught:
        open311.parse_list_query(args, NOW)
    assert (caught.value.code, caught.value.description) == (400, description)


# ---- formats, jurisdictions, errors --------------------------------------------


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("services.xml", ("services", "xml")),
        ("requests.json", ("requests", "json")),
        ("services/shirking.JSON", ("services/shirking", "json")),
        ("requests/C-2026-7K3M9QXA.xml", ("requests/C-2026-7K3M9QXA", "xml")),
    ],
)
def test_the_format_is_the_suffix_of_the_resource(tail, expected):
    assert open311.parse_format(tail) == expected


@pytest.mark.parametrize("tail", ["requests", "requests.html", ".json", "requests."])
def test_a_missing_or_unknown_format_is_404(tail):
    with pytest.raises(Open311Error) as caught:
        open311.parse_format(tail)
    assert caught.value.code == 404
    assert caught.value.description == f"no resource {tail!r}: append .xml or .json"


def test_the_jurisdiction_must_be_given_and_be_one_the_caller_may_use():
    assert open311.check_jurisdiction({"jurisdiction_id": "binhai"}, {"binhai"}) == (
        "binhai"
    )
    with pytest.raises(Open311Error, match="400: jurisdiction_id was not provided"):
        open311.check_jurisdiction({"jurisdiction_id": ""}, {"binhai"})
    with pytest.raises(Open311Error, match="404: jurisdiction_id 'x' was not found"):
        open311.check_jurisdiction({"jurisdiction_id": "x"}, {"binhai"})


def test_errors_render_as_the_spec_errors_list_in_json():
    err = Open311Error(403, "api_key 无效")
    status, body, content_type = open311.render_error(err, "json")
    assert (status, content_type) == (403, "application/json; charset=utf-8")
    assert json.loads(body) == [{"code": 403, "description": "api_key 无效"}]
    assert "无效".encode() in body


@pytest.mark.parametrize("fmt", ["xml", None, "html"])
def test_errors_render_as_errors_error_in_xml_and_when_the_format_is_unknown(fmt):
    status, body, content_type = open311.render_error(Open311Error(404, "没有"), fmt)
    assert (status, content_type) == (404, "text/xml; charset=utf-8")
    root = ET.fromstring(body)
    assert root.tag == "errors"
    assert [c.tag for c in root] == ["error"]
    assert children(root[0]) == {"code": "404", "description": "没有"}
