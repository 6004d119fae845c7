"""Security headers on every response the app gives: pages, JSON, errors, static files and
webhook answers alike.

The Content-Security-Policy lets a page load scripts, styles, images and connections only from
this site, and no script or style written into the page itself: the console's and simulator's
scripts are static files. No page may be framed, and no page sends a Referer: links to the
public pages carry tokens (confirm, unsubscribe, invitation) that must not reach another site.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
# Pages that show an email as its reader sees it (the console's preview and sent email, and the
# mailbox simulator, in a sandboxed frame that takes the page's policy): email styles itself
# inline, as mail clients expect (Kindred's footer does), so these pages allow inline styles.
# Scripts stay refused, and the email's HTML is Kindred's own (Markdown with raw HTML kept out).
_INLINE_STYLES = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
INLINE_STYLE_PAGES = dict.fromkeys(
    ("console.mail_preview", "console.mailing_page", "simulator.mailbox"), _INLINE_STYLES
)
HSTS = "max-age=31536000"

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_headers(response: Response) -> Response:
    """Set the security headers on `response` (a header a view set itself is kept)."""
    policy = INLINE_STYLE_PAGES.get(request.endpoint or "", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure or current_app.config["PUBLIC_BASE_URL"].startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response."""
    app.after_request(add_headers)
