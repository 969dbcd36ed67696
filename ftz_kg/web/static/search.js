// Search as you type on the home page: suggestions from /search?format=json as the user types.
(function () {
  const input = document.querySelector("input[name=q]");
  if (!input) return;
  const list = document.createElement("ul");
  list.id = "suggestions";
  input.form.after(list);
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = input.value.trim();
      if (!q) { list.innerHTML = ""; return; }
      const lang = document.documentElement.lang || "zh";
      fetch("/search?format=json&lang=" + lang + "&q=" + encodeURIComponent(q))
        .then(r => r.json())
        .then(hits => {
          list.innerHTML = "";
          hits.slice(0, 12).forEach(hit => {
            const item = document.createElement("li");
            const link = document.createElement("a");
            link.href = hit.href;
            link.textContent = hit.label;
            item.append(link, " ", Object.assign(document.createElement("small"), { textContent: hit.type }));
            list.append(item);
          });
        });
    }, 150);
  });
})();
