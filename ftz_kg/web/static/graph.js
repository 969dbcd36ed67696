// The neighbourhood graph on an entity page (templates/graph.html): the entity and the entities it
// links to or is linked from; "Expand" adds a node's own neighbourhood (/neighbourhood?iri=…&lang=…).
// Nodes once placed never move: new ones go around the node they were found from, each at the
// nearest spot where neither it nor its label touches another node or label. Beside the drawing, a
// list of the same nodes (links and expand buttons) serves keyboard and screen-reader users.
(function () {
  "use strict";
  const box = document.getElementById("graph");
  const figure = document.getElementById("graph-figure");
  if (!box || !figure || typeof cytoscape === "undefined") return;
  document.getElementById("graph-section").hidden = false;
  const text = figure.dataset;
  const lang = text.lang || "zh";
  const list = document.getElementById("graph-list");
  const legend = figure.querySelector(".graph-legend");
  const status = figure.querySelector(".graph-status");
  const chosen = figure.querySelector(".graph-chosen");
  const none = figure.querySelector(".graph-none");
  const zoomButton = figure.querySelector(".graph-zoom");

  // Okabe–Ito colours (told apart by colour-blind readers too) and a shape per family of types, so
  // that colour is never the only clue; a dark outline keeps the light colours visible on white.
  const FAMILIES = {
    zone: ["#0072B2", "ellipse"], place: ["#56B4E9", "hexagon"], measure: ["#D55E00", "diamond"],
    concept: ["#009E73", "round-rectangle"], organisation: ["#E69F00", "triangle"],
    document: ["#CC79A7", "rectangle"], source: ["#F0E442", "pentagon"], data: ["#000000", "star"],
    other: ["#BBBBBB", "octagon"],
  };
  const ORDER = Object.keys(FAMILIES);
  const INK = "#1f2328", ACCENT = "#1a4d8f";
  const SIZE = 18, ROOT_SIZE = 26;
  const GAP = 8;            // the least distance between two nodes' boxes (node and label)
  const STEP = 12;          // distance between candidate spots when placing a node
  const READABLE_ZOOM = 0.8; // a view chosen for the reader never shrinks 13 px labels below ~10 px
  const MAX_ZOOM = 1.4;
  const LABEL_WIDTH = 150;  // px; a label takes at most two such lines, the full name is in the list
  const familyStyle = family => FAMILIES[family] || FAMILIES.other;

  // A name cut to about two lines of the label width (a Chinese character is about twice as wide as
  // a Latin letter at 13 px).
  function short(name) {
    const room = 2 * LABEL_WIDTH / 13 - 1.5;
    let used = 0;
    for (let i = 0; i < name.length; i++) {
      used += name.charCodeAt(i) > 0x2e80 ? 1 : 0.62;
      if (used > room) return name.slice(0, i) + "…";
    }
    return name;
  }

  const cy = cytoscape({
    container: box,
    minZoom: 0.15, maxZoom: 3,
    // the wheel and drags scroll the page until the reader turns zooming on (the zoom button)
    userZoomingEnabled: false, userPanningEnabled: false,
    boxSelectionEnabled: false, autoungrabify: true, selectionType: "single",
    style: [
      { selector: "node", style: {
        label: "data(short)", "font-size": 13, "font-family": getComputedStyle(document.body).fontFamily,
        color: INK, "text-valign": "bottom", "text-halign": "center", "text-margin-y": 3,
        "text-wrap": "wrap", "text-overflow-wrap": lang === "zh" ? "anywhere" : "whitespace", "text-max-width": LABEL_WIDTH,
        "text-background-color": "#fff", "text-background-opacity": 0.9, "text-background-padding": 1,
        width: SIZE, height: SIZE, "border-width": 1.5, "border-color": INK,
        "background-color": n => familyStyle(n.data("family"))[0], shape: n => familyStyle(n.data("family"))[1] } },
      { selector: "node.root", style: { width: ROOT_SIZE, height: ROOT_SIZE, "border-width": 3, "font-weight": "bold" } },
      { selector: "node:selected", style: {
        "background-color": n => familyStyle(n.data("family"))[0], "border-color": ACCENT, "border-width": 3,
        "underlay-color": ACCENT, "underlay-opacity": 0.3, "underlay-padding": 4, "underlay-shape": "ellipse" } },
      { selector: "node.lit", style: { "underlay-color": ACCENT, "underlay-opacity": 0.3, "underlay-padding": 4,
        "underlay-shape": "ellipse" } },
      { selector: "edge", style: {
        width: 1.2, "line-color": "#8a8a8a", "target-arrow-color": "#8a8a8a", "target-arrow-shape": "triangle",
        "arrow-scale": 0.8, "curve-style": "bezier" } },
      { selector: "edge.labelled", style: {
        label: "data(label)", "font-size": 11, color: INK, "text-rotation": "autorotate",
        "text-background-color": "#fff", "text-background-opacity": 1, "text-background-padding": 2,
        width: 2, "line-color": ACCENT, "target-arrow-color": ACCENT, "z-index": 10 } },
    ],
  });

  // Boxes of placed nodes (node and label, model coordinates), filed in grid cells for quick lookup.
  const CELL = 64;
  const cells = new Map();
  function eachCell(b, visit) {
    for (let i = Math.floor(b.x1 / CELL); i <= Math.floor(b.x2 / CELL); i++)
      for (let j = Math.floor(b.y1 / CELL); j <= Math.floor(b.y2 / CELL); j++)
        if (visit(i + "," + j) === false) return false;
    return true;
  }
  function occupy(b) {
    eachCell(b, key => { if (!cells.has(key)) cells.set(key, []); cells.get(key).push(b); });
  }
  function isFree(b) {
    return eachCell(b, key => (cells.get(key) || []).every(o =>
      b.x2 <= o.x1 || o.x2 <= b.x1 || b.y2 <= o.y1 || o.y2 <= b.y1));
  }
  // a node's box with its label, relative to its position, with half the gap on each side
  function extent(node) {
    const p = node.position();
    const b = node.boundingBox({ includeLabels: true, includeOverlays: false, includeUnderlays: false });
    return { x1: b.x1 - p.x - GAP / 2, x2: b.x2 - p.x + GAP / 2, y1: b.y1 - p.y - GAP / 2, y2: b.y2 - p.y + GAP / 2 };
  }
  const at = (e, x, y) => ({ x1: e.x1 + x, x2: e.x2 + x, y1: e.y1 + y, y2: e.y2 + y });

  // Place new nodes around `centre`, nearest free spots first, on rings shaped like the drawing area
  // (wide on a desktop, tall on a phone) and starting on the side facing away from the rest.
  function place(nodes, centre) {
    const c = centre.position();
    const aspect = Math.sqrt(Math.max(box.clientWidth, 1) / Math.max(box.clientHeight, 1));
    const others = cy.nodes().difference(nodes).difference(centre);
    let outward = 0;
    if (others.length) {
      const mid = others.reduce((s, n) => ({ x: s.x + n.position("x"), y: s.y + n.position("y") }), { x: 0, y: 0 });
      outward = Math.atan2(c.y - mid.y / others.length, c.x - mid.x / others.length);
    }
    nodes.forEach(node => {
      const e = extent(node);
      for (let ring = 1; ring < 4000; ring++) {
        const r = ring * STEP, slots = Math.max(8, Math.ceil(2 * Math.PI * r / STEP));
        for (let i = 0; i < slots; i++) {
          const angle = outward + (i % 2 ? 1 : -1) * Math.ceil(i / 2) * 2 * Math.PI / slots;
          const x = c.x + r * aspect * Math.cos(angle), y = c.y + r / aspect * Math.sin(angle);
          const b = at(e, x, y);
          if (isFree(b)) { node.position({ x: x, y: y }); occupy(b); return; }
        }
      }
    });
  }

  // Shows what is placed: most of it when that stays readable, else the newly added part.
  function view(focus) {
    cy.fit(cy.nodes(), 16);
    if (cy.zoom() > MAX_ZOOM) { cy.zoom(MAX_ZOOM); cy.center(cy.nodes()); }
    if (cy.zoom() < READABLE_ZOOM) { cy.zoom(READABLE_ZOOM); cy.center(focus); }
  }

  // Legend swatches and list markers: the node's shape and colour, drawn in SVG.
  const SVG = "http://www.w3.org/2000/svg";
  function polygon(corners, rotation, inner) {
    const points = [];
    const n = inner ? corners * 2 : corners;
    for (let i = 0; i < n; i++) {
      const r = inner && i % 2 ? inner : 6.8, a = rotation + i * 2 * Math.PI / n;
      points.push((8 + r * Math.cos(a)).toFixed(2) + "," + (8 + r * Math.sin(a)).toFixed(2));
    }
    return points.join(" ");
  }
  function swatch(family) {
    const [colour, shape] = familyStyle(family);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    let mark;
    if (shape === "ellipse") {
      mark = document.createElementNS(SVG, "circle");
      mark.setAttribute("cx", 8); mark.setAttribute("cy", 8); mark.setAttribute("r", 6.5);
    } else if (shape === "rectangle" || shape === "round-rectangle") {
      mark = document.createElementNS(SVG, "rect");
      for (const [k, v] of [["x", 1.5], ["y", 1.5], ["width", 13], ["height", 13]]) mark.setAttribute(k, v);
      if (shape === "round-rectangle") mark.setAttribute("rx", 3);
    } else {
      const corners = { hexagon: [6, 0], diamond: [4, -Math.PI / 2], triangle: [3, -Math.PI / 2],
        pentagon: [5, -Math.PI / 2], octagon: [8, Math.PI / 8], star: [5, -Math.PI / 2, 2.9] }[shape];
      mark = document.createElementNS(SVG, "polygon");
      mark.setAttribute("points", polygon(corners[0], corners[1], corners[2]));
    }
    mark.setAttribute("fill", colour);
    mark.setAttribute("stroke", INK);
    mark.setAttribute("stroke-width", "1.2");
    svg.appendChild(mark);
    const span = document.createElement("span");
    span.className = "graph-swatch";
    span.appendChild(svg);
    return span;
  }

  function updateLegend() {
    const types = new Map(ORDER.map(f => [f, []]));
    cy.nodes().forEach(n => {
      const family = ORDER.includes(n.data("family")) ? n.data("family") : "other";
      if (!types.get(family).includes(n.data("typeLabel"))) types.get(family).push(n.data("typeLabel"));
    });
    legend.replaceChildren();
    types.forEach((labels, family) => {
      if (!labels.length) return;
      const item = document.createElement("li");
      item.dataset.family = family;
      item.append(swatch(family), labels.join(lang === "zh" ? "、" : ", "));
      legend.appendChild(item);
    });
  }

  // An expand button names its node to screen readers ("Expand: Sichuan Province") in hidden text,
  // so that its visible word stays part of its accessible name.
  function expandButton(node, extraClass) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "graph-expand" + (extraClass ? " " + extraClass : "");
    setExpandButton(button, node);
    return button;
  }
  function setExpandButton(button, node) {
    const done = expanded.has(node.id());
    button.dataset.iri = node.id();
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = (lang === "zh" ? "：" : ": ") + node.data("label");
    button.replaceChildren(done ? text.expanded : text.expand, hidden);
    if (done) button.setAttribute("aria-disabled", "true"); else button.removeAttribute("aria-disabled");
  }

  const items = new Map();   // node id → its <li> in the list
  function listItem(node, parent) {
    const item = document.createElement("li");
    item.dataset.iri = node.id();
    const row = document.createElement("div");
    row.className = "graph-item";
    const link = document.createElement("a");
    link.href = node.data("href");
    link.textContent = node.data("label");
    const type = document.createElement("span");
    type.className = "graph-type";
    type.textContent = node.data("typeLabel");
    row.append(swatch(node.data("family")), link, type);
    if (parent) {
      const relation = document.createElement("span");
      relation.className = "graph-rel";
      relation.textContent = node.edgesWith(parent).map(e =>
        (e.source().same(parent) ? "← " : "→ ") + e.data("label")).join(lang === "zh" ? "；" : "; ");
      row.appendChild(relation);
    }
    row.appendChild(expandButton(node));
    item.appendChild(row);
    items.set(node.id(), item);
    return item;
  }
  function addToList(nodes, parent) {
    if (!parent) { nodes.forEach(n => list.appendChild(listItem(n, null))); return; }
    const under = items.get(parent.id());
    const sub = document.createElement("ul");
    nodes.forEach(n => sub.appendChild(listItem(n, parent)));
    if (sub.children.length) under.appendChild(sub);
  }

  // Edge labels show for the edges of the node under the pointer, the selected node and the node
  // whose list entry has the keyboard focus, and for the edge under the pointer.
  let hoverNode = null, hoverEdge = null, focusNode = null;
  function refreshHighlights() {
    cy.batch(() => {
      cy.elements(".labelled").removeClass("labelled");
      cy.nodes(".lit").removeClass("lit");
      let lit = cy.collection();
      for (const n of [hoverNode, focusNode]) if (n && n.inside()) lit = lit.union(n);
      lit.addClass("lit");
      let edges = lit.union(cy.nodes(":selected")).connectedEdges();
      if (hoverEdge && hoverEdge.inside()) edges = edges.union(hoverEdge);
      edges.addClass("labelled");
    });
  }
  cy.on("mouseover", "node", e => { hoverNode = e.target; box.style.cursor = "pointer"; refreshHighlights(); });
  cy.on("mouseout", "node", () => { hoverNode = null; box.style.cursor = ""; refreshHighlights(); });
  cy.on("mouseover", "edge", e => { hoverEdge = e.target; refreshHighlights(); });
  cy.on("mouseout", "edge", () => { hoverEdge = null; refreshHighlights(); });
  // leaving the drawing fast gives Cytoscape.js no mouseout on the node last under the pointer
  box.addEventListener("mouseleave", () => { hoverNode = hoverEdge = null; box.style.cursor = ""; refreshHighlights(); });
  function listFocus(event) {
    const item = event.target.closest && event.target.closest("li[data-iri]");
    focusNode = item ? cy.getElementById(item.dataset.iri) : null;
    refreshHighlights();
  }
  list.addEventListener("focusin", listFocus);
  list.addEventListener("focusout", () => { focusNode = null; refreshHighlights(); });

  // The selected node: its name, type, an expand button and a link to its page.
  function showChosen() {
    const node = cy.nodes(":selected").first();
    refreshHighlights();
    none.hidden = !node.empty();
    chosen.hidden = node.empty();
    if (node.empty()) return;
    chosen.querySelector(".graph-swatch").replaceWith(swatch(node.data("family")));
    chosen.querySelector(".graph-chosen-name").textContent = node.data("label");
    chosen.querySelector(".graph-type").textContent = node.data("typeLabel");
    setExpandButton(chosen.querySelector(".graph-chosen-expand"), node);
    chosen.querySelector(".graph-chosen-open").href = node.data("href");
  }
  cy.on("select unselect", "node", showChosen);

  figure.addEventListener("click", event => {
    const button = event.target.closest("button.graph-expand");
    if (button && button.getAttribute("aria-disabled") !== "true") expand(button.dataset.iri);
  });
  figure.querySelector(".graph-fit").addEventListener("click", () => {
    cy.fit(cy.nodes(), 16);
    if (cy.zoom() > MAX_ZOOM) { cy.zoom(MAX_ZOOM); cy.center(cy.nodes()); }
  });
  zoomButton.addEventListener("click", () => {
    const on = zoomButton.getAttribute("aria-pressed") !== "true";
    zoomButton.setAttribute("aria-pressed", String(on));
    cy.userZoomingEnabled(on);
    cy.userPanningEnabled(on);
  });

  const expanded = new Set(), pending = new Map();
  function expand(iri) {
    if (expanded.has(iri)) return Promise.resolve();
    if (pending.has(iri)) return pending.get(iri);
    status.textContent = text.loading;
    const done = fetch("/neighbourhood?lang=" + encodeURIComponent(lang) + "&iri=" + encodeURIComponent(iri))
      .then(response => { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(elements => {
        expanded.add(iri);
        const nodes = elements.filter(e => !e.data.source), edges = elements.filter(e => e.data.source);
        nodes.forEach(e => { e.data.short = short(e.data.label); });
        let centre = cy.getElementById(iri), isRoot = false;
        if (centre.empty()) {           // the page's own entity, the first time
          const own = nodes.find(e => e.data.id === iri);
          centre = cy.add({ group: "nodes", data: own.data, position: { x: 0, y: 0 }, classes: "root" });
          occupy(at(extent(centre), 0, 0));
          isRoot = true;
        }
        const p = centre.position();
        const fresh = nodes.filter(e => cy.getElementById(e.data.id).empty())
          .sort((a, b) => ORDER.indexOf(a.data.family) - ORDER.indexOf(b.data.family) ||
            a.data.label.localeCompare(b.data.label, lang));
        const added = cy.add(fresh.map(e => ({ group: "nodes", data: e.data, position: { x: p.x, y: p.y } })));
        place(added, centre);
        cy.add(edges.filter(e => cy.getElementById(e.data.id).empty()));
        if (isRoot) addToList(centre, null);
        addToList(added, centre);
        figure.querySelectorAll("button.graph-expand[data-iri]").forEach(b => {
          if (b.dataset.iri === iri) setExpandButton(b, centre);
        });
        updateLegend();
        view(added.union(centre));
        box.dataset.nodes = cy.nodes().length;
        status.textContent = text.added.replace("%d", added.length).replace("%n", cy.nodes().length);
      })
      .catch(() => { status.textContent = text.error; })
      .finally(() => pending.delete(iri));
    pending.set(iri, done);
    return done;
  }

  window.ftzGraph = { cy: cy, expand: expand };
  expand(box.dataset.iri);
})();
