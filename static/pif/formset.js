// Adds a row to a Django formset from its <template>, updating the management form's TOTAL_FORMS.
document.addEventListener("click", (event) => {
  const name = event.target.dataset && event.target.dataset.add;
  if (!name) return;
  const total = document.getElementById(`id_${name}-TOTAL_FORMS`);
  const template = document.querySelector(`template[data-empty="${name}"]`);
  const index = Number(total.value);
  const html = template.innerHTML.replace(/__prefix__/g, String(index));
  document.querySelector(`[data-formset="${name}"]`).insertAdjacentHTML("beforeend", html);
  total.value = String(index + 1);
});
