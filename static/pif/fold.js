// Folded parts (<details class="fold">) stay open on a wide screen: they fold only where space is short.
(function () {
  if (!window.matchMedia("(min-width: 761px)").matches) return;
  document.querySelectorAll("details.fold").forEach(function (fold) { fold.open = true; });
})();
