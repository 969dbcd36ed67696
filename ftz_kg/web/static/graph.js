// The neighbourhood graph on an entity page: the entity and what it links to; clicking a node
// adds that node's own neighbourhood. Data comes from /neighbourhood?iri=… on this server.
(function () {
  const box = document.getElementById("graph");
  if (!box || typeof cytoscape === "undefined") return;
  const lang = document.documentElement.lang || "zh";
  const cy = cytoscape({
    container: box,
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 9, "background-color": "#4a7ab5", width: 14, height: 14 } },
      { selector: "node.focus", style: { "background-color": "#c0392b", width: 20, height: 20 } },
      { selector: "edge", style: { width: 1, "line-color": "#bbb", "target-arrow-shape": "triangle", "curve-style": "bezier" } },
    ],
  });
  const seen = new Set();
  function expand(iri) {
    if (seen.has(iri)) return Promise.resolve();
    seen.add(iri);
    return fetch("/neighbourhood?lang=" + lang + "&iri=" + encodeURIComponent(iri))
      .then(r => r.json())
      .then(elements => {
        cy.add(elements.filter(e => cy.getElementById(e.data.id).empty()));
        cy.layout({ name: "cose", animate: false }).run();
        box.dataset.nodes = cy.nodes().length;
      });
  }
  cy.on("tap", "node", evt => expand(evt.target.id()));
  cy.on("dbltap", "node", evt => { window.location = evt.target.data("href"); });
  window.ftzGraph = { cy: cy, expand: expand };
  expand(box.dataset.iri).then(() => cy.getElementById(box.dataset.iri).addClass("focus"));
})();
