/* flowexec console: shared helpers. Plain ES2017, no build step, no third-party code. */
"use strict";
(function () {
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const TERMINAL = new Set(["Succeed", "Failed", "Cancelled", "Timeout"]);

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  /* The API's times are the server's local wall clock without a zone: read them with its offset. */
  function serverTime(iso) {
    if (!iso) return null;
    const m = /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.(\d+))?/.exec(iso);
    if (!m) return Date.parse(iso);
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +((m[7] || "0") + "00").slice(0, 3));
    return ms - (+meta("server-offset") || 0) * 60000;
  }

  function fmtTime(ms) {
    return ms == null ? "—" : new Date(ms).toLocaleString(undefined, {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function fmtTimes(root) {
    (root || document).querySelectorAll("time[data-ms]").forEach((el) => {
      const ms = +el.dataset.ms;
      el.textContent = fmtTime(ms);
      el.dateTime = new Date(ms).toISOString();
    });
  }

  function fmtSeconds(s) {
    if (s == null) return "—";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
  }

  function stateChip(state) {
    return `<span class="state s-${esc(state)}"><i aria-hidden="true"></i>${esc(state)}</span>`;
  }

  /* Call the REST API as the signed-in user (session cookie, CSRF header on changes). */
  async function api(method, url, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = meta("csrf-token");
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
    let reply = null;
    try { reply = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok || !reply || reply.status !== 0) {
      if (response.status === 401) location.href = "/login?next=" + encodeURIComponent(location.pathname);
      throw new Error((reply && reply.message) || `${response.status} ${response.statusText}`);
    }
    return reply.data;
  }

  function confirmAction(text, okLabel) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = okLabel || "Confirm";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      document.getElementById("confirm-cancel").focus();
    });
  }

  let toastTimer = 0;
  function toast(text) {
    const el = document.getElementById("toast");
    el.textContent = text;
    el.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
  }

  /* A server-rendered table body that refreshes itself while the box "Live" is ticked. */
  function liveTables() {
    document.querySelectorAll("tbody[data-refresh]").forEach((body) => {
      const box = document.getElementById("live");
      setInterval(async () => {
        if ((box && !box.checked) || document.hidden) return;
        try {
          const response = await fetch(body.dataset.refresh, { credentials: "same-origin" });
          if (!response.ok) return;
          body.innerHTML = await response.text();
          fmtTimes(body);
        } catch (e) { /* next tick */ }
      }, 2000);
    });
  }

  window.fx = { esc, api, serverTime, fmtTime, fmtTimes, fmtSeconds, stateChip, confirmAction, toast, TERMINAL };
  document.addEventListener("DOMContentLoaded", () => { fmtTimes(document); liveTables(); });
})();
