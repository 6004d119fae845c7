"""Exports: the CSVs `kindred export` writes, downloaded from the console, each of the signed-in
organizer's organization alone. Admins only: they hold people's phone numbers. Each download is
in the audit log (who, which) before any row leaves, and is streamed, a batch of rows at a time,
so a million rows start at once and never sit in memory whole."""

from __future__ import annotations

from flask import Response, abort, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user

from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import audit, exports
from gateway.console import bp
from gateway.extensions import begin_reading, db

DESCRIPTIONS = {
    "consent": "Every address and where its consent stands, with when and how it last changed.",
    "volunteers": "Volunteers' numbers, names, status and when they joined.",
    "friends": "The friends volunteers listed (no contact details: there are none to give).",
    "reports": "Conversation reports: how each went and what was learned.",
    "messages": "Every text and email in and out, with its status and why it was sent (no bodies).",
}


@bp.get("/exports")
@needs("admin")
def exports_page() -> ResponseReturnValue:
    kinds = [(kind, exports.EXPORTS[kind][0], DESCRIPTIONS.get(kind, "")) for kind in exports.EXPORTS]
    return render_template("console/exports.html", kinds=kinds)


@bp.get("/exports/download")
@needs("admin")
def export_download() -> ResponseReturnValue:
    kind = request.args.get("kind", "")
    if kind not in exports.EXPORTS:
        abort(404)
    org = current_organization()
    audit.record(org, "export", current_user.organizer, ip=request.remote_addr or "", kind=kind)
    db.session.commit()
    begin_reading()  # a long download must not hold up incoming texts
    filename = f"kindred-{kind}-{clock.now():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(exports.csv_chunks(org, kind)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
