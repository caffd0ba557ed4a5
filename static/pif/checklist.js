// Keeps the Part I checklist up to date while the form is filled in: the form posts itself (nothing is saved)
// and the server answers with the checklist computed by the same rules as a submit.
(() => {
  const box = document.getElementById("checklist");
  const form = document.querySelector("form[data-checklist]");
  if (!box || !form) return;
  let timer;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const response = await fetch(box.dataset.url, { method: "POST", body: new FormData(form), credentials: "same-origin" });
      if (response.ok) box.innerHTML = await response.text();
    }, 400);
  };
  form.addEventListener("change", refresh);
  form.addEventListener("input", refresh);
})();
