"""What an email looks like when it leaves: the organizer's Markdown rendered to HTML beside
the plain text, the footer the law asks of every email that is not a direct reply (a visible
unsubscribe link and the organization's postal address), and the headers that thread replies
and unsubscribe in one click (RFC 8058)."""

from __future__ import annotations

import secrets
from html import escape

from flask import current_app
from markdown_it import MarkdownIt

from gateway.delivery import mail_tokens
from gateway.delivery.transports import OutboundEmail
from gateway.extensions import db
from gateway.models import Message, Organization

# Organizers' Markdown: CommonMark, with raw HTML shown as text (nothing they paste can inject
# markup or script into a member's mail).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

# A direct answer to a member's email reads like a personal email: no footer.
DIRECT_REPLY_REASONS = frozenset({"organizer_reply"})
BODY_MAX = 100_000
SUBJECT_MAX = 200


def subject_line(subject: str, limit: int | None = SUBJECT_MAX) -> str:
    """A subject as one line (at most `limit` characters): a line break in a subject would
    start a header of its own in the email that carries it. A NUL, which PostgreSQL text cannot
    hold, is kept as U+FFFD."""
    line = " ".join(subject.split()).replace("\x00", "\ufffd")
    return line if limit is None else line[:limit]


def new_header_id(message_id: int) -> str:
    """A Message-ID header for an outbound email of ours (RFC 5322: unique, with our domain)."""
    return f"<kindred.{message_id}.{secrets.token_hex(6)}@{current_app.config['INBOUND_EMAIL_DOMAIN']}>"


def render_html(markdown: str) -> str:
    """The organizer's Markdown as HTML."""
    return _markdown.render(markdown)


def preview_html(org: Organization, markdown: str) -> str:
    """The HTML of a mailing as its members will see it, footer included; the footer's
    unsubscribe link, each member's own when it is sent, goes nowhere here."""
    return _with_footer("", render_html(markdown), org, "#unsubscribe")[1]


def sender(org: Organization) -> tuple[str, str]:
    """The From of the organization's email: EMAIL_FROM, else hello@INBOUND_EMAIL_DOMAIN."""
    address = current_app.config["EMAIL_FROM"] or f"hello@{current_app.config['INBOUND_EMAIL_DOMAIN']}"
    return address, org.name


def compose(message: Message) -> OutboundEmail:
    """The email a queued outbound message becomes, rendered now (in the worker)."""
    org = db.session.get(Organization, message.organization_id)
    assert org is not None
    address = message.address
    from_email, from_name = sender(org)
    reply_to = mail_tokens.reply_address(address.person_id) if address.person_id else from_email
    unsubscribe = mail_tokens.unsubscribe_url(address.id)
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>, <{mail_tokens.unsubscribe_mailto(address.id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if message.header_id:
        headers["Message-ID"] = message.header_id
    original = db.session.get(Message, message.in_reply_to_id) if message.in_reply_to_id else None
    if original is not None and original.channel == "email" and original.header_id:
        headers["In-Reply-To"] = original.header_id
        headers["References"] = original.header_id
    text, html = message.body, render_html(message.body)
    if message.reason not in DIRECT_REPLY_REASONS:
        text, html = _with_footer(text, html, org, unsubscribe)
    return OutboundEmail(
        to=address.value,
        from_email=from_email,
        from_name=from_name,
        reply_to=reply_to,
        subject=message.subject or org.name,
        text=text,
        html=html,
        headers=headers,
        message_id=message.id,
    )


def _with_footer(text: str, html: str, org: Organization, unsubscribe: str) -> tuple[str, str]:
    postal = current_app.config["ORGANIZATION_POSTAL_ADDRESS"]
    text += (
        f"\n\n--\n{org.name}, {postal}\n"
        f"You get this email because you asked {org.name} for it. Unsubscribe: {unsubscribe}\n"
    )
    html += (
        '<hr><p style="font-size:12px;color:#555">'
        f"{escape(org.name)}, {escape(postal)}<br>"
        f"You get this email because you asked {escape(org.name)} for it. "
        f'<a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
    )
    return text, html
