// Type-ahead for the header's search box, as an ARIA combobox: suggestions from
// /search?format=json while typing; arrow keys move, Enter opens, Escape closes. Without
// JavaScript the box is a plain GET form to /search.
(function () {
  const input = document.getElementById("site-q");
  if (!input) return;
  const lang = document.documentElement.dataset.lang || "zh";
  const list = document.createElement("ul");
  list.id = "site-q-suggestions";
  list.className = "suggest";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", lang === "zh" ? "搜索建议" : "Suggestions");
  input.parentNode.appendChild(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  let timer = null, active = -1, hits = [];

  function close() {
    list.replaceChildren();
    hits = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function mark(index) {
    active = index;
    Array.from(list.children).forEach((li, i) => li.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (index >= 0) input.setAttribute("aria-activedescendant", list.children[index].id);
    else input.removeAttribute("aria-activedescendant");
  }
  function go(hit) { window.location.href = hit.href + "?lang=" + lang; }
  function show(found) {
    hits = found.slice(0, 10);
    list.replaceChildren(...hits.map((hit, i) => {
      const item = document.createElement("li");
      item.id = "site-q-option-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.append(hit.label, " ", Object.assign(document.createElement("small"), { textContent: hit.type }));
      item.addEventListener("mousedown", e => { e.preventDefault(); go(hit); });
      return item;
    }));
    input.setAttribute("aria-expanded", hits.length ? "true" : "false");
    active = -1;
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = input.value.trim();
      if (!q) { close(); return; }
      fetch("/search?format=json&lang=" + lang + "&q=" + encodeURIComponent(q))
        .then(r => (r.ok ? r.json() : []))
        .then(show)
        .catch(close);
    }, 150);
  });
  input.addEventListener("keydown", e => {
    if (!hits.length) return;
    if (e.key === "ArrowDown") { e.preventDefault(); mark((active + 1) % hits.length); }
    else if (e.key === "ArrowUp") { e.preventDefault(); mark((active - 1 + hits.length) % hits.length); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); go(hits[active]); }
    // Escape first closes the list; only a second one clears the box (a search input's own behaviour)
    else if (e.key === "Escape") { e.preventDefault(); close(); }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
})();
