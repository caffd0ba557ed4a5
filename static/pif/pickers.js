/* Search in a long list of choices (workflows/pickers.py): the rows that do not contain what is typed are
   hidden; accents and case are ignored ("defaut" finds "défaut"). Checked rows always stay visible. */
(function () {
  "use strict";
  function fold(text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }

  function setUp() {
    document.querySelectorAll(".pif-picker").forEach(function (picker) {
      var search = picker.querySelector(".pif-picker__search");
      if (!search || search.dataset.ready) { return; }
      search.dataset.ready = "1";
      search.addEventListener("input", function () {
        var wanted = fold(search.value.trim());
        picker.querySelectorAll(".pif-picker__options li").forEach(function (row) {
          var box = row.querySelector("input");
          row.hidden = !!wanted && !box.checked && fold(row.textContent).indexOf(wanted) === -1;
        });
      });
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); }  // typing in the search never submits the form
      });
    });
  }
  document.addEventListener("turbo:load", setUp);
  document.addEventListener("turbo:render", setUp);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); } else { setUp(); }
})();
