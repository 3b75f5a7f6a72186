/*
 * The controls of the book's in-page figures (ticket-game.js, explorer.js).
 */
(function () {
  "use strict";

  /**
   * A labelled range input for spec = {value, min, max, step}, as an
   * ipywidgets slider shows it; read() gives its value rounded to the step's
   * decimals, the number Python's slider would hold.
   */
  function slider(label, spec) {
    const wrap = document.createElement("label");
    wrap.className = "gankit-control";
    const name = document.createElement("span");
    name.textContent = label;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: spec.min, max: spec.max, step: spec.step, value: spec.value });
    input.setAttribute("aria-label", label);
    const shown = document.createElement("output");
    const decimals = (String(spec.step).split(".")[1] || "").length;
    const read = () => Number(Number(input.value).toFixed(decimals));
    const show = () => (shown.textContent = read().toFixed(decimals));
    show();
    input.addEventListener("input", show);
    wrap.append(name, input, shown);
    return { wrap, input, read };
  }

  window.gankit = Object.assign(window.gankit || {}, { controls: { slider } });
})();
