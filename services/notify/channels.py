"""The channels out: email over SMTP, SMS through a district's HTTP gateway.

Both are nameko DependencyProviders configured from the nameko config:
- LIUHEN_SMTP_HOST, LIUHEN_SMTP_PORT, LIUHEN_MAIL_FROM; optionally LIUHEN_SMTP_USER
  and LIUHEN_SMTP_PASSWORD (then STARTTLS is required before logging in);
- LIUHEN_SMS_GATEWAYS: {district: URL} (JSON text or a mapping; `"*"` for every
  other district). The adapter POSTs JSON {"to": phone, "text": text} and takes any
  2xx as accepted, which is what the usual HTTP SMS gateways of the operators do; a
  district whose provider speaks another dialect gets an adapter of its own here.

Each send is bounded as a whole by DEADLINE, not only per socket operation: smtplib's
and urllib's `timeout` applies to each read and write, so a server that answers a
byte at a time could stretch one send without end. The sender leases a notification
for longer than DEADLINE (sender.py); a send that outlived its lease could go out
twice. The bound is an eventlet.Timeout: these providers run inside nameko's
eventlet hub, where the sockets are green and the timeout interrupts them.

A send that does not go raises DeliveryError with a short code ("smtp 451",
"http 503", "ConnectionRefusedError"): that code is recorded in a
NotificationFailed event, so it must never carry the server's own text, which may
echo the address.
"""

import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage

import eventlet
from nameko.extensions import DependencyProvider

from . import schedule

TIMEOUT = 10  # seconds for one socket operation (connect, a read, a write)
DEADLINE = 30  # seconds for a whole send: shorter than the sender's lease
GOODBYE = 2  # seconds for QUIT once a message is accepted


class DeliveryError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Mailer(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.host = config.get("LIUHEN_SMTP_HOST") or "localhost"
        self.port = int(config.get("LIUHEN_SMTP_PORT") or 25)
        self.sender = config.get("LIUHEN_MAIL_FROM") or "liuhen@localhost"
        self.user = config.get("LIUHEN_SMTP_USER") or None
        self.password = config.get("LIUHEN_SMTP_PASSWORD") or ""

    def get_dependency(self, worker_ctx):
        return self.send

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body)  # UTF-8, as the standard library picks for Chinese
        smtp = None
        try:
            with eventlet.Timeout(DEADLINE):
                smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
                if self.user:
                    smtp.starttls()
                    smtp.login(self.user, self.password)
                smtp.send_message(msg)
        except eventlet.Timeout:
            raise DeliveryError("timeout") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"smtp {exc.smtp_code}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryError(f"smtp {','.join(map(str, codes))}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(type(exc).__name__) from None
        finally:
            _goodbye(smtp)


def _goodbye(smtp) -> None:
    """QUIT, briefly: once the message is accepted, a server slow to say goodbye is
    no failure (recording one would send the message again)."""
    if smtp is None:
        return
    try:
        with eventlet.Timeout(GOODBYE, False):  # False: give up silently
            smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        smtp.close()


def gateways(config_value) -> dict[str, str]:
    if isinstance(config_value, str):
        config_value = json.loads(config_value) if config_value.strip() else {}
    return dict(config_value or {})


class SmsGateways(DependencyProvider):
    def setup(self):
        self.urls = gateways(self.container.config.get("LIUHEN_SMS_GATEWAYS"))

    def get_dependency(self, worker_ctx):
        return self.send

    def send(self, district: str, to: str, text: str) -> None:
        url = self.urls.get(district) or self.urls.get("*")
        if not url:
            raise DeliveryError("no sms gateway configured for the district")
        body = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            with (
                eventlet.Timeout(DEADLINE),
                urllib.request.urlopen(request, timeout=TIMEOUT) as response,
            ):
                response.read()
        except eventlet.Timeout:
            raise DeliveryError("timeout") from None
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"http {exc.code}") from None
        except urllib.error.URLError as exc:
            raise DeliveryError(type(exc.reason).__name__) from None
        except OSError as exc:
            raise DeliveryError(type(exc).__name__) from None


class QuietHours(DependencyProvider):
    """`quiet(district)`: the district's quiet hours for SMS (schedule.quiet_hours,
    from LIUHEN_QUIET_HOURS)."""

    def setup(self):
        self.table = schedule.quiet_hours(
            self.container.config.get("LIUHEN_QUIET_HOURS")
        )

    def get_dependency(self, worker_ctx):
        return lambda district: self.table.get(district, self.table["*"])
