"""structlog: JSON lines in production, readable lines in a terminal."""

import logging
import re
import sys

import structlog


def configure(*, json: bool | None = None, level: int = logging.INFO) -> None:
    if json is None:
        json = not sys.stderr.isatty()
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


class RedactSecrets(logging.Filter):
    """Masks what must never reach a log: bearer tokens and api_keys (they are
    credentials), and the query codes anonymous complainants follow their complaint
    with (only their hash is kept anywhere else). The web server's access log writes
    each request line, query string included: this filter sits on its handler."""

    PATTERNS = (
        (re.compile(r"\blh_[a-z0-9]{10}_[A-Za-z0-9_-]+"), "lh_***"),
        (re.compile(r"(api_key=)[^&\s\"]*", re.I), r"\1***"),
        (re.compile(r"(/track/|/tokens/)[^\s?\"]*"), r"\1***"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        for pattern, replacement in self.PATTERNS:
            text = pattern.sub(replacement, text)
        record.msg, record.args = text, ()
        return True
