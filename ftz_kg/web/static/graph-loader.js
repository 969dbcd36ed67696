// Loads the neighbourhood graph (Cytoscape.js, ~440 KB, and graph.js) only when its section comes
// near the screen: most readers of a fact sheet never scroll that far, and evaluating the library
// up front would block the page's main thread for a second or more on a phone.
(function () {
  "use strict";
  const section = document.getElementById("graph-section");
  if (!section) return;
  section.hidden = false;    // JavaScript runs: the section can be shown (it is hidden without it)
  let started = false;
  function load() {
    if (started) return;
    started = true;
    const sources = section.dataset.scripts.split(" ");
    (function next(i) {
      if (i >= sources.length) return;
      const script = document.createElement("script");
      script.src = sources[i];
      script.onload = () => next(i + 1);
      document.body.appendChild(script);
    })(0);
  }
  if (!("IntersectionObserver" in window)) { load(); return; }
  const observer = new IntersectionObserver(entries => {
    if (entries.some(e => e.isIntersecting)) { observer.disconnect(); load(); }
  }, { rootMargin: "300px 0px" });
  observer.observe(section);
  // arriving at the graph by its anchor, or moving focus into it, loads it too
  section.addEventListener("focusin", load);
})();
