"""The relational network page: who brought whom in (referrals), teams as clusters, and how
many friends each volunteer listed (as counts: friends are never drawn or named).

Whatever the organization's size, a view makes the same few grouped queries and draws at most
PEOPLE_LIMIT people and CLUSTER_LIMIT teams. An organization with more volunteers than
PEOPLE_LIMIT is drawn as one circle per team; a team opened from there shows its most connected
people. The layout is plain functions on plain data (`pack`, `rings`, `people_picture`,
`cluster_picture`): deterministic, and a few milliseconds of Python for any organization.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, ScalarSelect, case, func, select
from sqlalchemy.orm import aliased

from gateway.access import current_organization, needs
from gateway.console import bp
from gateway.console.forms import whole_number
from gateway.extensions import db
from gateway.models import Friend, Organization, Person, Team, TeamMember

PEOPLE_LIMIT = 300  # people drawn one by one on any view, at most
CLUSTER_LIMIT = 60  # team circles on any view, at most; the smallest teams beyond are drawn as one
LINK_LIMIT = 80  # links between team circles, the strongest first
NODE_BUDGET = PEOPLE_LIMIT + CLUSTER_LIMIT + 1  # every circle a view may draw, "outside" included
LABEL_LIMIT = 40  # up to this many people, their names are written on the picture too

NO_TEAM = "none"  # the cluster of volunteers on no team; also its ?team= value
OTHER_TEAMS = "other"  # the smallest teams beyond CLUSTER_LIMIT, drawn as one circle
ClusterKey = int | str  # a team's id, NO_TEAM or OTHER_TEAMS

SPACING = 24  # between people on a team's rings
LABELLED_SPACING = 64  # the same when their names are written under them
NODE_MIN_R, NODE_MAX_R = 4.0, 10.0
OUTSIDE_R = 12.0
CLUSTER_MIN_R, CLUSTER_MAX_R = 14.0, 60.0


# The data: what the queries give, in plain objects.


@dataclass(frozen=True)
class Volunteer:
    id: int
    name: str | None
    friends: int  # friends they listed
    brought: int  # volunteers they brought in
    referred_by_id: int | None
    referred_by_name: str | None
    team_id: int | None

    @property
    def label(self) -> str:
        return self.name or f"Volunteer #{self.id}"

    @property
    def referrer_label(self) -> str | None:
        """Who brought them in, if anyone did."""
        if self.referred_by_id is None:
            return None
        return self.referred_by_name or f"Volunteer #{self.referred_by_id}"


@dataclass
class Cluster:
    """A team (or no team, or the smallest teams together) seen from above."""

    key: ClusterKey
    name: str
    volunteers: int = 0
    friends: int = 0
    within: int = 0  # referrals with both people in it
    brought_in: int = 0  # of its volunteers, brought in by someone in another cluster
    brought_out: int = 0  # volunteers of other clusters its volunteers brought in
    teams: int = 1  # how many teams it stands for: none for NO_TEAM, several for OTHER_TEAMS

    @property
    def team(self) -> bool:
        return isinstance(self.key, int)


@dataclass(frozen=True)
class Link:
    """Volunteers of `source` brought in `count` volunteers of `target`."""

    source: ClusterKey
    target: ClusterKey
    count: int


# The picture: circles and arrows in SVG user units, ready for the template.


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float


@dataclass(frozen=True)
class Node:
    at: Circle
    person: Volunteer
    title: str
    labelled: bool


@dataclass(frozen=True)
class Region:
    at: Circle
    cluster: Cluster
    title: str


@dataclass(frozen=True)
class Edge:
    path: str  # SVG path data, from the one who brought to the one brought in
    width: float
    title: str
    outside: bool  # one end is the "outside this view" marker


@dataclass(frozen=True)
class Picture:
    view_box: str
    font: float
    regions: list[Region]
    edges: list[Edge]
    nodes: list[Node]
    outside: Circle | None
    arrow: float  # the size of an arrowhead
    left_off: int = 0  # links between teams not drawn (LINK_LIMIT)

    @property
    def circles(self) -> int:
        return len(self.regions) + len(self.nodes) + (self.outside is not None)


# The layout: plain functions on plain data.


def pack(radii: Sequence[float]) -> list[tuple[float, float]]:
    """Centres for circles of these radii, in the order given, packed tightly around the origin
    without overlapping: each circle goes next to two on the front chain, as close to the centre
    as it fits (Wang et al.'s front-chain packing, as d3's packSiblings does it). Give the
    largest first for the roundest pack."""
    n = len(radii)
    xs, ys = [0.0] * n, [0.0] * n
    if n < 2:
        return list(zip(xs, ys, strict=True))
    xs[0], xs[1] = -radii[1], radii[0]
    if n == 2:
        return list(zip(xs, ys, strict=True))
    circles = [_Spot(0.0, 0.0, r) for r in radii]
    circles[0].x, circles[1].x = xs[0], xs[1]
    _place(circles[1], circles[0], circles[2])
    # The front chain, a ring of indices: a -> b -> c -> a.
    after, before = [0] * n, [0] * n
    a, b, c = 0, 1, 2
    after[a], after[b], after[c] = b, c, a
    before[b], before[c], before[a] = a, b, c
    i = 3
    while i < n:
        _place(circles[a], circles[b], circles[i])
        c = i
        # The nearest circle on the chain that the new one overlaps, if any, ahead or behind.
        j, k, sj, sk = after[b], before[a], circles[b].r, circles[a].r
        overlapped = False
        while True:
            if sj <= sk:
                if _overlap(circles[j], circles[c]):
                    b, after[a], before[j] = j, j, a
                    overlapped = True
                    break
                sj, j = sj + circles[j].r, after[j]
            else:
                if _overlap(circles[k], circles[c]):
                    a, after[k], before[b] = k, b, k
                    overlapped = True
                    break
                sk, k = sk + circles[k].r, before[k]
            if j == after[k]:
                break
        if overlapped:
            continue  # the chain was cut short; place the same circle again
        before[c], after[c], after[a], before[b] = a, b, c, c
        b = c
        best, best_score = a, _score(circles, after, a)
        node = after[c]
        while node != b:
            node_score = _score(circles, after, node)
            if node_score < best_score:
                best, best_score = node, node_score
            node = after[node]
        a, b = best, after[best]
        i += 1
    return [(spot.x, spot.y) for spot in circles]


@dataclass
class _Spot:
    x: float
    y: float
    r: float


def _place(b: _Spot, a: _Spot, c: _Spot) -> None:
    """Put c touching both a and b, on the outer side of the chain a -> b."""
    dx, dy = b.x - a.x, b.y - a.y
    d2 = dx * dx + dy * dy
    if not d2:
        c.x, c.y = a.x + c.r, a.y
        return
    a2, b2 = (a.r + c.r) ** 2, (b.r + c.r) ** 2
    if a2 > b2:
        x = (d2 + b2 - a2) / (2 * d2)
        y = math.sqrt(max(0.0, b2 / d2 - x * x))
        c.x, c.y = b.x - x * dx - y * dy, b.y - x * dy + y * dx
    else:
        x = (d2 + a2 - b2) / (2 * d2)
        y = math.sqrt(max(0.0, a2 / d2 - x * x))
        c.x, c.y = a.x + x * dx - y * dy, a.y + x * dy + y * dx


def _overlap(a: _Spot, b: _Spot) -> bool:
    dr = a.r + b.r - 1e-6
    return dr > 0 and dr * dr > (b.x - a.x) ** 2 + (b.y - a.y) ** 2


def _score(circles: list[_Spot], after: list[int], index: int) -> float:
    """How far from the centre the gap between this circle and the next on the chain is."""
    a, b = circles[index], circles[after[index]]
    ab = a.r + b.r
    x, y = (a.x * b.r + b.x * a.r) / ab, (a.y * b.r + b.y * a.r) / ab
    return x * x + y * y


def rings(count: int, spacing: float) -> list[tuple[float, float]]:
    """Places for `count` people on concentric rings `spacing` apart around the origin: the
    first at the centre, then rings of 6, 12, 18... (as many as fit), from the top clockwise."""
    places: list[tuple[float, float]] = []
    ring = 0
    while len(places) < count:
        if ring == 0:
            places.append((0.0, 0.0))
        else:
            take = min(int(2 * math.pi * ring), count - len(places))
            turn = 0.5 * (ring % 2) / take  # stagger alternate rings
            for step in range(take):
                angle = 2 * math.pi * (step / take + turn) - math.pi / 2
                places.append((ring * spacing * math.cos(angle), ring * spacing * math.sin(angle)))
        ring += 1
    return places


def node_radius(friends: int) -> float:
    """A person's circle grows with the friends they listed, up to sixteen."""
    return NODE_MIN_R + (NODE_MAX_R - NODE_MIN_R) * math.sqrt(min(friends, 16) / 16)


