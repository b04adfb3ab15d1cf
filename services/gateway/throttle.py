"""Failed authentications, counted per client address, in each gateway process.

After LIUHEN_AUTH_FAILURES failures (default 10) from one address within
LIUHEN_AUTH_WINDOW seconds (default 60), every request of that address that needs a
token is answered 429 with Retry-After, without looking at its token, until the
oldest of those failures leaves the window. A failure is a guess: a malformed
token, an unknown token id or a wrong secret, as a bearer token or as Open311's
api_key (tokens_routes.authenticated decides, for both). A request with no token
guesses nothing; nor does an expired or revoked token, which is refused (401) and
logged but not counted: a client polling with a stale token behind a shared proxy
would otherwise lock out everyone behind it. A success does not wipe the count, so
a valid token cannot be interleaved to keep guessing with another; refused
requests are not counted, so Retry-After is exact.

Why in the process and not in PostgreSQL: a shared counter would turn every failed
guess into a database write, so a flood of bad tokens would load the database that
serves every district; and a database outage would then lock everyone out or let
everyone in. Per process, with N gateway instances behind a balancer, an address
gets at most N times the limit: with 256-bit secrets guessing is hopeless anyway;
the limit is there to make a scan loud and slow, and the log (structlog, each
failure with its address, token id and reason) is what an operator watches. Behind
a proxy the address is the proxy's: put the limit there too, or teach this one the
proxy's header, never a header a client can set freely.

Memory is bounded: at most CAPACITY addresses are tracked; beyond that the quietest
are forgotten first. eventlet switches greenthreads only on I/O, and nothing here
does any, so the state needs no lock.
"""

import math
import time
from collections import deque

from nameko.extensions import DependencyProvider

CAPACITY = 100_000


class FailureLimiter:
    def __init__(self, limit: int, window: float, clock=time.monotonic):
        if limit < 1 or window <= 0:
            raise ValueError(
                f"LIUHEN_AUTH_FAILURES must be at least 1 and LIUHEN_AUTH_WINDOW "
                f"more than 0 seconds (got {limit} and {window})"
            )
        self.limit, self.window, self.clock = limit, window, clock
        self.failures: dict[str, deque] = {}

    def _recent(self, client: str) -> deque:
        times = self.failures.get(client, deque())
        horizon = self.clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again; None when it may now."""
        times = self._recent(client)
        if len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - self.clock()))

    def fail(self, client: str) -> int:
        """Count a failure of `client`; the number within the window."""
        times = self._recent(client)
        times.append(self.clock())
        self.failures.pop(client, None)  # to the end: most recent last
        self.failures[client] = times
        if len(self.failures) > CAPACITY:
            del self.failures[next(iter(self.failures))]
        return len(times)


class AuthFailures(DependencyProvider):
    """The gateway process's FailureLimiter, from the nameko config."""

    def setup(self):
        config = self.container.config
        self.limiter = FailureLimiter(
            int(config.get("LIUHEN_AUTH_FAILURES") or 10),
            float(config.get("LIUHEN_AUTH_WINDOW") or 60),
        )

    def get_dependency(self, worker_ctx):
        return self.limiter
