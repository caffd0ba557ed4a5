// "Add a row" buttons of the task forms (a physical check's samples): the formset's empty form, from the
// <template> the button names, inserted before the button with the next index. A listener in a file, not an
// onclick: the Content-Security-Policy runs no inline script. drafts.js clicks these to restore a draft.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-add-row]");
  if (!button) return;
  const total = document.getElementById(`id_${button.dataset.addRow}-TOTAL_FORMS`);
  const template = document.getElementById(button.dataset.template);
  const index = Number(total.value);
  button.insertAdjacentHTML("beforebegin", template.innerHTML.replace(/__prefix__/g, String(index)));
  total.value = String(index + 1);
});