def cluster_radius(volunteers: int, most: int) -> float:
    """A team's circle, its area in proportion to its volunteers."""
    return CLUSTER_MIN_R + (CLUSTER_MAX_R - CLUSTER_MIN_R) * math.sqrt(volunteers / max(most, 1))


def people_picture(groups: Sequence[tuple[Cluster, Sequence[Volunteer]]]) -> Picture:
    """Each group's people on rings inside their team's circle (most connected first, at the
    centre), the circles packed together, an arrow from whoever brought someone in to them. A
    referral to or from someone not drawn points to a small "outside this view" marker."""
    drawn = {person.id for _, people in groups for person in people}
    everyone = [person for _, people in groups for person in people]
    brought_drawn = Counter(p.referred_by_id for p in everyone if p.referred_by_id in drawn)
    outside = any(
        (p.referred_by_id is not None and p.referred_by_id not in drawn) or p.brought > brought_drawn[p.id]
        for p in everyone
    )
    labelled = len(everyone) <= LABEL_LIMIT
    spacing = LABELLED_SPACING if labelled else SPACING
    places = [rings(len(people), spacing) for _, people in groups]
    radii = [max((math.hypot(x, y) for x, y in spots), default=0.0) + spacing / 2 + 4 for spots in places]
    centres, font = _arrange([*radii, *([OUTSIDE_R] if outside else [])])
    regions, nodes, at = [], [], {}
    for (cluster, people), spots, radius, (cx, cy) in zip(groups, places, radii, centres, strict=False):
        regions.append(Region(Circle(cx, cy, radius), cluster, _describe_cluster(cluster)))
        for person, (x, y) in zip(people, spots, strict=True):
            at[person.id] = Circle(cx + x, cy + y, node_radius(person.friends))
            nodes.append(Node(at[person.id], person, _describe_person(person), labelled))
    marker = Circle(*centres[-1], OUTSIDE_R) if outside else None
    edges = []
    for person in everyone:
        if person.referred_by_id in at:
            edges.append(_edge(at[person.referred_by_id], at[person.id], 1.25, _brought(person), False))
        elif person.referred_by_id is not None and marker is not None:
            edges.append(_edge(marker, at[person.id], 1.25, _brought(person) + " (not drawn here)", True))
    for person in everyone:
        more = person.brought - brought_drawn[person.id]
        if more > 0 and marker is not None:
            title = f"{person.label} brought in {_count(more, 'more volunteer')}, not drawn here"
            edges.append(_edge(at[person.id], marker, 1.25, title, True))
    circles = [region.at for region in regions] + ([marker] if marker else [])
    return Picture(_view_box(circles, font, labelled), font, regions, edges, nodes, marker, font * 0.5)


