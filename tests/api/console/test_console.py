"""The web console in headless Chromium, against the real app, worker and local gateway."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import execute
from tests.api.conftest import register
from tests.api.conftest import register_doc
from tests.api.conftest import slow_flow
from tests.api.conftest import wait_node
from tests.api.console.conftest import Console
from tests.api.console.conftest import screenshot
from tests.api.console.conftest import sign_in

pytestmark = pytest.mark.browser

SLOW, FAILING, LONG = 501, 502, 503


def node(page: Any, key: str) -> Any:
    return page.locator(f'#dag g.node[data-id="{key}"]')


def wait_state(page: Any, key: str, state: str, timeout: float = 30_000) -> None:
    page.wait_for_selector(f'#dag g.node[data-id="{key}"].s-{state}', timeout=timeout)


def confirm(page: Any) -> None:
    page.wait_for_selector("dialog#confirm[open]")
    page.click("#confirm-ok")


def test_sign_in_refuses_a_wrong_token(page: Any, console: Console) -> None:
    page.goto(f"{console.url}/executions")
    assert "/login" in page.url  # no session: sent to sign in
    page.fill("#user", "alice")
    page.fill("#token", "not-the-token")
    page.click("button[type=submit]")
    assert page.locator("p.error").inner_text() == "Unknown user name or token."
    cookie = [c for c in page.context.cookies() if c["name"] == "flowexec_session"]
    assert not cookie or "user" not in cookie[0]["value"]


def test_run_from_the_form_and_watch_nodes_change_colour(page: Any, console: Console) -> None:
    client = console.stack.app.test_client()
    register_doc(client, slow_flow(3), SLOW)
    sign_in(page, console)
    cookie = next(c for c in page.context.cookies() if c["name"] == "flowexec_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.goto(f"{console.url}/flows")
    page.click(f'#flows a[href="/flows/{SLOW}"]')
    page.wait_for_selector('#dag g.node[data-id="slow"]')
    page.click("#run-submit")
    page.wait_for_url(re.compile(r"/executions/\d+$"))
    page.wait_for_function("document.getElementById('execution').dataset.ready === '1'")
    page.evaluate("window.__sameDocument = true")
    wait_state(page, "slow", "Running")
    screenshot(page, "execution-running")
    wait_state(page, "last", "Succeed")
    wait_state(page, "first", "Succeed")
    assert page.evaluate("window.__sameDocument") is True  # coloured live, never reloaded
    page.wait_for_selector("#run-state .s-Succeed")
    assert page.locator('#node-table tr[data-id="slow"]').get_attribute("data-state") == "Succeed"
    assert page.locator("#gantt .row").count() == 3
    screenshot(page, "execution")


def test_failing_node_log_then_rerun_failed(page: Any, console: Console) -> None:
    client = console.stack.app.test_client()
    register(client, "failing.json", FAILING)
    _, task_id = execute(client, FAILING)
    sign_in(page, console)
    page.goto(f"{console.url}/executions/{task_id}")
    wait_state(page, "broken", "Failed")
    page.click('#node-table button[data-open="broken"]')
    page.wait_for_function(
        "document.getElementById('node-log').textContent.includes('ERROR table not found')"
    )
    assert page.locator("#panel-facts").inner_text().count("Failed") >= 1
    screenshot(page, "execution-failed-node")
    page.click("#rerun-failed")
    page.click("#confirm-cancel")  # each action is confirmed: cancel does nothing
    assert page.url.endswith(f"/executions/{task_id}")
    page.click("#rerun-failed")
    confirm(page)
    page.wait_for_url(re.compile(rf"/executions/(?!{task_id}$)\d+$"))
    assert "reExecute" in page.locator(".page-head").inner_text()
    wait_state(page, "broken", "Failed")  # the rerun runs the failed node again (and it fails again)
    assert page.locator('#dag g.node[data-id="start"]').get_attribute("class") != "node s-Running"


def test_kill_a_running_node(page: Any, console: Console) -> None:
    client = console.stack.app.test_client()
    register_doc(client, slow_flow(60), SLOW, version="v000002")
    _, task_id = execute(client, SLOW, version="v000002")
    wait_node(client, task_id, "slow", "Running")
    sign_in(page, console)
    page.goto(f"{console.url}/executions/{task_id}")
    wait_state(page, "slow", "Running")
    node(page, "slow").click()
    page.wait_for_selector("#node-panel:not([hidden])")
    page.click("#kill-node")
    confirm(page)
    wait_state(page, "slow", "Cancelled")
    page.wait_for_selector("#run-state .s-Cancelled, #run-state .s-Failed")
    assert page.locator('#node-table tr[data-id="last"]').get_attribute("data-state") != "Succeed"


def test_another_users_executions_are_refused(page: Any, console: Console) -> None:
    client = console.stack.app.test_client()
    _, task_id = execute(client, FAILING, user="alice")
    sign_in(page, console, user="bob")
    reply = page.goto(f"{console.url}/executions/{task_id}")
    assert reply is not None and reply.status == 403
    assert "may not access" in page.locator("#error-message").inner_text()
    reply = page.goto(f"{console.url}/executions?user=alice")
    assert reply is not None and reply.status == 403
    page.goto(f"{console.url}/executions")
    assert page.locator("#executions tbody tr[data-task]").count() == 0  # bob sees none of alice's
    # The browser's own REST calls are held to the same rules, and changes need the CSRF header.
    status = page.evaluate(f"fetch('/api/v1/executions/{task_id}').then(r => r.status)")
    assert status == 403
    forged = page.evaluate(
        f"fetch('/api/v1/executions/{task_id}/kill', {{method: 'POST'}}).then(r => r.status)"
    )
    assert forged == 403
    mine = page.evaluate("fx.api('GET', '/api/v1/executions').then(d => d.total)")
    assert mine == 0


def test_admin_sees_all_and_the_pages(page: Any, console: Console) -> None:
    from tests.api.conftest import ADMIN

    sign_in(page, console, user=ADMIN)
    page.goto(f"{console.url}/executions")
    rows = page.locator("#executions tbody tr[data-task]")
    assert rows.count() >= 4
    assert page.locator("#executions tbody time").first.get_attribute("datetime")  # formatted in JS
    screenshot(page, "executions")
    page.goto(f"{console.url}/flows")
    assert page.locator("#flows tbody tr").count() >= 2
    screenshot(page, "flows")
    page.goto(f"{console.url}/flows/{FAILING}")
    assert page.locator("#run-grid td.cell").count() >= 3
    assert page.locator("#run-grid td.s-Failed").count() >= 1
    screenshot(page, "flow")
    page.goto(f"{console.url}/operations")
    assert page.locator("#queues tbody tr").count() == 3
    assert page.locator("#workers tbody tr").count() >= 1
    assert page.locator('a[href="/metrics"]').count() == 1
    screenshot(page, "operations")
