"""A stand-in for the province's OpenID Connect identity provider on 127.0.0.1, built on Authlib's
AuthorizationServer with its authorization code grant, PKCE (S256, required) and the OpenID Connect extension
that signs ID tokens (RS256, with joserfc keys).

It publishes discovery (<issuer>/.well-known/openid-configuration) and its key set, and its authorize endpoint
consents at once for ``provider.login_as`` (the person the test says is at the keyboard). A test can make it
misbehave the ways an attacker or a broken provider would, each through the library's own token code:
``provider.sign_with_rogue_key`` (another key under the real key's id), ``provider.claims`` (claims that replace
the ones it would give: ``aud``, ``exp``/``iat``, ``iss``) and ``provider.nonce`` (a nonce other than the one the
client sent); ``provider.rotate_key`` publishes a new key and signs with it, as providers do.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

KEY_ID = "egov-2026"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    username: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time


@dataclass
class Provider:
    """What the provider will do and what it saw."""

    client: Client
    url: str = ""
    login_as: str = "pheduyet"
    sign_with_rogue_key: bool = False
    claims: dict = field(default_factory=dict)
    nonce: str | None = None
    codes: dict[str, Code] = field(default_factory=dict)
    authorize_requests: list[dict] = field(default_factory=list)
    token_requests: int = 0
    discovery_requests: int = 0
    jwks_requests: int = 0
    key_id: str = KEY_ID  # the key it signs with
    keys: KeySet = field(default_factory=lambda: KeySet([_new_key(KEY_ID)]))

    @property
    def issuer(self) -> str:
        return self.url + "/realms/egov"

    def rotate_key(self, kid: str) -> None:
        """Publish a new key beside the old one and sign with it from now on, as providers rotate keys."""
        self.keys.keys.append(_new_key(kid))
        self.key_id = kid


def _new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _app(provider: Provider, rogue: KeySet) -> Flask:
    app = Flask("oidc-stand-in")

    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code, request):
            data = request.payload.data
            provider.codes[code] = Code(code, request.client.get_client_id(), request.user,
                                        request.payload.redirect_uri, request.payload.scope, data.get("nonce"),
                                        data.get("code_challenge"), data.get("code_challenge_method"))

        def query_authorization_code(self, code, client):
            found = provider.codes.get(code)
            return found if found is not None and found.client_id == client.get_client_id() else None

        def delete_authorization_code(self, authorization_code):
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.username

    class IdTokens(OpenIDCode):
        def exists_nonce(self, nonce, request):
            return any(code.nonce == nonce for code in provider.codes.values())  # a replayed nonce is refused

        def resolve_client_private_key(self, client):
            if provider.sign_with_rogue_key:
                return rogue.get_by_kid(KEY_ID)
            return provider.keys.get_by_kid(provider.key_id)

        def get_client_algorithm(self, client):
            return "RS256"

        def get_encode_header(self, client):
            return {"alg": "RS256", "kid": KEY_ID if provider.sign_with_rogue_key else provider.key_id}

        def get_client_claims(self, client):
            now = int(time.time())
            return {"iss": provider.issuer, "aud": [client.get_client_id()], "iat": now, "exp": now + 300,
                    **provider.claims}

        def get_authorization_code_claims(self, authorization_code):
            claims = super().get_authorization_code_claims(authorization_code)
            if provider.nonce is not None:
                claims["nonce"] = provider.nonce
            return claims

        def generate_user_info(self, user, scope):
            return UserInfo(sub=f"egov-{user}", preferred_username=user, email=f"{user}@tuyenquang.gov.vn")

    server = AuthorizationServer(app, query_client=lambda cid: provider.client
                                 if cid == provider.client.client_id else None, save_token=lambda *_: None)
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True), IdTokens(require_nonce=True)])

    @app.get("/realms/egov/.well-known/openid-configuration")
    def discovery():
        provider.discovery_requests += 1
        base = provider.issuer + "/protocol/openid-connect"
        return jsonify({
            "issuer": provider.issuer, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
            "jwks_uri": base + "/certs", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"]})

    @app.get("/realms/egov/protocol/openid-connect/certs")
    def jwks():
        provider.jwks_requests += 1
        return jsonify(provider.keys.as_dict(private=False))

    @app.get("/realms/egov/protocol/openid-connect/auth")
    def authorize():
        provider.authorize_requests.append(request.args.to_dict())
        try:
            grant = server.get_consent_grant(end_user=provider.login_as)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant=grant, grant_user=provider.login_as)  # consent at once

    @app.post("/realms/egov/protocol/openid-connect/token")
    def token():
        provider.token_requests += 1
        return server.create_token_response()

    return app


class OidcProviderStandIn:
    """Start it as a context manager; it listens on a free port of 127.0.0.1."""

    def __init__(self, redirect_uris: list[str], client_id: str = "dai-truyen-thanh",
                 client_secret: str = "bi-mat-cua-dai"):
        self.provider = Provider(Client(client_id, client_secret, redirect_uris))
        rogue = KeySet([_new_key(KEY_ID)])  # another key under the real key's id
        self._server = make_server("127.0.0.1", 0, _app(self.provider, rogue), threaded=True)
        self.provider.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-stand-in", daemon=True)

    def __enter__(self) -> Provider:
        self._thread.start()
        return self.provider

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