def cluster_picture(clusters: Sequence[Cluster], links: Iterable[Link]) -> Picture:
    """One circle per cluster, its area in proportion to its volunteers, packed together, and
    an arrow between two clusters as thick as the referrals from one to the other (LINK_LIMIT
    of the strongest)."""
    most = max((cluster.volunteers for cluster in clusters), default=0)
    radii = [cluster_radius(cluster.volunteers, most) for cluster in clusters]
    centres, font = _arrange(radii)
    regions = [
        Region(Circle(x, y, r), cluster, _describe_cluster(cluster))
        for cluster, r, (x, y) in zip(clusters, radii, centres, strict=True)
    ]
    at = {region.cluster.key: region for region in regions}
    between = sorted(
        (link for link in links if link.source != link.target and link.source in at and link.target in at),
        key=lambda link: (-link.count, str(link.source), str(link.target)),
    )
    strongest = between[:LINK_LIMIT]
    heaviest = max((link.count for link in strongest), default=1)
    edges = [
        _edge(
            at[link.source].at,
            at[link.target].at,
            1 + 3 * math.sqrt(link.count / heaviest),
            f"{at[link.source].cluster.name} brought in {_count(link.count, 'volunteer')} "
            f"now in {at[link.target].cluster.name}",
            False,
        )
        for link in strongest
    ]
    view_box = _view_box([r.at for r in regions], font, False)
    return Picture(view_box, font, regions, edges, [], None, font * 0.8, len(between) - len(strongest))


