"""Failed authentications per client address: a sliding window, on a clock the test
moves; and which failures count (guesses) and which are only logged (stale tokens)."""

import pytest
import structlog
from structlog.testing import capture_logs

from services.gateway import throttle, tokens_routes
from services.gateway.auth import AuthError
from services.gateway.throttle import FailureLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(limit=3, window=60.0):
    clock = Clock()
    return FailureLimiter(limit, window, clock), clock


def test_an_address_may_fail_up_to_the_limit_then_waits():
    failures, clock = limiter()
    for n in (1, 2, 3):
        assert failures.retry_after("10.0.0.1") is None
        assert failures.fail("10.0.0.1") == n
        clock.now += 5
    assert failures.retry_after("10.0.0.1") == 45  # the first failure, 15 s ago
    assert failures.retry_after("10.0.0.2") is None  # per address


def test_retry_after_is_exact_the_window_slides_and_a_success_wipes_nothing():
    failures, clock = limiter(limit=2, window=10)
    failures.fail("a")
    clock.now += 4
    failures.fail("a")
    assert failures.retry_after("a") == 6  # when the first leaves the window
    clock.now += 5.5
    assert failures.retry_after("a") == 1  # never 0 while still refused
    clock.now += 0.5  # the first failure leaves the window
    assert failures.retry_after("a") is None
    assert failures.fail("a") == 2  # the second is still in it
    assert failures.retry_after("a") == 4


def test_memory_is_bounded_forgetting_the_quietest_address(monkeypatch):
    monkeypatch.setattr(throttle, "CAPACITY", 3)
    failures, clock = limiter(limit=1)
    for address in ("a", "b", "c"):
        failures.fail(address)
        clock.now += 1
    failures.fail("a")  # a failed again: b is now the quietest
    failures.fail("d")
    assert set(failures.failures) == {"c", "a", "d"}
    assert failures.retry_after("b") is None


@pytest.mark.parametrize("limit, window", [(0, 60), (10, 0), (-1, 5)])
def test_a_senseless_configuration_is_refused_naming_the_settings(limit, window):
    with pytest.raises(ValueError, match="LIUHEN_AUTH_FAILURES"):
        FailureLimiter(limit, window)


# ---- what counts: tokens_routes.principal, the one way a token is checked ----------


class Request:
    def __init__(self, address: str, authorization: str | None):
        self.remote_addr = address
        self.headers = {"Authorization": authorization} if authorization else {}


def refusing(monkeypatch, reason: str) -> None:
    """authenticate() refusing every token for `reason`, as auth.py words it."""

    def authenticate(conn, header):
        raise AuthError("refused", reason, None if reason == "malformed" else "x" * 10)

    monkeypatch.setattr(tokens_routes, "authenticate", authenticate)


@pytest.mark.parametrize("reason", ["expired", "revoked"])
def test_a_stale_token_is_logged_but_never_locks_its_address_out(monkeypatch, reason):
    refusing(monkeypatch, reason)
    failures, _ = limiter(limit=3)
    log = structlog.get_logger()
    with capture_logs() as logs:
        for _ in range(10):
            with pytest.raises(AuthError):
                tokens_routes.principal(None, failures, log, Request("a", "Bearer x"))
    assert failures.retry_after("a") is None
    assert [(e["event"], e["reason"]) for e in logs] == [
        ("authentication failed", reason)
    ] * 10
    assert all("failures" not in e for e in logs)


@pytest.mark.parametrize("reason", ["malformed", "unknown_token", "wrong_secret"])
def test_a_guess_counts_and_the_limit_then_refuses_any_token(monkeypatch, reason):
    refusing(monkeypatch, reason)
    failures, _ = limiter(limit=3)
    log = structlog.get_logger()
    with capture_logs() as logs:
        for _ in range(3):
            with pytest.raises(AuthError):
                tokens_routes.principal(None, failures, log, Request("a", "Bearer x"))
        with pytest.raises(tokens_routes.TooManyFailures):
            tokens_routes.principal(None, failures, log, Request("a", "Bearer x"))
    assert [e.get("failures") for e in logs] == [1, 2, 3, None]
    assert logs[-1]["event"] == "authentication refused"


def test_no_token_at_all_is_neither_counted_nor_logged(monkeypatch):
    refusing(monkeypatch, "missing")
    failures, _ = limiter(limit=1)
    with capture_logs() as logs:
        with pytest.raises(AuthError):
            tokens_routes.principal(
                None, failures, structlog.get_logger(), Request("a", None)
            )
    assert logs == [] and failures.retry_after("a") is None
