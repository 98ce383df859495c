"""Plan.to_html(): the same self-contained review page `teamsync plan --report` writes."""

from __future__ import annotations

import teamsync
from teamsync_test_support import Active, directory, group, managed, plan_ok, team, user


def test_to_html_is_one_escaped_self_contained_page() -> None:
    hostile = "<script>alert('x')</script>\"&"
    d = directory(
        [user("u1", "ann@corp.test", "Ann", "Lee")],
        [group("g1", hostile, ["u1"])],
        ["u1", "g1"],
    )
    a = team([managed("dbmid:1", "gone", "gone@corp.test", "Gone", "Away", Active)], [])
    plan = plan_ok(d, a)
    page = plan.to_html(title="Nightly sync")
    assert page.startswith("<!DOCTYPE html>")
    assert "<h1>Nightly sync</h1>" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;" in page
    assert f'id="count-total">{len(plan)}<' in page
    assert "gone@corp.test" in page and "devices wiped" in page
    assert "default-src 'none'" in page
    assert isinstance(teamsync.Plan.to_html, object)