def _arrange(radii: Sequence[float]) -> tuple[list[tuple[float, float]], float]:
    """Circles packed with room around each for its label, largest first; and the label size,
    in proportion to the whole, so it reads the same on any size of picture."""
    order = sorted(range(len(radii)), key=lambda i: (-radii[i], i))
    tight = pack([radii[i] for i in order])
    span = max((math.hypot(x, y) + radii[i] for (x, y), i in zip(tight, order, strict=True)), default=1.0)
    font = round(max(span / 24, 6.0), 1)
    padded = pack([radii[i] + font * 1.2 for i in order])
    centres = [(0.0, 0.0)] * len(radii)
    for (x, y), i in zip(padded, order, strict=True):
        centres[i] = (round(x, 1), round(y, 1))
    return centres, font


def _view_box(circles: Sequence[Circle], font: float, labelled: bool) -> str:
    margin = font * (2.5 if labelled else 1.5)
    left = min((c.x - c.r for c in circles), default=0.0) - margin
    top = min((c.y - c.r for c in circles), default=0.0) - margin
    right = max((c.x + c.r for c in circles), default=0.0) + margin
    bottom = max((c.y + c.r for c in circles), default=0.0) + margin
    return f"{left:.0f} {top:.0f} {right - left:.0f} {bottom - top:.0f}"


def _edge(source: Circle, target: Circle, width: float, title: str, outside: bool) -> Edge:
    """A gently bent arrow from the rim of one circle to the rim of the other."""
    dx, dy = target.x - source.x, target.y - source.y
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    x1, y1 = source.x + ux * source.r, source.y + uy * source.r
    x2, y2 = target.x - ux * (target.r + 1), target.y - uy * (target.r + 1)
    bend = 0.12 * length
    cx, cy = (x1 + x2) / 2 - uy * bend, (y1 + y2) / 2 + ux * bend
    path = f"M{x1:.1f} {y1:.1f}Q{cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}"
    return Edge(path, round(width, 2), title, outside)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _brought(person: Volunteer) -> str:
    return f"{person.referrer_label} brought in {person.label}"


def _describe_person(person: Volunteer) -> str:
    referred = f"; brought in by {person.referrer_label}" if person.referred_by_id else ""
    return (
        f"{person.label}: {_count(person.friends, 'friend')} listed; "
        f"brought in {_count(person.brought, 'volunteer')}{referred}"
    )


def _describe_cluster(cluster: Cluster) -> str:
    return (
        f"{cluster.name}: {_count(cluster.volunteers, 'volunteer')}, "
        f"{_count(cluster.friends, 'friend')} listed, {_count(cluster.within, 'referral')} within, "
        f"{cluster.brought_in:,} brought in from other teams, {cluster.brought_out:,} brought into them"
    )


