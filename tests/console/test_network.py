"""The network page draws who brought whom in, team by team, with friends as counts: every
volunteer of a small organization, and a large one as team clusters, with the same few queries
and no more circles than the budget, whatever the size."""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select, update

from gateway.community import organization, seeding
from gateway.console.network import (
    CLUSTER_LIMIT,
    NO_TEAM,
    NODE_BUDGET,
    OTHER_TEAMS,
    PEOPLE_LIMIT,
    Cluster,
    Volunteer,
    clusters_from_counts,
    pack,
    people_picture,
    rings,
)
from gateway.extensions import db
from gateway.models import Friend, Organization, Person, Team, TeamMember
from tests.console.conftest import SignedIn

NOW = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass
class SmallOrg:
    people: dict[str, int]  # name -> person id
    teams: dict[str, int]  # name -> team id


@pytest.fixture
def small_org(console: object) -> SmallOrg:
    """Riverside (Ana, Ben, Cy), Hilltop (Dee, Eli), and Fay on no team. Ana brought in Ben and
    Dee, Ben brought in Cy, Dee brought in Fay. Ana listed three friends, Ben one."""
    org = organization.default()
    people = {name: _volunteer(org, name) for name in ("Ana", "Ben", "Cy", "Dee", "Eli", "Fay")}
    teams = {name: _team(org, name) for name in ("Riverside", "Hilltop")}
    for person, team in [
        ("Ana", "Riverside"),
        ("Ben", "Riverside"),
        ("Cy", "Riverside"),
        ("Dee", "Hilltop"),
        ("Eli", "Hilltop"),
    ]:
        db.session.add(TeamMember(team_id=teams[team], person_id=people[person]))
    for referrer, referred in [("Ana", "Ben"), ("Ana", "Dee"), ("Ben", "Cy"), ("Dee", "Fay")]:
        db.session.get_one(Person, people[referred]).referred_by_id = people[referrer]
    for person, count in [("Ana", 3), ("Ben", 1)]:
        for n in range(count):
            db.session.add(Friend(organization_id=org.id, volunteer_id=people[person], name=f"Friend {n}"))
    db.session.commit()
    return SmallOrg(people, teams)


def _volunteer(org: Organization, name: str) -> int:
    person = Person(organization_id=org.id, name=name, volunteer_since=NOW)
    db.session.add(person)
    db.session.flush()
    return person.id


def _team(org: Organization, name: str) -> int:
    team = Team(organization_id=org.id, name=name, join_code=name[:6].upper())
    db.session.add(team)
    db.session.flush()
    return team.id


