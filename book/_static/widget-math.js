// Saved widgets typeset their labels with MathJax 2's `MathJax.Hub.Queue`;
// the book loads MathJax 3, which has no `Hub`. Give the widget manager that
// one call, done the MathJax 3 way. Runs before the widgets are drawn (on the
// window's load event) and after the deferred MathJax script has started.
document.addEventListener("DOMContentLoaded", () => {
  const mathjax = window.MathJax;
  if (mathjax && mathjax.startup && !mathjax.Hub) {
    mathjax.Hub = {
      Queue: ([, , element]) =>
        mathjax.startup.promise.then(() => mathjax.typesetPromise([element])),
    };
  }
});
