"""When a notification may go: quiet hours for SMS, backoff between attempts. Pure.

Quiet hours are local (Asia/Shanghai), per district from the nameko config key
LIUHEN_QUIET_HOURS (`{"binhai": "22:00-07:30", "*": "21:00-08:00"}`; `"*"` is every
other district; default 21:00-08:00). An SMS due in them is held until they end; an
email or inbox item is not (nobody's phone rings for an email at night).
"""

import json
import re
from datetime import datetime, time, timedelta

from eventlog.deadlines import TZ

DEFAULT_QUIET = "21:00-08:00"
WINDOW = re.compile(
    r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$"
)
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
HELD = frozenset({"sms"})


def window(text: str) -> tuple[time, time]:
    """`"21:00-08:00"` -> (21:00, 08:00), or ValueError naming the text."""
    match = WINDOW.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"quiet hours {text!r} are not HH:MM-HH:MM")
    h1, m1, h2, m2 = map(int, match.groups())
    return time(h1, m1), time(h2, m2)


def quiet_hours(config_value) -> dict[str, tuple[time, time]]:
    """The config value (a JSON text or a mapping) as {district or "*": window}."""
    if isinstance(config_value, str):
        config_value = json.loads(config_value) if config_value.strip() else {}
    table = {"*": DEFAULT_QUIET, **(config_value or {})}
    return {district: window(text) for district, text in table.items()}


def release(now: datetime, channel: str, quiet: tuple[time, time] | None) -> datetime:
    """When a notification on `channel` may go out, if it is due `now`."""
    if channel not in HELD or quiet is None or quiet[0] == quiet[1]:
        return now
    start, end = quiet
    local = now.astimezone(TZ)
    t = local.time()
    overnight = start > end
    inside = (t >= start or t < end) if overnight else start <= t < end
    if not inside:
        return now
    day = local.date() + timedelta(days=1) if overnight and t >= start else local.date()
    return datetime.combine(day, end, tzinfo=TZ)


def retry_at(now: datetime, attempt: int) -> datetime | None:
    """After failed attempt number `attempt`: when to try again (1, 2, 4, 8 minutes,
    at most an hour), or None when it is time to give up."""
    if attempt >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * 2 ** (attempt - 1), LONGEST_WAIT)
