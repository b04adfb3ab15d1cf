import json

import structlog

from eventlog import logs


def test_json_lines_carry_the_bound_context(capsys):
    logs.configure(json=True)
    try:
        structlog.get_logger().bind(
            service="complaints", district="binhai", correlation_id="complaint-1"
        ).info("dispatched", unit="u1")
    finally:
        structlog.reset_defaults()  # the configured logger holds capsys's stream
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "dispatched" and line["level"] == "info"
    assert {line[k] for k in ("service", "district", "correlation_id", "unit")} == {
        "complaints",
        "binhai",
        "complaint-1",
        "u1",
    }
    assert line["timestamp"].endswith("Z")


def test_an_event_handlers_logger_names_the_event_it_handles():
    from eventlog.providers import context

    envelope = {
        "event_id": "e-1",
        "type": "ComplaintDispatched",
        "district": "binhai",
        "stream_id": "complaint-C1",
        "correlation_id": "complaint-C1",
    }
    bound = context(
        "notify", "on_dispatched", "notify.on_dispatched.1", {}, (envelope,)
    )
    assert bound == {
        "service": "notify",
        "entrypoint": "on_dispatched",
        "call_id": "notify.on_dispatched.1",
        "event_id": "e-1",
        "event_type": "ComplaintDispatched",
        "stream_id": "complaint-C1",
        "district": "binhai",
        "correlation_id": "complaint-C1",
    }


def test_an_rpc_workers_logger_takes_district_and_correlation_from_the_caller():
    from eventlog.providers import context

    data = {"district": "jinghai", "correlation_id": "complaint-C2"}
    bound = context("complaints", "dispatch", "c.1", data, ("C2", {"unit": "u"}))
    assert (bound["district"], bound["correlation_id"]) == ("jinghai", "complaint-C2")
    assert "event_id" not in bound


def test_the_access_log_never_shows_tokens_api_keys_or_query_codes(capsys):
    import logging.config
    from pathlib import Path

    import yaml
    from nameko.cli.main import setup_yaml_parser

    setup_yaml_parser()  # nameko's ${VAR:default} substitution, as `nameko run`
    config = yaml.unsafe_load(
        (Path(__file__).parents[2] / "deploy" / "nameko.yml").read_text()
    )
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(config["LOGGING"])
    log = logging.getLogger("nameko.web.server")
    token = "lh_abcdefghjk_" + "s3cr3t-Secret_" * 3
    log.info(
        '127.0.0.1 - - "GET /open311/v2/requests.json?api_key=%s&x=1 HTTP/1.1" 200',
        "raw-key",
    )
    log.info(
        '"GET /v1/track/7K3M-9QXA-2B4C HTTP/1.1" 200 Authorization: Bearer %s', token
    )
    log.info('"GET /open311/v2/tokens/7K3M-9QXA-2B4C.json HTTP/1.1" 404')
    printed = capsys.readouterr().err
    for secret in ("raw-key", "s3cr3t", "7K3M-9QXA-2B4C"):
        assert secret not in printed
    assert "api_key=***&x=1" in printed and "/v1/track/***" in printed
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