def big_org(
    volunteers: int = 10_000, teams: int = 52, big_team: int = 812, no_team: int = 1_000
) -> list[int]:
    """Bulk-inserted: `volunteers` people, each after the first hundred brought in by an earlier
    one; the first team has `big_team` of them, the other teams share the rest but `no_team`;
    one volunteer in four listed three friends. Returns the team ids, the big team first."""
    org = organization.default()
    db.session.execute(
        insert(Team),
        [
            {"organization_id": org.id, "name": f"Team {n:02}", "join_code": f"BIG{n:03}"}
            for n in range(teams)
        ],
    )
    team_ids = db.session.scalars(
        select(Team.id).where(Team.join_code.startswith("BIG")).order_by(Team.id)
    ).all()
    first = db.session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0
    db.session.execute(
        insert(Person),
        [
            {"organization_id": org.id, "name": f"Volunteer {n}", "volunteer_since": NOW}
            for n in range(volunteers)
        ],
    )
    ids = db.session.scalars(select(Person.id).where(Person.id > first).order_by(Person.id)).all()
    db.session.execute(
        update(Person), [{"id": ids[n], "referred_by_id": ids[n // 3]} for n in range(100, volunteers)]
    )
    on_team = volunteers - no_team
    db.session.execute(
        insert(TeamMember),
        [
            {"team_id": team_ids[0] if n < big_team else team_ids[1 + n % (teams - 1)], "person_id": ids[n]}
            for n in range(on_team)
        ],
    )
    db.session.execute(
        insert(Friend),
        [
            {"organization_id": org.id, "volunteer_id": ids[n], "name": f"Friend {k}"}
            for n in range(0, volunteers, 4)
            for k in range(3)
        ],
    )
    db.session.commit()
    return list(team_ids)


def svg(page: str) -> ET.Element:
    match = re.search(r"<svg.*?</svg>", page, re.S)
    assert match, "no picture on the page"
    return ET.fromstring(match.group(0))  # noqa: S314 (the page under test, not untrusted input)


def person_links(picture: ET.Element) -> dict[str, str]:
    """href -> accessible name of every person drawn."""
    return {
        a.attrib["href"]: a.attrib["aria-label"]
        for a in picture.iter("a")
        if a.attrib["href"].startswith("/console/volunteers/")
    }


def edge_titles(picture: ET.Element) -> list[str]:
    edges = next(g for g in picture.iter("g") if g.attrib.get("class") == "net-edges")
    return sorted(path.findtext("title") or "" for path in edges.iter("path"))


def table(page: str, heading: str) -> dict[str, list[str]]:
    """A table after `heading`: the first cell's text -> the other cells' texts."""
    section = page.split(f"<h2>{heading}</h2>", 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


@contextmanager
def counted_queries() -> Iterator[list[tuple[str, Any]]]:
    """Each SQL statement run in the block, with its parameters."""
    statements: list[tuple[str, Any]] = []

    def count(*args: object) -> None:
        statements.append((str(args[2]), args[3]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def rows_handled(statements: list[tuple[str, Any]]) -> int:
    """The rows PostgreSQL's plans for these statements pass along, every node and every loop
    counted: how much work they are, whatever the machine's speed."""

    def rows(node: dict[str, Any]) -> int:
        return node["Actual Rows"] * node["Actual Loops"] + sum(
            rows(child) for child in node.get("Plans", [])
        )

    explain = "EXPLAIN (ANALYZE, FORMAT JSON) "
    plans = [
        db.session.connection().exec_driver_sql(explain + sql, params).scalar_one()
        for sql, params in statements
    ]
    return sum(rows(plan[0]["Plan"]) for plan in plans)


def get(browser: FlaskClient, path: str) -> tuple[str, int]:
    """The page, and how many SQL statements the request ran."""
    with counted_queries() as statements:
        response = browser.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True), len(statements)


def test_a_small_network_draws_every_volunteer_in_their_team(
    small_org: SmallOrg, signed_in: SignedIn
) -> None:
    page, _ = get(signed_in("viewer"), "/console/network")

    picture = svg(page)
    drawn = person_links(picture)
    assert set(drawn) == {f"/console/volunteers/{id}" for id in small_org.people.values()}
    ana = drawn[f"/console/volunteers/{small_org.people['Ana']}"]
    assert ana == "Ana: 3 friends listed; brought in 2 volunteers"
    assert drawn[f"/console/volunteers/{small_org.people['Cy']}"].endswith("brought in by Ben")
    assert edge_titles(picture) == [
        "Ana brought in Ben",
        "Ana brought in Dee",
        "Ben brought in Cy",
        "Dee brought in Fay",
    ]
    labels = next(g for g in picture.iter("g") if g.attrib.get("class") == "net-labels")
    assert {text.text for text in labels.iter("text")} == {"Riverside", "Hilltop", "No team"}
    opened = {
        a.attrib["href"]: a.attrib["aria-label"] for a in picture.iter("a") if "?team=" in a.attrib["href"]
    }
    assert opened[f"/console/network?team={small_org.teams['Hilltop']}"].startswith(
        "Open Hilltop: 2 volunteers"
    )
    assert set(opened) == {f"/console/network?team={id}" for id in [*small_org.teams.values(), "none"]}
    assert "All 6 volunteers" in page and "as clusters" not in page
    assert table(page, "Teams") == {
        # volunteers, friends listed, brought in within, from other teams, into other teams
        "Riverside": ["3", "4", "2", "0", "1"],
        "Hilltop": ["2", "0", "0", "1", "1"],
        "No team": ["1", "0", "0", "1", "0"],
    }
    assert table(page, "Volunteers")["Cy"] == ["Riverside", "0", "Ben", "0"]
    assert '<a href="/console/network">Network</a>' in page


def test_a_team_opened_points_outside_for_referrals_beyond_it(
    small_org: SmallOrg, signed_in: SignedIn
) -> None:
    browser = signed_in("viewer")

    page, _ = get(browser, f"/console/network?team={small_org.teams['Hilltop']}")
    picture = svg(page)
    assert {label.split(":")[0] for label in person_links(picture).values()} == {"Dee", "Eli"}
    assert edge_titles(picture) == [
        "Ana brought in Dee (not drawn here)",
        "Dee brought in 1 more volunteer, not drawn here",
    ]
    assert "All 2 volunteers of this team" in page

    page, _ = get(browser, "/console/network?team=none")
    assert {label.split(":")[0] for label in person_links(svg(page)).values()} == {"Fay"}
    assert table(page, "Volunteers") == {"Fay": ["0", "Dee", "0"]}


@pytest.mark.parametrize("team", ["abc", "-1", "0", "999999", "99999999999999999999999", "١"])
def test_an_unknown_team_is_not_found(small_org: SmallOrg, signed_in: SignedIn, team: str) -> None:
    assert signed_in("viewer").get(f"/console/network?team={team}").status_code == 404


def test_another_organizations_team_is_not_found(small_org: SmallOrg, signed_in: SignedIn) -> None:
    other = Organization(slug="westside", name="Westside")
    db.session.add(other)
    db.session.flush()
    theirs = _team(other, "Theirs")
    db.session.commit()
    assert signed_in("viewer").get(f"/console/network?team={theirs}").status_code == 404


def test_an_organization_with_no_volunteers_says_so(signed_in: SignedIn) -> None:
    page = signed_in("viewer").get("/console/network").get_data(as_text=True)
    assert "No volunteers yet" in page and "<svg" not in page


def test_ten_thousand_volunteers_are_drawn_as_teams_with_the_same_few_queries(
    small_org: SmallOrg, signed_in: SignedIn
) -> None:
    browser = signed_in("viewer")
    _, small_overview = get(browser, "/console/network")
    _, small_team = get(browser, f"/console/network?team={small_org.teams['Riverside']}")
    big_team = big_org()[0]

    page, big_overview = get(browser, "/console/network")
    assert big_overview == small_overview <= 8
    assert "Showing 54 teams of 10,006 volunteers as clusters; open a team to see its people." in page
    picture = svg(page)
    assert person_links(picture) == {}
    assert len(list(picture.iter("circle"))) == 55  # 54 teams and no team
    assert f"/console/network?team={big_team}" in {a.attrib["href"] for a in picture.iter("a")}
    assert table(page, "Teams")["Team 00"][:2] == ["812", "609"]

    page, big = get(browser, f"/console/network?team={big_team}")
    assert big == small_team <= 8
    assert "Showing 300 of 812 volunteers, the most connected" in page
    picture = svg(page)
    assert len(person_links(picture)) == PEOPLE_LIMIT
    assert len(list(picture.iter("circle"))) <= NODE_BUDGET
    assert len(table(page, "Volunteers")) == PEOPLE_LIMIT


def test_volunteers_just_imported_cost_a_few_rows_each(signed_in: SignedIn) -> None:
    """Just after a bulk import PostgreSQL has no statistics on the new rows. It then expected a
    handful of volunteers and compared each with every other's friend and referral counts: 1,400
    rows a volunteer, half a second for 2,000 (a seeded demo)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("how PostgreSQL plans without statistics")
    browser = signed_in("viewer")
    seeding.seed(organization.default(), 2_000, random.Random(1), NOW)
    db.session.commit()

    with counted_queries() as statements:
        assert browser.get("/console/network").status_code == 200

    assert rows_handled(statements) < 100 * 2_000


# The layout, as plain functions.


def test_packed_circles_do_not_overlap_and_land_the_same_every_time() -> None:
    radii = [60 - (n * 7) % 45 for n in range(61)]
    centres = pack(radii)
    assert centres == pack(radii)
    for i, (a, ra) in enumerate(zip(centres, radii, strict=True)):
        for b, rb in zip(centres[i + 1 :], radii[i + 1 :], strict=True):
            assert math.dist(a, b) >= ra + rb - 1e-6


def test_people_on_rings_keep_their_distance() -> None:
    places = rings(300, 24)
    assert len(set(places)) == 300
    closest = min(math.dist(a, b) for i, a in enumerate(places) for b in places[i + 1 :])
    assert closest >= 20


def test_a_picture_of_people_stays_within_the_budget_and_inside_their_teams() -> None:
    teams = [Cluster(key, f"Team {key}") for key in range(60)]
    people = [
        Volunteer(n, f"V{n}", n % 20, 0, n // 3 or None, None, n % 60) for n in range(1, PEOPLE_LIMIT + 1)
    ]
    picture = people_picture([(team, [p for p in people if p.team_id == team.key]) for team in teams])
    assert picture.circles <= NODE_BUDGET
    region = {r.cluster.key: r.at for r in picture.regions}
    for node in picture.nodes:
        team = region[node.person.team_id]
        assert math.dist((node.at.x, node.at.y), (team.x, team.y)) + node.at.r <= team.r
    assert people_picture([(teams[0], [])]).nodes == []


def test_beyond_the_cluster_limit_the_smallest_teams_are_drawn_as_one() -> None:
    teams = [(n, f"Team {n:03}") for n in range(1, 101)]
    totals = {n: (n, 2 * n) for n in range(1, 101)} | {None: (5, 0)}
    referrals = [(100, 1, 2), (1, 2, 3), (2, 2, 4), (None, 100, 1)]

    clusters, links = clusters_from_counts(teams, totals, referrals)

    assert len(clusters) == CLUSTER_LIMIT
    assert [c.key for c in clusters[:2]] == [100, 99] and {NO_TEAM, OTHER_TEAMS} <= {c.key for c in clusters}
    other = clusters[-1]
    assert (other.name, other.teams, other.volunteers) == ("42 smaller teams", 42, sum(range(1, 43)))
    assert (other.within, other.brought_in) == (7, 2)
    assert sorted(
        (link.source, link.target, link.count) for link in links if NO_TEAM in (link.source, link.target)
    ) == [(NO_TEAM, 100, 1)]
