"""A stand-in for an LGSP gateway on 127.0.0.1: an OAuth2 token server built on Authlib's AuthorizationServer
(client credentials grant, bearer tokens) and a receiving endpoint that accepts only the tokens it issued (or a
static token), records every document it gets, and answers as the test says.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from flask import Flask, jsonify, request
from werkzeug.serving import make_server


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    scope: str = "statistics"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or self.scope).split() if s in self.scope.split())

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


@dataclass
class Gateway:
    """What the gateway saw and will answer: ``answers`` are statuses to give before accepting (201)."""

    client: Client
    static_token: str = "static-token-of-the-province"
    token_lifetime_s: int = 3600
    issued: set[str] = field(default_factory=set)
    received: list[dict] = field(default_factory=list)  # {"authorization", "body", "push_id", "accepted"}
    token_requests: int = 0
    answers: list[int] = field(default_factory=list)
    url: str = ""

    @property
    def token_url(self) -> str:
        return self.url + "/oauth/token"

    @property
    def receiver_url(self) -> str:
        return self.url + "/statistics"


def _app(gateway: Gateway) -> Flask:
    app = Flask("lgsp-stand-in")
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": gateway.token_lifetime_s}

    def save_token(token, _request):
        gateway.issued.add(token["access_token"])

    server = AuthorizationServer(app, query_client=lambda cid: gateway.client if cid == gateway.client.client_id
                                 else None, save_token=save_token)
    server.register_grant(grants.ClientCredentialsGrant)

    @app.post("/oauth/token")
    def issue_token():
        gateway.token_requests += 1
        return server.create_token_response()

    @app.post("/statistics")
    def receive():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        known = scheme == "Bearer" and (token in gateway.issued or token == gateway.static_token)
        status = (gateway.answers.pop(0) if gateway.answers else 201) if known else 401
        gateway.received.append({"authorization": request.headers.get("Authorization", ""),
                                 "body": request.get_json(silent=True), "accepted": 200 <= status < 300,
                                 "push_id": request.headers.get("X-Radio-Push-Id")})
        return jsonify({"ok": 200 <= status < 300}), status

    return app


class LgspStandIn:
    """Start it as a context manager; it listens on a free port of 127.0.0.1."""

    def __init__(self, client_id: str = "tinh-tuyen-quang", client_secret: str = "s3cret-of-the-client"):
        self.gateway = Gateway(Client(client_id, client_secret))
        self._server = make_server("127.0.0.1", 0, _app(self.gateway), threaded=True)
        self.gateway.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="lgsp-stand-in", daemon=True)

    def __enter__(self) -> Gateway:
        self._thread.start()
        return self.gateway

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
