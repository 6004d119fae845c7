"""What we learned: the interests and the recurring words and phrases in conversation reports,
period by period (weeks or months), drawn as a grid an organizer reads at a glance, with the
same figures as a table; each phrase or interest opens the reports behind it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request
from flask.typing import ResponseReturnValue

from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import learning
from gateway.console import bp


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    count: int
    shade: float  # 0..1, the share of the grid's largest count
    period: learning.Period


def grid(
    rows: tuple[learning.Row, ...], found: learning.Learned, cell: int = 44, row_height: int = 26
) -> dict[str, object]:
    """Geometry for a periods x rows grid of shaded cells, drawn as SVG by the template."""
    top = max([max(row.counts) for row in rows] + [1])
    cells = [
        [
            Cell(i * cell, r * row_height, count, round(count / top, 2), found.periods[i])
            for i, count in enumerate(row.counts)
        ]
        for r, row in enumerate(rows)
    ]
    return {
        "cell": cell,
        "row_height": row_height,
        "width": cell * len(found.periods),
        "height": row_height * len(rows),
        "rows": list(zip(rows, cells, strict=True)),
        "labels": [(i * cell + cell / 2, p.label(found.kind)) for i, p in enumerate(found.periods)],
    }


@bp.get("/learned")
@needs("viewer")
def learned() -> ResponseReturnValue:
    org = current_organization()
    kind = request.args.get("period", "week")
    kind = kind if kind in learning.KINDS else "week"
    now = clock.now()
    found = learning.learned(org, kind, now)
    phrase, interest = request.args.get("phrase", "")[:100], request.args.get("interest", "")[:60]
    behind, total = ([], 0)
    if phrase or interest:
        behind, total = learning.reports_behind(org, kind, now, phrase=phrase, interest=interest)
    return render_template(
        "console/learned.html",
        found=found,
        kind=kind,
        phrases=grid(found.phrases, found),
        interests=grid(found.interests, found),
        phrase=learning.normalize(phrase),
        interest=interest.strip().lower(),
        behind=behind,
        total=total,
    )
