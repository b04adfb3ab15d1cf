"""Open311 GeoReport v2 over HTTP, as an existing Open311 client uses it."""

import uuid
import xml.etree.ElementTree as ET

import psycopg
import pytest

J = "jurisdiction_id=binhai"


def post_request(platform, fmt="json", **extra):
    form = {
        "api_key": platform.token("intake"),
        "jurisdiction_id": "binhai",
        "service_code": "slow_action",
        "lat": "39.0255",
        "long": "117.7118",
        "description": "道路维修申请提交两个月没有任何答复",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13600002222",
        **extra,
    }
    return platform.post(f"/open311/v2/requests.{fmt}", data=form)


def test_services_are_the_misconduct_categories_in_json_and_xml(platform):
    r = platform.get(f"/open311/v2/services.json?{J}")
    assert r.status_code == 200
    codes = {s["service_code"] for s in r.json()}
    assert {"shirking", "slow_action", "favours"} <= codes
    x = platform.get(f"/open311/v2/services.xml?{J}")
    assert x.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(x.content)
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.iter("service")} == codes


def test_a_posted_request_is_a_complaint_that_clients_can_read_back(platform):
    r = post_request(platform)
    assert r.status_code == 200, r.text
    rid = r.json()[0]["service_request_id"]
    assert rid.startswith("C-")
    got = platform.get(f"/open311/v2/requests/{rid}.json?{J}").json()
    assert got[0]["service_request_id"] == rid
    assert got[0]["status"] == "open" and got[0]["service_code"] == "slow_action"
    assert "王小明" not in platform.get(f"/open311/v2/requests/{rid}.xml?{J}").text
    listed = platform.get(f"/open311/v2/requests.xml?{J}&service_code=slow_action")
    root = ET.fromstring(listed.content)
    assert root.tag == "service_requests"
    assert rid in {req.findtext("service_request_id") for req in root.iter("request")}
    # The complaint is the same one the /v1 API shows, to intake with its complainant.
    view = platform.get(f"/v1/complaints/{rid}", "intake").json()
    assert view["channel"] == "web" and view["complainant"]["state"] == "encrypted"
    who = platform.get(
        f"/v1/complaints/{rid}/complainant", "intake", params={"reason": "核实"}
    )
    assert who.status_code == 200 and who.json()["name"] == "王小明", who.text


def test_expected_datetime_and_agency_follow_the_lifecycle(platform):
    rid = post_request(platform).json()[0]["service_request_id"]
    platform.post(f"/v1/complaints/{rid}/accept", "intake", json={})
    platform.post(
        f"/v1/complaints/{rid}/dispatch", "intake", json={"unit": "approvals"}
    )
    platform.post(f"/v1/complaints/{rid}/sign", "unit_handler", unit="approvals")
    got = platform.get(f"/open311/v2/requests/{rid}.json?{J}").json()[0]
    assert got["agency_responsible"] and got["expected_datetime"]
    platform.post(
        f"/v1/complaints/{rid}/reply",
        "unit_handler",
        unit="approvals",
        json={"result": "已答复"},
    )
    closed = platform.post(
        f"/v1/complaints/{rid}/close",
        "supervisor",
        json={"ruling": "投诉人失联，答复成立"},
    )
    assert closed.status_code == 200, closed.text
    got = platform.get(f"/open311/v2/requests/{rid}.json?{J}").json()[0]
    assert got["status"] == "closed"


@pytest.mark.parametrize(
    "path, status",
    [
        ("/open311/v2/services.json", 400),  # no jurisdiction_id
        ("/open311/v2/services.json?jurisdiction_id=atlantis", 404),
        ("/open311/v2/services/teleport.json?" + J, 404),
        ("/open311/v2/requests/C-0000-NOTHING0.json?" + J, 404),
        ("/open311/v2/requests.json?" + J + "&start_date=yesterday", 400),
        ("/open311/v2/requests.txt?" + J, 404),
        ("/open311/v2/a/b/c.json", 404),
    ],
)
def test_errors_are_open311_error_lists(platform, path, status):
    r = platform.get(path)
    assert r.status_code == status, r.text
    if path.split("?")[0].endswith(".json"):
        body = r.json()
        assert body[0]["code"] == status and body[0]["description"]
    else:
        assert ET.fromstring(r.content).tag == "errors"


def test_posting_needs_a_valid_api_key(platform):
    r = post_request(platform, api_key="")
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    r = post_request(platform, "xml", api_key="lh_abcdefghjk_" + "A" * 43)
    assert r.status_code == 403 and ET.fromstring(r.content).tag == "errors"
    r = post_request(platform, description="")
    assert r.status_code == 400 and "description" in r.json()[0]["description"]


@pytest.mark.parametrize(
    "extra",
    [
        {"description": "a\x00b"},
        {"first_name": "\x00"},
        {"lat": "NaN"},
        {"media_url": "http://example.com/a\x00b"},
    ],
)
def test_a_post_with_unstorable_values_is_a_400_and_records_nothing(
    platform, database, extra
):
    marker = f"marker {uuid.uuid4()}"
    # The marker names what would be written; a description in `extra` extends it.
    extra = {**extra, "description": marker + extra.get("description", "")}
    r = post_request(platform, **extra)
    assert r.status_code == 400, r.text
    assert r.json()[0]["code"] == 400
    with psycopg.connect(database.app, autocommit=True) as conn:
        written = conn.execute(
            "SELECT count(*) FROM eventlog.events"
            " WHERE type = 'ComplaintReceived' AND data->>'description' LIKE %s",
            (marker + "%",),
        ).fetchone()[0]
    assert written == 0


@pytest.mark.parametrize(
    "path", ["/open311/v2/requests/C-%00.json?" + J, "/open311/v2/requests/x.json?" + J]
)
def test_a_request_id_that_cannot_be_one_is_not_found(platform, path):
    r = platform.get(path)
    assert r.status_code == 404 and r.json()[0]["code"] == 404
