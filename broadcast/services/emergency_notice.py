"""E-mail to the approvers of an area when an emergency broadcast waits for them (SMTP_URL, SMTP_FROM).

A warning that waits for its approver is a warning not yet aired, so whoever can approve it should hear of it
even when not looking at the pages (which show a banner) and even without a webhook receiver. The message is put
together in the request (who gets it, what it says) and sent by a background thread, so a slow or absent mail
server never delays the request, nor the warning.

The users table has no e-mail column yet: an approver is written to when their login is an e-mail address
(``approver_addresses`` is the one place that would read such a column).
"""

from __future__ import annotations

import logging
import re
import smtplib
import threading
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.db.models import EmergencyBroadcast, Role, User

log = logging.getLogger(__name__)

TIMEOUT_S = 20.0
ADDRESS = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+\.[^@\s,<>]+$")


@dataclass(frozen=True)
class Notice:
    recipients: tuple[str, ...]
    subject: str
    body: str


def approver_addresses(session: Session, broadcast: EmergencyBroadcast) -> list[str]:
    """Active approvers who may approve it (their area holds every one of its areas), the requester aside."""
    found = []
    for user in session.scalars(select(User).where(User.role == Role.APPROVER, User.active.is_(True))
                                .order_by(User.username)):
        if user.id == broadcast.requested_by_id or not ADDRESS.match(user.username):
            continue
        mine = user.scope_area
        if mine is not None and broadcast.areas and all(a.path.startswith(mine.path) for a in broadcast.areas):
            found.append(user.username)
    return found


def send(smtp_url: str, sender: str, notice: Notice, *, timeout: float = TIMEOUT_S) -> None:
    """Send one message to all its recipients (raises on failure)."""
    parts = urlsplit(smtp_url)
    secure = parts.scheme == "smtps"
    client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    # Header, not EmailMessage's folding: that drops the space where it folds a Vietnamese subject between two
    # encoded words ("phê duyệt:Lũ quét").
    message = MIMEText(notice.body, "plain", "utf-8")
    message["From"], message["To"] = sender, ", ".join(notice.recipients)
    message["Subject"] = Header(notice.subject, "utf-8")
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    with client_class(parts.hostname, parts.port or (465 if secure else 25), timeout=timeout) as client:
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message, from_addr=sender, to_addrs=list(notice.recipients))


def send_in_background(smtp_url: str, sender: str, notice: Notice) -> threading.Thread | None:
    """Start sending and return at once (the thread, for tests to wait on); None when there is nothing to do."""
    if not smtp_url or not notice.recipients:
        return None

    def run() -> None:
        try:
            send(smtp_url, sender, notice)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("emergency notice to %d approvers failed: %s", len(notice.recipients), exc)
        else:
            log.info("emergency notice sent to %d approvers", len(notice.recipients))

    thread = threading.Thread(target=run, name="emergency-notice", daemon=True)
    thread.start()
    return thread
