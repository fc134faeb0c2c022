"""Security headers on every response: no framing, no type sniffing, no referrer to other sites, and a Content
Security Policy.

The pages need nothing but their own origin: scripts and the style sheet are files under /static (no inline
script, style attribute or event handler in a template; broadcast/static/*.js set styles through the DOM, which
the policy allows), charts are inline SVG, players play the service's own audio. So the policy is strict, and
an injected ``<script>`` or ``style`` has no effect even if escaping failed somewhere. Every other answer (JSON,
feeds, calendars) gets a policy that allows nothing at all, since none of them is a page; audio may still be
played when opened by itself.

Plain after_request: Flask-Talisman would add HTTPS redirects and cookie settings this service configures
elsewhere (SESSION_COOKIE_SECURE), for five headers.
"""

from __future__ import annotations

from flask import Flask, Response

PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
))
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Audio opened by itself (a playlist's link, a feed's enclosure): the browser wraps it in a page of its own whose
# player loads the very same address, which "default-src 'none'" would block.
MEDIA_POLICY = "default-src 'none'; media-src 'self'; img-src 'self'; frame-ancestors 'none'"

HEADERS = {
    "X-Frame-Options": "DENY",  # browsers older than CSP's frame-ancestors
    "X-Content-Type-Options": "nosniff",
    # Addresses may carry what is not for other sites (a signed audio link, a search); our own pages keep it.
    "Referrer-Policy": "same-origin",
}


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", policy_for(response.mimetype or ""))
    return response


def policy_for(mimetype: str) -> str:
    if mimetype == "text/html":
        return PAGE_POLICY
    if mimetype.startswith(("audio/", "image/", "video/")):
        return MEDIA_POLICY
    return NOTHING_POLICY


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