def clusters_from_counts(
    teams: Iterable[tuple[int, str]],
    totals: dict[int | None, tuple[int, int]],
    referrals: Iterable[tuple[int | None, int | None, int]],
) -> tuple[list[Cluster], list[Link]]:
    """Clusters from grouped counts: the teams (id, name), volunteers and friends per team
    (None: on no team), and referrals per (referrer's team, referred person's team). The
    largest first; beyond CLUSTER_LIMIT the smallest teams become one cluster, OTHER_TEAMS."""
    clusters: dict[ClusterKey, Cluster] = {team_id: Cluster(team_id, name) for team_id, name in teams}
    for team_id, (volunteers, friends) in totals.items():
        cluster = _cluster(clusters, team_id)
        cluster.volunteers, cluster.friends = volunteers, friends
    pairs = [(_cluster(clusters, a).key, _cluster(clusters, b).key, n) for a, b, n in referrals]
    ranked = sorted(clusters.values(), key=lambda c: (-c.volunteers, c.name.casefold(), str(c.key)))
    if len(ranked) > CLUSTER_LIMIT:
        rest = [c for c in ranked if c.team][CLUSTER_LIMIT - 1 - (NO_TEAM in clusters) :]
        merged = {c.key for c in rest}
        other = Cluster(
            OTHER_TEAMS,
            f"{len(rest):,} smaller teams",
            volunteers=sum(c.volunteers for c in rest),
            friends=sum(c.friends for c in rest),
            teams=len(rest),
        )
        ranked = [*(c for c in ranked if c.key not in merged), other]
        pairs = [
            (OTHER_TEAMS if a in merged else a, OTHER_TEAMS if b in merged else b, n) for a, b, n in pairs
        ]
    by_key = {cluster.key: cluster for cluster in ranked}
    weights: Counter[tuple[ClusterKey, ClusterKey]] = Counter()
    for source, target, n in pairs:
        if source == target:
            by_key[source].within += n
        else:
            by_key[source].brought_out += n
            by_key[target].brought_in += n
            weights[source, target] += n
    return ranked, [Link(source, target, n) for (source, target), n in weights.items()]


def _cluster(clusters: dict[ClusterKey, Cluster], team_id: int | None) -> Cluster:
    key: ClusterKey = NO_TEAM if team_id is None else team_id
    if key not in clusters:
        clusters[key] = (
            Cluster(key, "No team", teams=0) if team_id is None else Cluster(key, f"Team #{team_id}")
        )
    return clusters[key]


# The queries: a fixed few per view, grouped in the database, whatever the organization's size.
# A volunteer's own counts (friends listed, volunteers brought in) are subqueries on each
# volunteer, an index lookup each. Joined to the volunteers as grouped subqueries instead, they
# took PostgreSQL half a second for 2,000 volunteers just after a bulk import: with no statistics
# on the new rows yet, it expected a handful of volunteers and compared each with every group.


def _volunteers_of(org: Organization) -> list[ColumnElement[bool]]:
    return [Person.organization_id == org.id, Person.volunteer_since.is_not(None)]


def _friends_listed(org: Organization) -> ScalarSelect[int]:
    """How many friends the volunteer of the outer query listed."""
    return (
        select(func.count())
        .where(Friend.volunteer_id == Person.id, Friend.organization_id == org.id)
        .correlate(Person)
        .scalar_subquery()
    )


def _volunteers_brought() -> ScalarSelect[int]:
    """How many volunteers the volunteer of the outer query brought in."""
    # No filter on the organization: a referral never leaves it (its code is looked up in it), and
    # with that filter SQLite reads every volunteer of the organization for each volunteer.
    referred = aliased(Person)
    return (
        select(func.count())
        .select_from(referred)
        .where(referred.referred_by_id == Person.id, referred.volunteer_since.is_not(None))
        .correlate(Person)
        .scalar_subquery()
    )


def _in_cluster(key: ClusterKey) -> ColumnElement[bool]:
    return TeamMember.id.is_(None) if key == NO_TEAM else TeamMember.team_id == key


def read_totals(org: Organization, *where: ColumnElement[bool]) -> dict[int | None, tuple[int, int]]:
    """Volunteers and the friends they listed, per team (None: on no team). One query."""
    rows = db.session.execute(
        select(TeamMember.team_id, func.count(Person.id), func.coalesce(func.sum(_friends_listed(org)), 0))
        .select_from(Person)
        .outerjoin(TeamMember, TeamMember.person_id == Person.id)
        .where(*_volunteers_of(org), *where)
        .group_by(TeamMember.team_id)
    )
    return {team_id: (int(volunteers), int(listed)) for team_id, volunteers, listed in rows}


