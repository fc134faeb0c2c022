"""Sending a statistics document to a receiver (an LGSP/NGSP gateway), with a static token or an OAuth2 token.

LGSP gateways are API managers that issue access tokens by OAuth2 client credentials (RFC 6749 §4.4): the
client id and secret go to the token URL (HTTP Basic), the answer is a bearer token with its lifetime. The token
is kept until shortly before it expires, in this process, so a day's push and its retries ask for one token, not
one each. A receiver that answers 401 makes us forget the token: the next attempt asks for a new one.

Authlib's requests client does the token exchange; its connections go through broadcast.channels.outbound's
adapter like every other request to an address someone configured.

This module knows nothing of the web application or the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from broadcast.channels import outbound

USER_AGENT = "commune-radio-statistics/1"
EXPIRY_MARGIN_S = 30  # a token this close to its end is renewed rather than sent
_ERROR_TEXT_LIMIT = 200


class PushFailed(Exception):
    """The receiver did not take the document; ``reason`` says why, ``status`` is its HTTP status if it answered."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class OAuthClient:
    token_url: str
    client_id: str
    client_secret: str
    scope: str = ""


@dataclass(frozen=True)
class Credentials:
    """How to authenticate: ``oauth`` when set, else ``token`` (a static bearer token), else nothing."""

    token: str = ""
    oauth: OAuthClient | None = None


class TokenCache:
    """Access tokens by client, until shortly before they expire (thread-safe: the scheduler runs jobs in threads)."""

    def __init__(self):
        self._tokens: dict[OAuthClient, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.fetched = 0  # how many tokens were asked for, for the log and the tests

    def get(self, client: OAuthClient, policy: outbound.OutboundPolicy, *, timeout_s: float,
            clock=time.monotonic) -> str:
        with self._lock:
            cached = self._tokens.get(client)
            if cached is not None and clock() < cached[1]:
                return cached[0]
            token = _fetch_token(client, policy, timeout_s)
            lifetime = float(token.get("expires_in") or 300)
            self._tokens[client] = (token["access_token"], clock() + max(0.0, lifetime - EXPIRY_MARGIN_S))
            self.fetched += 1
            return token["access_token"]

    def forget(self, client: OAuthClient) -> None:
        with self._lock:
            self._tokens.pop(client, None)


TOKENS = TokenCache()


def _fetch_token(client: OAuthClient, policy: outbound.OutboundPolicy, timeout_s: float) -> dict:
    with OAuth2Session(client.client_id, client.client_secret, scope=client.scope or None,
                       token_endpoint_auth_method="client_secret_basic") as oauth:  # noqa: S106 - a method
        oauth.trust_env = False
        adapter = outbound.PinnedAdapter(policy)
        oauth.mount("http://", adapter)
        oauth.mount("https://", adapter)
        try:
            token = oauth.fetch_token(client.token_url, grant_type="client_credentials", timeout=timeout_s)
        except OAuthError as exc:
            raise PushFailed(f"token refused by {client.token_url}: {exc.error}"
                             + (f" ({exc.description})" if exc.description else "")) from None
        except outbound.Refused as exc:
            raise PushFailed(f"token not asked for: {exc}") from None
        except requests.RequestException as exc:
            raise PushFailed(f"cannot get a token from {client.token_url}: {outbound.root_cause(exc)}") from None
        except ValueError as exc:  # not a token answer at all (HTML, garbage)
            raise PushFailed(f"no token in the answer of {client.token_url}: {exc}") from None
    if not token.get("access_token"):
        raise PushFailed(f"no access_token in the answer of {client.token_url}")
    return token


def _describe(response: requests.Response) -> str:
    start = response.raw.read(4 * _ERROR_TEXT_LIMIT, decode_content=True) or b""
    text = " ".join(start.decode(response.encoding or "utf-8", "replace").split())[:_ERROR_TEXT_LIMIT]
    reason = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    return f"{reason}: {text}" if text else reason


def push(url: str, body: bytes, credentials: Credentials, *, push_id: str, policy: outbound.OutboundPolicy,
         timeout_s: float = 30.0, tokens: TokenCache = TOKENS) -> int:
    """POST the document; returns the receiver's 2xx status, raises PushFailed otherwise. Redirects are not
    followed (a moved receiver is configured again)."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Radio-Push-Id": push_id}
    if credentials.oauth is not None:
        headers["Authorization"] = "Bearer " + tokens.get(credentials.oauth, policy, timeout_s=timeout_s)
    elif credentials.token:
        headers["Authorization"] = "Bearer " + credentials.token
    with outbound.session(policy) as sender:
        try:
            response = sender.post(url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False,
                                   stream=True)
        except outbound.Refused as exc:
            raise PushFailed(f"not sent: {exc}") from None
        except requests.Timeout:
            raise PushFailed(f"no answer within {timeout_s:g} s") from None
        except requests.RequestException as exc:
            raise PushFailed(f"cannot connect: {outbound.root_cause(exc)}") from None
        with response:
            if 200 <= response.status_code < 300:
                return response.status_code
            if response.status_code == 401 and credentials.oauth is not None:
                tokens.forget(credentials.oauth)  # revoked or expired early: the next attempt asks anew
            raise PushFailed(_describe(response), response.status_code)
