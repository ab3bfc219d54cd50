/* flowexec console: one execution, live. Reads GET /api/v1/executions/<id>; acts through the
   same REST routes as every client (kill, node kill, DSS execute with isReExecute or fromNode). */
"use strict";
(function () {
  const fx = window.fx, esc = fx.esc;
  const STATES = ["Pending", "Queued", "Submitting", "Running", "Succeed", "Failed", "Cancelled", "Timeout", "Skipped"];
  const NODE_DONE = new Set(["Succeed", "Failed", "Cancelled", "Timeout", "Skipped"]);
  const LOG_PAGE = 500, POLL_MS = 1000;
  let root, detail = null, dag = null, rows = new Map(), current = null, log = { next: 1, timer: 0 };

  async function load() {
    detail = await fx.api("GET", root.dataset.api);
    if (!dag) firstDraw(); else refresh();
    if (!fx.TERMINAL.has(detail.status) || (current && !NODE_DONE.has(nodeOf(current).status))) setTimeout(tick, POLL_MS);
    else setTimeout(tick, POLL_MS * 5);
  }
  function tick() { if (!document.hidden) load().catch((e) => fx.toast(e.message)); else setTimeout(tick, POLL_MS); }
  function nodeOf(id) { return detail.nodes.find((n) => n.id === id); }

  function firstDraw() {
    const started = performance.now();
    const edges = JSON.parse(document.getElementById("flow-edges").textContent || "{}");
    const drawn = detail.nodes.map((n) => Object.assign({}, n, { children: edges[n.id] || n.children }));
    dag = new window.FxDag(document.getElementById("dag"), drawn, { onSelect: openNode });
    const body = document.querySelector("#node-table tbody");
    body.innerHTML = detail.nodes.map((n) => `<tr data-id="${esc(n.id)}">` +
      `<td><button class="link" data-open="${esc(n.id)}">${esc(n.title || n.id)}</button> <span class="muted mono">${esc(n.id)}</span></td>` +
      "<td></td><td></td><td></td><td class=\"mono\"></td><td></td></tr>").join("");
    body.querySelectorAll("tr").forEach((tr) => rows.set(tr.dataset.id, tr));
    body.addEventListener("click", (e) => { if (e.target.dataset.open) openNode(e.target.dataset.open); });
    document.getElementById("legend").innerHTML = STATES.map(fx.stateChip).join("");
    refresh();
    const ms = performance.now() - started;
    document.getElementById("dag-info").textContent = `${detail.nodes.length} nodes`;
    root.dataset.renderMs = ms.toFixed(0);
    root.dataset.ready = "1";
  }

  function refresh() {
    dag.update(detail.nodes);
    detail.nodes.forEach((n) => {
      const tr = rows.get(n.id);
      if (!tr || tr.dataset.sig === sig(n)) return;
      tr.dataset.sig = sig(n);
      tr.dataset.state = n.status;
      const cells = tr.children;
      cells[1].innerHTML = fx.stateChip(n.status);
      cells[2].textContent = n.attempt;
      cells[3].textContent = fx.fmtSeconds(n.durationSeconds);
      cells[4].textContent = n.linkisExecID ? `${n.linkisExecID} / ${n.linkisTaskID}` : "—";
      cells[5].textContent = n.error || "";
    });
    document.getElementById("run-state").innerHTML = fx.stateChip(detail.status);
    const settled = detail.nodes.filter((n) => NODE_DONE.has(n.status)).length;
    document.getElementById("progress-text").textContent = `${settled}/${detail.nodes.length} settled`;
    const err = document.getElementById("run-error");
    err.hidden = !detail.errDesc;
    err.textContent = detail.errDesc || "";
    document.getElementById("kill-execution").disabled = fx.TERMINAL.has(detail.status);
    drawGantt();
    if (current) facts();
  }
  function sig(n) { return [n.status, n.attempt, n.durationSeconds, n.linkisTaskID, n.error].join("|"); }

  function drawGantt() {
    const started = detail.nodes.filter((n) => n.startedAt).map((n) => ({
      n, a: fx.serverTime(n.startedAt), b: n.finishedAt ? fx.serverTime(n.finishedAt) : Date.now() }));
    const el = document.getElementById("gantt");
    if (!started.length) { el.innerHTML = '<p class="muted">No node has started yet.</p>'; return; }
    started.sort((x, y) => x.a - y.a);
    const t0 = started[0].a, t1 = Math.max(...started.map((s) => s.b)), span = Math.max(1, t1 - t0);
    const shown = started.slice(0, 400);
    el.innerHTML = `<div class="axis"><span>${fx.fmtTime(t0)}</span><span>${fx.fmtSeconds(span / 1000)}</span></div>` +
      shown.map((s) => `<div class="row" title="${esc(s.n.id)} · attempt ${s.n.attempt} · ${esc(s.n.status)}">` +
        `<span class="label">${esc(s.n.title || s.n.id)} <span class="muted">#${s.n.attempt}</span></span>` +
        `<span class="track"><span class="bar s-${esc(s.n.status)}" style="left:${((s.a - t0) / span) * 100}%;width:${((s.b - s.a) / span) * 100}%"></span></span></div>`).join("") +
      (started.length > shown.length ? `<p class="muted">… and ${started.length - shown.length} more</p>` : "");
  }

  function facts() {
    const n = nodeOf(current);
    const items = [["Id", n.id], ["State", fx.stateChip(n.status)], ["Job type", n.jobType], ["Attempt", n.attempt],
      ["Started", n.startedAt ? fx.fmtTime(fx.serverTime(n.startedAt)) : "—"], ["Duration", fx.fmtSeconds(n.durationSeconds)],
      ["Linkis", n.linkisExecID ? `${n.linkisExecID} / task ${n.linkisTaskID}` : "—"], ["Error", n.error || "—"]];
    document.getElementById("panel-facts").innerHTML = items.map(([k, v]) =>
      `<dt>${k}</dt><dd>${k === "State" ? v : esc(v)}</dd>`).join("");
    document.getElementById("kill-node").disabled = NODE_DONE.has(n.status) || fx.TERMINAL.has(detail.status);
  }

  function openNode(id) {
    current = id;
    const panel = document.getElementById("node-panel");
    panel.hidden = false;
    document.getElementById("panel-title").textContent = nodeOf(id).title || id;
    rows.forEach((tr, key) => tr.classList.toggle("current", key === id));
    dag.pick([id]);
    facts();
    const pre = document.getElementById("node-log");
    pre.textContent = "";
    delete pre.dataset.final;
    document.getElementById("node-results").innerHTML = '<p class="muted">No result sets.</p>';
    log = { next: 1, timer: log.timer, id };
    clearTimeout(log.timer);
    readLog();
    readResults();
    document.getElementById("panel-close").focus();
  }

  function nodeUrl(id, what) { return `${root.dataset.api}/nodes/${encodeURIComponent(id)}/${what}`; }

  async function readLog() {
    const id = current;
    if (!id) return;
    try {
      const page = await fx.api("GET", `${nodeUrl(id, "log")}?fromLine=${log.next}&size=${LOG_PAGE}`);
      if (id !== current) return;
      const pre = document.getElementById("node-log");
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      if (page.lines.length) pre.textContent += page.lines.join("\n") + "\n";
      if (!pre.textContent) pre.textContent = NODE_DONE.has(nodeOf(id).status) ? "(no log)" : "(waiting for the job's log…)";
      log.next = page.nextLine;
      const more = page.lines.length >= LOG_PAGE;
      document.getElementById("log-more").hidden = !more;
      const follow = document.getElementById("log-follow").checked;
      if (follow && atEnd) pre.scrollTop = pre.scrollHeight;
      if (follow && (more || !NODE_DONE.has(nodeOf(id).status))) log.timer = setTimeout(readLog, more ? 50 : POLL_MS);
      else if (!NODE_DONE.has(nodeOf(id).status)) log.timer = setTimeout(readLog, POLL_MS * 3);
      else if (!page.lines.length && !pre.dataset.final) { pre.dataset.final = "1"; log.timer = setTimeout(readLog, POLL_MS); }
    } catch (e) {
      document.getElementById("node-log").textContent = "Log unavailable: " + e.message;
    }
  }

  async function readResults() {
    const id = current, n = nodeOf(id);
    if (!NODE_DONE.has(n.status)) { setTimeout(() => { if (id === current) readResults(); }, POLL_MS * 2); return; }
    try {
      const data = await fx.api("GET", nodeUrl(id, "result"));
      if (id !== current || !data.resultSets.length) return;
      document.getElementById("node-results").innerHTML = data.resultSets.map((set) =>
        `<div class="results scroll"><table><caption class="muted mono">${esc(set.path)}</caption>` +
        `<thead><tr>${set.columns.map((c) => `<th>${esc(typeof c === "object" ? c.columnName || JSON.stringify(c) : c)}</th>`).join("")}</tr></thead>` +
        `<tbody>${set.rows.slice(0, 500).map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`).join("");
    } catch (e) {
      document.getElementById("node-results").innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
  }

  async function act(question, label, call, after) {
    if (!(await fx.confirmAction(question, label))) return;
    try { const data = await call(); fx.toast(after(data)); load().catch(() => {}); }
    catch (e) { fx.toast(e.message); }
  }

  function execute(extra) {
    return fx.api("POST", root.dataset.entrance, Object.assign({
      executionCode: JSON.stringify({ flowId: detail.flowId, version: detail.version }), params: {},
      labels: { route: "dev" }, source: detail.source || {} }, extra));
  }
  function goTo(data) { location.href = `/executions/${data.taskID}`; return `Started ${data.execID}`; }

  function bind() {
    const id = () => current;
    document.getElementById("kill-execution").addEventListener("click", () => act(
      `Kill execution ${detail.taskID}? Unstarted nodes are cancelled, running jobs killed.`, "Kill execution",
      () => fx.api("POST", `${root.dataset.api}/kill`), (d) => `Execution ${d.taskID}: ${d.status}`));
    document.getElementById("kill-node").addEventListener("click", () => act(
      `Kill node ${id()}? The failure policy decides what follows.`, "Kill node",
      () => fx.api("POST", nodeUrl(id(), "kill")), (d) => `Node ${d.nodeID} killed`));
    document.getElementById("rerun-failed").addEventListener("click", () => act(
      `Rerun the failed nodes of flow ${detail.flowId} ${detail.version}? A new execution starts.`, "Rerun failed",
      () => execute({ isReExecute: true }), goTo));
    document.getElementById("rerun-from").addEventListener("click", () => act(
      `Rerun from node ${id()} (it and everything after it)? A new execution starts.`, "Rerun from node",
      () => execute({ params: { executeStrategy: "fromNode", nodeID: id() } }), goTo));
    document.getElementById("panel-close").addEventListener("click", () => {
      current = null; clearTimeout(log.timer); document.getElementById("node-panel").hidden = true; dag.pick([]);
    });
    document.getElementById("log-more").addEventListener("click", readLog);
    document.getElementById("log-follow").addEventListener("change", (e) => { if (e.target.checked) readLog(); });
    document.getElementById("node-filter").addEventListener("input", (e) => {
      const q = e.target.value.trim().toLowerCase();
      detail.nodes.forEach((n) => {
        const hit = !q || `${n.id} ${n.title} ${n.status}`.toLowerCase().includes(q);
        rows.get(n.id).hidden = !hit;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    root = document.getElementById("execution");
    bind();
    load().catch((e) => fx.toast(e.message));
  });
})();
