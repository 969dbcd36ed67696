// The query UI: YASGUI over this endpoint, with every canned query as a ready example (the
// examples come as JSON in the page, so that the page needs no inline script).
(function () {
  const EXAMPLES = JSON.parse(document.getElementById("examples-data").textContent);
  const endpoint = new URL("sparql", document.baseURI).href;
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
  });
  function openExample(name) {
    const example = EXAMPLES.find(e => e.name === name);
    const tab = yasgui.addTab(true, { name: example.name });
    tab.setQuery(example.query);
    tab.show();
    tab.getYasqe().query();
  }
  document.querySelectorAll("[data-example]").forEach(b => b.addEventListener("click", () => openExample(b.dataset.example)));
})();
