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
