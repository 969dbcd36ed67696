// The SPARQL page: YASGUI over this endpoint, in one tab. A canned example loads into that tab
// and runs there; prefixes, classes and properties complete from our own lists (no request to
// prefix.cc or LOV); result links to our IRIs stay on this server. The page's data comes as JSON
// (no inline script, as the content security policy requires).
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("query-data").textContent);
  const STRINGS = JSON.parse(document.getElementById("query-strings").textContent);
  const BASE = DATA.base;
  const endpoint = new URL("/sparql", document.baseURI).href;
  const Yasqe = Yasgui.Yasqe;

  // offline completion: the same completers, fed from the page instead of remote services
  const prefixLines = Object.keys(DATA.prefixes).sort().map(p => p + ": <" + DATA.prefixes[p] + ">");
  Yasqe.forkAutocompleter("prefixes", { name: "prefixes", get: () => Promise.resolve(prefixLines) });
  function fromList(list) {
    return function (yasqe, token) {
      const typed = ((token && token.autocompletionString) || "").toLowerCase();
      return Promise.resolve(list.filter(iri => iri.toLowerCase().indexOf(typed) >= 0));
    };
  }
  Yasqe.forkAutocompleter("class", { name: "ftzClass", get: fromList(DATA.classes), persistenceId: null });
  Yasqe.forkAutocompleter("property", { name: "ftzProperty", get: fromList(DATA.properties), persistenceId: null });

  // the results table shows plain values (9, not "9"^^xsd:integer) and opens IRIs in this tab;
  // a tab builds its results view from these defaults (YASGUI's yasr config has no say there)
  const Yasr = Yasgui.Yasr;
  Yasr.defaults.plugins.table = Object.assign({}, Yasr.defaults.plugins.table, { dynamicConfig: { compact: true } });
  Yasr.plugins.table.defaults.openIriInNewWindow = false;

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: true,          // /sparql#query=… (the canned pages' "open in the editor")
    yasqe: {
      value: DATA.default_query,
      autocompleters: ["prefixes", "variables", "ftzClass", "ftzProperty"],
      lineWrapping: true,
      persistenceId: null,
    },
    yasr: { prefixes: DATA.prefixes, persistenceId: null },
  });

  function currentTab() { return yasgui.getTab(); }

  function openExample(name) {
    const example = DATA.examples.find(e => e.name === name);
    if (!example) return;
    const tab = currentTab();
    tab.setQuery(example.query);
    tab.show();
    tab.getYasqe().query();
    document.getElementById("yasgui").scrollIntoView({ block: "start" });
  }
  document.querySelectorAll("[data-example]").forEach(button =>
    button.addEventListener("click", () => openExample(button.dataset.example)));

  // our IRIs open their page on this server, in this tab
  function localise(root) {
    root.querySelectorAll("a[href^='" + BASE + "']").forEach(a => {
      a.href = "/" + a.getAttribute("href").slice(BASE.length);
      a.removeAttribute("target");
    });
  }
  const container = document.getElementById("yasgui");
  new MutationObserver(() => localise(container)).observe(container, { childList: true, subtree: true });

  // what YASGUI draws without names for assistive technology
  function label(root) {
    root.querySelectorAll(".CodeMirror textarea:not([aria-label])").forEach(t => t.setAttribute("aria-label", STRINGS.editor));
    root.querySelectorAll("input.autocomplete:not([aria-label])").forEach(i => i.setAttribute("aria-label", STRINGS.endpoint));
    // CodeMirror makes its scroller unfocusable (tabindex -1): keyboard users could not scroll it
    root.querySelectorAll(".CodeMirror-scroll:not([tabindex='0'])").forEach(s => s.setAttribute("tabindex", "0"));
    root.querySelectorAll(".tabsList input:not([aria-label])").forEach(i => i.setAttribute("aria-label", STRINGS.editor));
    root.querySelectorAll("select.tableSizer:not([aria-label])").forEach(s => s.setAttribute("aria-label", STRINGS.page_size));
    root.querySelectorAll(".tableFilter:not([aria-label])").forEach(i => i.setAttribute("aria-label", STRINGS.filter));
  }
  label(container);
  new MutationObserver(() => label(container)).observe(container, { childList: true, subtree: true, attributes: true,
                                                                    attributeFilter: ["tabindex"] });
})();
