"""Single sign-on in Chromium: the button on the login page, the round trip through the OpenID Connect provider
on 127.0.0.1 (tests/standins/oidc_provider.py) and back, with the page's Content-Security-Policy watched.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from broadcast import create_app, load_settings
from tests.browser.conftest import screenshot, serve
from tests.standins.oidc_provider import OidcProviderStandIn

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
"""


@pytest.fixture
def live(settings, database):
    with OidcProviderStandIn([]) as provider:
        app = create_app(load_settings(
            instance_path=settings.instance_path, database_url=settings.database_url,
            oidc_issuer=provider.issuer, oidc_client_id=provider.client.client_id,
            oidc_client_secret=provider.client.client_secret, outbound_allow_networks="127.0.0.0/8"))
        from broadcast.services import demo

        with app.app_context(), app.extensions["database"].sessions() as session:
            list(demo.seed(session))
        with serve(app) as url:
            provider.client.redirect_uris.append(url + "/login/sso/callback")  # registered once its port is known
            yield url, provider
        app.extensions["database"].dispose()


def test_the_button_logs_in_through_the_provider(page, live):
    url, provider = live
    page.add_init_script(LISTEN)
    page.goto(f"{url}/")
    button = page.get_by_role("link", name="Đăng nhập một lần (SSO)")
    assert button.is_visible()
    screenshot(page, "sso-login-page.png")

    button.click()
    page.wait_for_load_state()

    assert urlsplit(page.url).path == "/" and "Lãnh đạo phê duyệt" in page.content()
    assert provider.token_requests == 1
    assert page.evaluate("window.__violations") == []


def test_a_person_without_an_account_sees_why(page, live):
    url, provider = live
    provider.login_as = "nguyenvana"
    page.goto(f"{url}/login")

    page.get_by_role("link", name="Đăng nhập một lần (SSO)").click()
    page.wait_for_load_state()

    assert urlsplit(page.url).path == "/login"  # sent back, the used code gone from the address bar
    assert page.get_by_role("status").filter(has_text="Tài khoản nguyenvana").is_visible()
    screenshot(page, "sso-refused.png")
    page.goto(f"{url}/")
    assert urlsplit(page.url).path == "/login"
