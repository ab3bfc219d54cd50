/* flowexec console: a flow graph in SVG, laid out by longest path, with zoom and pan.
   Built as one string (fast at thousands of nodes); states change by class, without a redraw. */
"use strict";
(function () {
  const W = 168, H = 40, GX = 56, GY = 12, NS = "http://www.w3.org/2000/svg";
  const esc = (v) => window.fx.esc(v);

  function layout(nodes) {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const indeg = new Map(nodes.map((n) => [n.id, 0]));
    const parents = new Map(nodes.map((n) => [n.id, []]));
    nodes.forEach((n) => (n.children || []).forEach((c) => {
      if (byId.has(c)) { indeg.set(c, indeg.get(c) + 1); parents.get(c).push(n.id); }
    }));
    const layer = new Map(), queue = nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
    queue.forEach((id) => layer.set(id, 0));
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i];
      (byId.get(id).children || []).forEach((c) => {
        if (!byId.has(c)) return;
        layer.set(c, Math.max(layer.get(c) || 0, layer.get(id) + 1));
        indeg.set(c, indeg.get(c) - 1);
        if (indeg.get(c) === 0) queue.push(c);
      });
    }
    nodes.forEach((n) => { if (!layer.has(n.id)) layer.set(n.id, 0); });
    const columns = [];
    nodes.forEach((n) => { const l = layer.get(n.id); (columns[l] = columns[l] || []).push(n.id); });
    const row = new Map();
    columns.forEach((column) => {
      const weight = (id) => {
        const ps = parents.get(id).filter((p) => row.has(p));
        return ps.length ? ps.reduce((s, p) => s + row.get(p), 0) / ps.length : 0;
      };
      column.sort((a, b) => weight(a) - weight(b)).forEach((id, i) => row.set(id, i));
    });
    const tallest = Math.max(1, ...columns.map((c) => c.length));
    const pos = new Map();
    columns.forEach((column, l) => {
      const offset = ((tallest - column.length) * (H + GY)) / 2;
      column.forEach((id, i) => pos.set(id, { x: l * (W + GX), y: offset + i * (H + GY) }));
    });
    return { pos, width: columns.length * (W + GX) - GX, height: tallest * (H + GY) - GY };
  }

  function clip(text, n) { text = String(text || ""); return text.length > n ? text.slice(0, n - 1) + "…" : text; }

  class Dag {
    constructor(container, nodes, options) {
      this.container = container;
      this.options = options || {};
      this.elements = new Map();
      this.picked = new Set();
      this.draw(nodes);
      this.bind();
      this.fit();
    }

    draw(nodes) {
      const { pos, width, height } = layout(nodes);
      this.size = { width: Math.max(width, 1), height: Math.max(height, 1) };
      const focusable = nodes.length <= 300 ? "0" : "-1";
      const edges = [], boxes = [];
      nodes.forEach((n) => {
        const p = pos.get(n.id);
        (n.children || []).forEach((c) => {
          const q = pos.get(c);
          if (!q) return;
          const x1 = p.x + W, y1 = p.y + H / 2, x2 = q.x, y2 = q.y + H / 2, mx = (x1 + x2) / 2;
          edges.push(`M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
        });
        const state = n.status || "none";
        boxes.push(`<g class="node s-${esc(state)}" data-id="${esc(n.id)}" transform="translate(${p.x},${p.y})" tabindex="${focusable}" role="button" aria-label="${esc(n.title || n.id)}: ${esc(state)}">` +
          `<title>${esc(n.id)}</title><rect width="${W}" height="${H}"></rect><rect class="bar" width="6" height="${H}" rx="3"></rect>` +
          `<text x="12" y="16">${esc(clip(n.title || n.id, 22))}</text><text class="st" x="12" y="31">${n.status ? esc(state) : esc(clip(n.jobType || "", 26))}</text></g>`);
      });
      this.container.innerHTML = `<svg xmlns="${NS}" role="img" aria-label="flow graph of ${nodes.length} nodes"><g class="viewport">` +
        `<path class="edge" d="${edges.join("")}"></path><g class="nodes">${boxes.join("")}</g></g></svg>`;
      this.svg = this.container.firstChild;
      this.viewport = this.svg.firstChild;
      this.svg.querySelectorAll("g.node").forEach((el) => this.elements.set(el.dataset.id, el));
    }

    /* New states: only classes and labels change. */
    update(nodes) {
      nodes.forEach((n) => {
        const el = this.elements.get(n.id);
        if (!el || el.dataset.state === n.status) return;
        el.dataset.state = n.status;
        el.setAttribute("class", `node s-${n.status}${this.picked.has(n.id) ? " picked" : ""}`);
        el.setAttribute("aria-label", `${n.title || n.id}: ${n.status}`);
        el.querySelector("text.st").textContent = n.status;
      });
    }

    pick(ids) {
      this.picked = new Set(ids);
      this.elements.forEach((el, id) => el.classList.toggle("picked", this.picked.has(id)));
    }

    focusNode(id) {
      const el = this.elements.get(id);
      if (!el) return;
      const box = el.transform.baseVal.consolidate().matrix;
      const rect = this.svg.getBoundingClientRect();
      this.k = Math.max(this.k, 0.8);
      this.tx = rect.width / 2 - (box.e + W / 2) * this.k;
      this.ty = rect.height / 2 - (box.f + H / 2) * this.k;
      this.apply();
    }

    apply() {
      this.viewport.setAttribute("transform", `translate(${this.tx},${this.ty}) scale(${this.k})`);
      this.svg.classList.toggle("far", this.k < 0.45); // labels too small to read: not drawn
    }

    fit() {
      const rect = this.container.getBoundingClientRect();
      const w = rect.width || 800, h = rect.height || 400;
      this.k = Math.min(1.2, Math.max(0.02, Math.min((w - 20) / this.size.width, (h - 20) / this.size.height)));
      this.tx = (w - this.size.width * this.k) / 2;
      this.ty = (h - this.size.height * this.k) / 2;
      this.apply();
    }

    zoom(factor, cx, cy) {
      const rect = this.svg.getBoundingClientRect();
      const x = cx == null ? rect.width / 2 : cx, y = cy == null ? rect.height / 2 : cy;
      const k = Math.min(4, Math.max(0.02, this.k * factor));
      this.tx = x - ((x - this.tx) * k) / this.k;
      this.ty = y - ((y - this.ty) * k) / this.k;
      this.k = k;
      this.apply();
    }

    bind() {
      let drag = null;
      this.svg.addEventListener("wheel", (e) => {
        e.preventDefault();
        const rect = this.svg.getBoundingClientRect();
        this.zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - rect.left, e.clientY - rect.top);
      }, { passive: false });
      this.svg.addEventListener("pointerdown", (e) => {
        drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, moved: false };
      });
      this.svg.addEventListener("pointermove", (e) => {
        if (!drag) return;
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
        if (!drag.moved) this.svg.setPointerCapture(e.pointerId);
        drag.moved = true;
        this.tx = drag.tx + dx; this.ty = drag.ty + dy; this.apply();
      });
      this.svg.addEventListener("pointerup", (e) => {
        const moved = drag && drag.moved;
        drag = null;
        if (moved) return;
        const node = e.target.closest && e.target.closest("g.node");
        if (node && this.options.onSelect) this.options.onSelect(node.dataset.id);
      });
      this.container.addEventListener("keydown", (e) => {
        const node = e.target.closest && e.target.closest("g.node");
        if (node && (e.key === "Enter" || e.key === " ")) {
          e.preventDefault();
          if (this.options.onSelect) this.options.onSelect(node.dataset.id);
          return;
        }
        const step = 60, moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
        if (moves[e.key]) { e.preventDefault(); this.tx += moves[e.key][0]; this.ty += moves[e.key][1]; this.apply(); }
        else if (e.key === "+" || e.key === "=") this.zoom(1.25);
        else if (e.key === "-") this.zoom(0.8);
        else if (e.key === "0") this.fit();
      });
      const bar = this.container.parentElement.querySelector(".toolbar");
      if (bar) bar.addEventListener("click", (e) => {
        const which = e.target.dataset && e.target.dataset.zoom;
        if (which === "in") this.zoom(1.25);
        else if (which === "out") this.zoom(0.8);
        else if (which === "fit") this.fit();
      });
    }
  }

  window.FxDag = Dag;
})();
