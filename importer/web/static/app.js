// order-importer team server: the few things a page does without reloading.
// Drag and drop onto the upload box, the buy confirmation dialog, and the job's progress (polled).
(function () {
  "use strict";

  function dropZone() {
    var zone = document.getElementById("drop");
    var input = document.getElementById("sheet-input");
    if (!zone || !input) return;
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        zone.querySelector("span").textContent = input.files[0].name;
      }
    });
    input.addEventListener("change", function () {
      if (input.files.length) zone.querySelector("span").textContent = input.files[0].name;
    });
  }

  function dialogs() {
    document.querySelectorAll("[data-dialog]").forEach(function (button) {
      var dialog = document.getElementById(button.getAttribute("data-dialog"));
      button.addEventListener("click", function () { dialog.showModal(); });
      dialog.querySelectorAll("[data-close]").forEach(function (close) {
        close.addEventListener("click", function () { dialog.close(); });
      });
    });
  }

  function progress() {
    var job = document.getElementById("job");
    if (!job) return;
    var bar = document.getElementById("job-progress");
    function poll() {
      fetch(job.getAttribute("data-status-url"), { credentials: "same-origin" })
        .then(function (answer) { return answer.json(); })
        .then(function (status) {
          bar.max = status.total || 1;
          bar.value = status.done;
          document.getElementById("job-state").textContent = status.state;
          document.getElementById("job-count").textContent = status.done + " of " + (status.total || "?");
          var message = document.getElementById("job-message");
          message.textContent = status.message;
          message.hidden = !status.message;
          if (status.state === "done") {
            window.location = job.getAttribute("data-done-url");
          } else if (!status.finished) {
            window.setTimeout(poll, 400);
          } else if (job.getAttribute("data-state") !== status.state) {
            window.location.reload();
          }
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    }
    if (job.getAttribute("data-state") === "queued" || job.getAttribute("data-state") === "running") poll();
  }

  document.addEventListener("DOMContentLoaded", function () { dropZone(); dialogs(); progress(); });
})();
