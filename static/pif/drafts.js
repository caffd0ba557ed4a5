/* Task forms that survive a patchy network (issue 7).
 *
 * - What is typed in a task form is kept in this tablet's localStorage as a draft, saved at each change,
 *   and put back when the form is opened again; it is removed once the server has accepted the form.
 * - A submit that fails for the network is kept as pending and sent again when the network returns (the
 *   browser's `online` event, and every few seconds while pending). The form's idempotency key (made by the
 *   server when it drew the form, kept in the draft) makes a second copy harmless: workflows/receipts.py.
 * - Photos chosen with the camera input are downscaled here before they are sent, and kept with the draft
 *   (in IndexedDB, which holds files; localStorage holds only text) until the form is accepted.
 * - The day page (/workflow/today/) lists the drafts not sent yet and drops those of tasks the user no
 *   longer holds (done, or taken elsewhere); so does a task page refused for that reason (templates/403.html).
 *
 * viewflow's pages submit their forms with Turbo: this script follows Turbo's public events
 * (turbo:load, turbo:submit-start, turbo:submit-end) and lets Turbo do the sending.
 */
(function () {
  "use strict";
  var PREFIX = "pif-draft:";
  var KEY_FIELD = "idempotency_key";
  var PHOTO_MAX_SIDE = 1600;
  var RETRY_MS = 3000;

  function text(name) {
    var el = document.getElementById("pif-draft-text");
    return (el && el.dataset[name]) || "";
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function draftKey() { return PREFIX + window.location.pathname; }

  function readDraft(key) {
    var store = storage();
    try { return store ? JSON.parse(store.getItem(key) || "null") : null; } catch (e) { return null; }
  }

  function writeDraft(key, draft) {
    var store = storage();
    if (store) { try { store.setItem(key, JSON.stringify(draft)); } catch (e) { /* full: keep going */ } }
  }

  function taskForm() {
    var field = document.querySelector("form input[name=" + KEY_FIELD + "]");
    return field ? field.form : null;
  }

  function fieldsOf(form) {
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") { fields.push([name, value]); }
    });
    return fields;
  }

  function describe() {
    var title = document.querySelector("h1");
    var reference = document.querySelector(".pif-summary h2");
    return {
      title: title ? title.textContent.trim() : document.title,
      reference: reference ? reference.textContent.trim() : "",
    };
  }

  /* ---- the banner above the form ---- */
  function banner(form, message, kind) {
    var box = form.querySelector(".pif-draft-banner");
    if (!box) {
      box = document.createElement("div");
      box.className = "pif-draft-banner";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      form.insertBefore(box, form.firstChild);
    }
    box.hidden = !message;
    box.dataset.kind = kind || "";
    box.textContent = message || "";
  }

  /* ---- restoring a draft ---- */
  function addRowsFor(form, fields) {
    // formset rows added on the tablet (samples): add as many empty rows before filling them
    fields.forEach(function (pair) {
      var match = /^(.*)-TOTAL_FORMS$/.exec(pair[0]);
      if (!match) { return; }
      var total = form.querySelector("[name='" + pair[0] + "']");
      var add = form.querySelector("[data-add-row='" + match[1] + "']");
      while (total && add && +total.value < +pair[1]) { add.click(); }
    });
  }

  function restore(form, draft) {
    addRowsFor(form, draft.fields);
    var values = {};
    draft.fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "file" || el.type === "submit") { return; }
      var wanted = values[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = wanted.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = wanted.indexOf(o.value) !== -1; });
      } else if (wanted.length) {
        el.value = wanted[0];
      }
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  /* ---- photos: downscaled before they are sent ---- */
  function downscale(file) {
    if (!/^image\//.test(file.type) || !window.createImageBitmap) { return Promise.resolve(file); }
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.type === "image/jpeg") { return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }) : file);
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }

  /* ---- a draft's photos, in IndexedDB under "<draft key>|<input name>" ---- */
  function photoStore(mode, work) {
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(null); return; }
      var open = indexedDB.open("pif-drafts", 1);
      open.onupgradeneeded = function () { open.result.createObjectStore("photos"); };
      open.onerror = function () { resolve(null); };
      open.onsuccess = function () {
        var db = open.result;
        var tx = db.transaction("photos", mode);
        var request = work(tx.objectStore("photos"));
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : null); };
        tx.onerror = tx.onabort = function () { db.close(); resolve(null); };
      };
    });
  }

  function photosKeep(input, files) {
    return photoStore("readwrite", function (store) { return store.put(files, draftKey() + "|" + input.name); });
  }

  function photosForget(key) {
    return photoStore("readwrite", function (store) {
      return store.delete(IDBKeyRange.bound(key + "|", key + "|\uffff"));
    });
  }

  /* A draft the server has accepted, or can no longer accept (its task done or taken elsewhere). */
  function forget(key) {
    var store = storage();
    if (store) { store.removeItem(key); }
    photosForget(key);
  }

  function photoNote(input, count) {
    var note = input.parentNode.querySelector(".pif-photo-note") || document.createElement("p");
    note.className = "pif-photo-note";
    note.textContent = text("photosReady").replace("%(count)s", count);
    input.parentNode.appendChild(note);
  }

  function photosRestore(form) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input[type=file]"));
    if (!inputs.length) { return Promise.resolve(); }
    form.dataset.pifBusy = "1";
    return Promise.all(inputs.map(function (input) {
      return photoStore("readonly", function (store) { return store.get(draftKey() + "|" + input.name); })
        .then(function (files) {
          if (!files || !files.length) { return; }
          var transfer = new DataTransfer();
          files.forEach(function (f) { transfer.items.add(f); });
          input.files = transfer.files;  // no change event: they are already scaled
          photoNote(input, files.length);
        });
    })).then(function () { delete form.dataset.pifBusy; });
  }

  function watchPhotos(form) {
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      if (input.dataset.pifPhotos) { return; }
      input.dataset.pifPhotos = "1";
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files || []);
        if (!files.length) { return; }
        form.dataset.pifBusy = "1";
        Promise.all(files.map(downscale)).then(function (scaled) {
          var transfer = new DataTransfer();
          scaled.forEach(function (f) { transfer.items.add(f); });
          input.files = transfer.files;  // no change event (setting files never fires one)
          return photosKeep(input, scaled).then(function () {
            delete form.dataset.pifBusy;
            photoNote(input, scaled.length);
          });
        });
      });
    });
  }

  /* ---- a task form ---- */
  function setUpForm(form) {
    if (form.dataset.pifDrafts) { return; }
    form.dataset.pifDrafts = "1";
    var key = draftKey();
    var keyField = form.querySelector("input[name=" + KEY_FIELD + "]");
    var draft = readDraft(key);
    var submitter = null;
    var retryTimer = null;

    if (draft) {
      restore(form, draft);
      photosRestore(form);
      keyField.value = draft.key;  // the same submit, whatever the page drew this time
      if (draft.pending) {
        banner(form, text("pending"), "pending");
        scheduleRetry();
      } else {
        banner(form, text("restored").replace("%(time)s", new Date(draft.savedAt).toLocaleTimeString()), "restored");
      }
    }

    function save(pending) {
      var meta = describe();
      writeDraft(key, {
        url: window.location.pathname,
        title: meta.title,
        reference: meta.reference,
        key: keyField.value,
        fields: fieldsOf(form),
        savedAt: Date.now(),
        pending: !!pending,
      });
    }

    function send() {
      retryTimer = null;
      if (!document.body.contains(form)) { return; }
      if (form.dataset.pifBusy) { scheduleRetry(); return; }
      if (navigator.onLine === false) { scheduleRetry(); return; }
      form.requestSubmit(submitter && form.contains(submitter) ? submitter : undefined);
    }

    function scheduleRetry() {
      if (!retryTimer) { retryTimer = window.setTimeout(send, RETRY_MS); }
    }

    form.addEventListener("input", function () { save(false); });
    form.addEventListener("change", function () { save(false); });
    form.addEventListener("submit", function (event) {
      submitter = event.submitter || submitter;
      if (form.dataset.pifBusy) { event.preventDefault(); scheduleRetry(); }  // photos still being scaled
    });
    form.addEventListener("turbo:submit-start", function (event) {
      submitter = event.detail.formSubmission.submitter || submitter;
      save(true);
      banner(form, text("sending"), "sending");
    });
    form.addEventListener("turbo:submit-end", function (event) {
      var detail = event.detail;
      if (detail.success) {
        forget(key);
      } else if (detail.fetchResponse) {
        save(false);  // the server answered (a refused form): not pending, still a draft
      } else {
        save(true);  // no answer: the network
        banner(form, text("pending"), "pending");
        scheduleRetry();
      }
    });
    window.addEventListener("online", function () {
      var current = readDraft(key);
      if (current && current.pending && document.body.contains(form)) { send(); }
    });
    watchPhotos(form);
  }

  /* ---- the day page: drafts not sent yet ---- */
  /* The forms the server still takes from this user (their assigned tasks), as the day page lists them;
     null on a page without the list, or on a preview drawn from Turbo's cache, which may be stale. */
  function openForms() {
    var node = document.getElementById("pif-open-forms");
    if (!node || document.documentElement.hasAttribute("data-turbo-preview")) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function listPending() {
    var section = document.getElementById("pending-drafts");
    var store = storage();
    if (!section || !store) { return; }
    var open = openForms();
    var list = section.querySelector("ul");
    list.textContent = "";
    var names = [];
    for (var i = 0; i < store.length; i++) { names.push(store.key(i)); }
    names.forEach(function (name) {
      if (name.indexOf(PREFIX) !== 0) { return; }
      var draft = readDraft(name);
      if (!draft) { return; }
      if (open && open.indexOf(name.slice(PREFIX.length)) === -1) {
        forget(name);  // its task is done, or no longer this user's: the server would refuse it
        return;
      }
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = draft.url;
      link.textContent = draft.reference + " · " + draft.title;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" — " + (draft.pending ? text("pendingShort") : text("draftShort"))));
      list.appendChild(item);
    });
    section.hidden = !list.children.length;
  }

  function start() {
    if (document.getElementById("pif-draft-obsolete")) { forget(draftKey()); }  // templates/403.html
    var form = taskForm();
    if (form) { setUpForm(form); }
    listPending();
  }

  document.addEventListener("turbo:load", start);
  document.addEventListener("turbo:render", start);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