def read_clusters(org: Organization) -> tuple[list[Cluster], list[Link]]:
    """The organization's teams as clusters, with the referrals between them. Three queries."""
    teams = db.session.execute(select(Team.id, Team.name).where(Team.organization_id == org.id)).all()
    referred, referrer = aliased(Person), aliased(Person)
    referred_team, referrer_team = aliased(TeamMember), aliased(TeamMember)
    referrals = db.session.execute(
        select(referrer_team.team_id, referred_team.team_id, func.count())
        .select_from(referred)
        .join(referrer, referrer.id == referred.referred_by_id)
        .outerjoin(referred_team, referred_team.person_id == referred.id)
        .outerjoin(referrer_team, referrer_team.person_id == referrer.id)
        .where(
            referred.organization_id == org.id,
            referred.volunteer_since.is_not(None),
            referrer.volunteer_since.is_not(None),
        )
        .group_by(referrer_team.team_id, referred_team.team_id)
    ).all()
    return clusters_from_counts(list(teams), read_totals(org), list(referrals))


def read_people(org: Organization, limit: int, *where: ColumnElement[bool]) -> list[Volunteer]:
    """Volunteers with their counts, the most connected first (by referrals either way, then
    friends listed), at most `limit`. One query."""
    referrer = aliased(Person)
    listed, brought = _friends_listed(org), _volunteers_brought()
    connections = brought + case((Person.referred_by_id.is_not(None), 1), else_=0)
    rows = db.session.execute(
        select(
            Person.id,
            Person.name,
            listed,
            brought,
            Person.referred_by_id,
            referrer.name,
            TeamMember.team_id,
        )
        .select_from(Person)
        .outerjoin(TeamMember, TeamMember.person_id == Person.id)
        .outerjoin(referrer, referrer.id == Person.referred_by_id)
        .where(*_volunteers_of(org), *where)
        .order_by(connections.desc(), listed.desc(), Person.id)
        .limit(limit)
    ).all()
    return [Volunteer(*row) for row in rows]


# The page.


@bp.get("/network")
@needs("viewer")
def network() -> ResponseReturnValue:
    org = current_organization()
    team = request.args.get("team")
    if team is not None:
        return _team(org, team)
    clusters, links = read_clusters(org)
    people = read_people(org, PEOPLE_LIMIT + 1)  # one more than drawn: are there too many?
    volunteers = sum(cluster.volunteers for cluster in clusters)
    if len(people) <= PEOPLE_LIMIT:
        kept = {cluster.key for cluster in clusters}
        groups = [
            (c, [p for p in people if _key(p, kept) == c.key]) for c in clusters if c.volunteers or c.team
        ]
        picture = people_picture(groups) if people else None
    else:
        picture = cluster_picture(clusters, links)
    return render_template(
        "console/network.html",
        org=org,
        picture=picture,
        clusters=clusters,
        people=people if len(people) <= PEOPLE_LIMIT else [],
        volunteers=volunteers,
        teams=sum(cluster.teams for cluster in clusters),
        merged=next((c for c in clusters if c.key == OTHER_TEAMS), None),
        team_names={c.key: c.name for c in clusters if c.team},
        team=None,
    )


def _key(person: Volunteer, kept: set[ClusterKey]) -> ClusterKey:
    if person.team_id is None:
        return NO_TEAM
    return person.team_id if person.team_id in kept else OTHER_TEAMS


def _team(org: Organization, raw: str) -> ResponseReturnValue:
    """One team's people (or those on no team), the most connected PEOPLE_LIMIT of them."""
    if raw == NO_TEAM:
        key: ClusterKey = NO_TEAM
        name = "No team"
    elif team_id := whole_number(raw):
        found = db.session.execute(
            select(Team.id, Team.name).where(Team.id == team_id, Team.organization_id == org.id)
        ).first()
        if found is None:
            abort(404)
        key, name = found
    else:
        abort(404)
    volunteers, friends = read_totals(org, _in_cluster(key)).get(None if key == NO_TEAM else key, (0, 0))
    cluster = Cluster(key, name, volunteers, friends)
    people = read_people(org, PEOPLE_LIMIT, _in_cluster(key))
    return render_template(
        "console/network.html",
        org=org,
        picture=people_picture([(cluster, people)]) if people else None,
        clusters=[],
        people=people,
        volunteers=volunteers,
        team=cluster,
    )
