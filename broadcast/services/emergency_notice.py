"""E-mail to the approvers of an area when an emergency broadcast waits for them (SMTP_URL, SMTP_FROM).

A warning that waits for its approver is a warning not yet aired, so whoever can approve it should hear of it
even when not looking at the pages (which show a banner) and even without a webhook receiver. The message is put
together in the request (who gets it, what it says) and sent by a background thread, so a slow or absent mail
server never delays the request, nor the warning.

An approver is written to at their address (``users.email``), or, for installations whose approvers log in with
their address and have not given one yet, at their login when it is an address. Those with neither are counted
and named (``Reach.without_address``), so the emergency's page can say who was not told.
"""

from __future__ import annotations

import logging
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
from broadcast.services import user_email

log = logging.getLogger(__name__)

TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Notice:
    recipients: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class Reach:
    """Who hears of it by e-mail: the addresses, and the approvers who may approve it but have none (by name)."""

    addresses: tuple[str, ...]
    without_address: tuple[str, ...]


def address_of(user: User) -> str | None:
    """The person's address; else their login when it is one (approvers who log in with their address)."""
    if user.email:
        return user.email
    login = user.username.strip().lower()
    return login if user_email.is_address(login) else None


def approvers_reach(session: Session, broadcast: EmergencyBroadcast) -> Reach:
    """Active approvers who may approve it (their area holds every one of its areas), the requester aside."""
    addresses: list[str] = []
    without: list[str] = []
    for user in session.scalars(select(User).where(User.role == Role.APPROVER, User.active.is_(True))
                                .order_by(User.username)):
        mine = user.scope_area
        if user.id == broadcast.requested_by_id or mine is None or not broadcast.areas:
            continue
        if all(a.path.startswith(mine.path) for a in broadcast.areas):
            address = address_of(user)
            if address is None:
                without.append((user.full_name or "").strip() or user.username)
            elif address not in addresses:
                addresses.append(address)
    return Reach(tuple(addresses), tuple(without))


def approver_addresses(session: Session, broadcast: EmergencyBroadcast) -> list[str]:
    return list(approvers_reach(session, broadcast).addresses)


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
