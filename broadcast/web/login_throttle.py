"""Login throttling that slows password guessing without letting anyone lock a person out.

Three counters, kept by Flask-Limiter's storage (Redis when REDIS_URL is set, so every web node and worker
counts together; else this process's memory) and each hit atomically *before* the password is checked, so
parallel requests cannot slip past a limit between the check and the count:

1. ``LOGIN_LIMIT_PER_ADDRESS``: every login attempt from one client address, whatever the account.
2. ``LOGIN_LIMIT_PER_ACCOUNT_ADDRESS``: attempts on one account from one address. This is the one a guesser
   meets; it stops that address only, and a successful login clears it.
3. ``LOGIN_LIMIT_PER_ACCOUNT``: attempts on one account from all addresses. Beyond it the account is under
   attack from many places: each address then gets only its first attempt in the window checked.

So nobody can lock an account by failing on purpose: the right password from an address that is not the one
hammering is still checked and gets in (the two-person emergency approval cannot be blocked this way). The
price is that a guesser with many addresses gets one guess per address per window; a second factor is the
answer to that, not a lock. Counters are keyed by the name as typed (folded), whether or not such an account
exists, and the answer is the same 401 or 429 for both, so the throttle tells nobody which names exist.

If Redis cannot be reached, this process counts in its own memory meanwhile (and says so in the log): logins
go on, still throttled, rather than all failing or none being counted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from broadcast.errors import DomainError
from broadcast.i18n import _l

EXTENSION = "login_limiter"
log = logging.getLogger(__name__)


class LoginThrottled(DomainError):
    status = 429
    code = "throttled"

    def __init__(self, retry_after_s: int):
        minutes = max(1, math.ceil(retry_after_s / 60))
        super().__init__(_l("Too many login attempts. Try again in %(n)s minutes.", n=minutes),
                         details={"retry_after_s": retry_after_s})
        self.headers = {"Retry-After": str(retry_after_s)}


def init_app(app: Flask) -> None:
    settings = app.extensions["settings"]
    # One limiter per application (tests build many), so its memory storage is its own.
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.redis_url or "memory://",
                      storage_options={"wrap_exceptions": True}, key_prefix=f"{settings.redis_channel}:login",
                      default_limits=[], headers_enabled=False)
    app.extensions[EXTENSION] = limiter
    app.extensions["login_limiter_fallback"] = FixedWindowRateLimiter(MemoryStorage())
    app.extensions["login_limits"] = {
        "address": parse_many(settings.login_limit_per_address),
        "account_address": parse_many(settings.login_limit_per_account_address),
        "account": parse_many(settings.login_limit_per_account),
    }


def _account(username: str) -> str:
    # A digest keeps odd characters out of the storage keys, and any length of name to one size.
    return hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:32]


def admit(username: str) -> None:
    """Count this attempt and raise LoginThrottled if its password may not be checked now."""
    try:
        _admit(current_app.extensions[EXTENSION].limiter, username)
    except StorageError as exc:
        log.warning("login throttle: shared storage unreachable (%s); counting in this process", exc)
        _admit(current_app.extensions["login_limiter_fallback"], username)


def _admit(strategy, username: str) -> None:
    limits = current_app.extensions["login_limits"]
    address, account = request.remote_addr or "?", _account(username)
    refused: list[tuple[RateLimitItem, tuple[str, ...]]] = []
    for item in limits["address"]:
        if not strategy.hit(item, "address", address):
            refused.append((item, ("address", address)))
    for item in limits["account_address"]:
        if not strategy.hit(item, "account-address", account, address):
            refused.append((item, ("account-address", account, address)))
    if not refused:
        for item in limits["account"]:
            if not strategy.hit(item, "account", account) and not _first_from_here(strategy, limits, account,
                                                                                  address):
                refused.append((item, ("account", account)))
    if refused:
        now = time.time()
        wait = max(strategy.get_window_stats(item, *keys).reset_time - now for item, keys in refused)
        raise LoginThrottled(max(1, math.ceil(wait)))


def _first_from_here(strategy, limits, account: str, address: str) -> bool:
    """Whether this is the address's first attempt on the account in its window (counted just before)."""
    return all(strategy.get_window_stats(item, "account-address", account, address).remaining >= item.amount - 1
               for item in limits["account_address"])


def admit_code(username: str) -> None:
    """Count an attempt at a second-factor code (broadcast.web.two_factor) and raise LoginThrottled beyond the
    limits. The guesser here already has the password, so codes have counters of their own, on the same limits
    as passwords but with no exemption for an address's first attempt, and not cleared by the right password
    (re-entering it must not buy more guesses): only the right code clears its address's count."""
    try:
        _admit_code(current_app.extensions[EXTENSION].limiter, username)
    except StorageError as exc:
        log.warning("login throttle: shared storage unreachable (%s); counting in this process", exc)
        _admit_code(current_app.extensions["login_limiter_fallback"], username)


def _admit_code(strategy, username: str) -> None:
    limits = current_app.extensions["login_limits"]
    account = _account(username)
    keyed = [(item, ("code-address", account, request.remote_addr or "?")) for item in limits["account_address"]]
    keyed += [(item, ("code", account)) for item in limits["account"]]
    refused = [(item, keys) for item, keys in keyed if not strategy.hit(item, *keys)]
    if refused:
        wait = max(strategy.get_window_stats(item, *keys).reset_time - time.time() for item, keys in refused)
        raise LoginThrottled(max(1, math.ceil(wait)))


def code_succeeded(username: str) -> None:
    """The right code from this address: its count of code attempts starts again."""
    _clear(("code-address", _account(username), request.remote_addr or "?"))


def succeeded(username: str) -> None:
    """The right password: this address is not guessing this account, so its count starts again."""
    _clear(("account-address", _account(username), request.remote_addr or "?"))


def _clear(keys: tuple[str, ...]) -> None:
    for item in current_app.extensions["login_limits"]["account_address"]:
        for strategy in (current_app.extensions[EXTENSION].limiter, current_app.extensions["login_limiter_fallback"]):
            try:
                strategy.clear(item, *keys)
            except StorageError:
                pass  # unreachable: admit() said so already
