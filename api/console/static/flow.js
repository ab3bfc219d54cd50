/* flowexec console: a flow's graph, its run form (DSS's execute through the REST API). */
"use strict";
(function () {
  const fx = window.fx;

  function variables(text) {
    const out = {};
    text.split("\n").map((l) => l.trim()).filter(Boolean).forEach((line) => {
      const at = line.indexOf("=");
      if (at < 1) throw new Error(`variables: expected name=value, got "${line}"`);
      out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    });
    return out;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("run-form");
    const input = document.getElementById("run-nodes");
    const nodes = JSON.parse(document.getElementById("flow-nodes").textContent);
    const strategy = () => form.querySelector("input[name=strategy]:checked").value;
    const picked = () => input.value.split(",").map((s) => s.trim()).filter(Boolean);
    const dag = new window.FxDag(document.getElementById("dag"), nodes, {
      onSelect(id) {
        let ids = picked();
        if (strategy() === "execute") form.querySelector("input[value=selectedExecute]").checked = true;
        if (strategy() === "selectedExecute") ids = ids.includes(id) ? ids.filter((x) => x !== id) : ids.concat(id);
        else ids = [id];
        input.value = ids.join(",");
        dag.pick(ids);
      },
    });
    input.addEventListener("input", () => dag.pick(picked()));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const message = document.getElementById("run-message");
      const button = document.getElementById("run-submit");
      const body = {
        executionCode: JSON.stringify({ flowId: +form.dataset.flow, version: form.dataset.version }),
        params: {}, labels: { route: "dev" }, source: {},
        failurePolicy: document.getElementById("run-policy").value,
      };
      try {
        const vars = variables(document.getElementById("run-variables").value);
        if (Object.keys(vars).length) body.params.variable = vars;
        const which = strategy();
        if (which !== "execute" && !picked().length) throw new Error("pick at least one node on the graph");
        if (which === "selectedExecute") { body.isSelectedExecute = true; body.nodeID = picked().join(","); }
        if (which === "fromNode" || which === "toNode") { body.params.executeStrategy = which; body.params.nodeID = picked()[0]; }
        button.disabled = true;
        const data = await fx.api("POST", form.dataset.entrance, body);
        message.textContent = `Started ${data.execID}`;
        location.href = form.dataset.detail.replace(/0$/, String(data.taskID));
      } catch (err) {
        message.textContent = err.message;
        message.className = "error";
        button.disabled = false;
      }
    });
  });
})();
