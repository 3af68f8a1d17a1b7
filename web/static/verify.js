// Live progress of a background job: a ledger verification (web/templates/oversight/ledger.html)
// or a report export (web/templates/reports/index.html). Polls the job's JSON status, moves the
// <progress> bar, and reloads the page when the job ends so that the server shows the outcome in the
// reader's language. Without this script the page offers a refresh link that shows the same state.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-verify-status], [data-job-status]");
  if (!box) return;
  const url = box.dataset.verifyStatus || box.dataset.jobStatus;
  const bar = box.querySelector("progress");
  const done = box.querySelector("[data-done]");
  const total = box.querySelector("[data-total]");
  const refresh = box.querySelector("[data-refresh]");
  const number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  if (refresh) refresh.hidden = true;

  const show = (status) => {
    if (status.total > 0) {
      bar.max = status.total;
      bar.value = status.done;
      total.textContent = number.format(status.total);
    }
    done.textContent = number.format(status.done);
  };

  const poll = async () => {
    let status;
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      // 404: this server process does not know the job (restarted?); the page explains.
      if (response.status === 404) return window.location.reload();
      if (!response.ok) throw new Error(`status ${response.status}`);
      status = await response.json();
    } catch (error) {
      if (refresh) refresh.hidden = false;
      window.setTimeout(poll, 5000);
      return;
    }
    if (status.state !== "running") return window.location.reload();
    show(status);
    window.setTimeout(poll, 750);
  };
  poll();
});
