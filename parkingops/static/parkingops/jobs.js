// Keeps the job progress bars on the page up to date (parkingops/jobs/admin.py): every second
// while a shown job is queued or running, it asks status/ for them and redraws their bars;
// when one of them finishes, the page reloads to show its result (the file, the counts).
(function () {
  "use strict";
  const poll = document.getElementById("job-poll");
  if (!poll) return;
  const unfinished = () =>
    Array.from(document.querySelectorAll(".job-progress")).filter(
      (bar) => bar.dataset.state === "queued" || bar.dataset.state === "running"
    );

  function draw(bar, job) {
    const progress = bar.querySelector("progress");
    if (job.percent === null) progress.removeAttribute("value");
    else progress.value = job.percent;
    bar.querySelector(".job-progress-count").textContent =
      job.total === null ? (job.done ? job.done.toLocaleString() : "")
        : job.done.toLocaleString() + " / " + job.total.toLocaleString();
    bar.querySelector(".job-progress-stage").textContent = job.stage;
    bar.querySelector(".job-progress-left").textContent =
      job.left ? poll.dataset.leftText.replace("%s", job.left) : "";
    bar.dataset.state = job.state;
    document.querySelectorAll('[data-job-state]').forEach((badge) => {
      const row = badge.closest("tr");
      if (row && row.contains(bar)) badge.textContent = job.state_label;
    });
  }

  async function tick() {
    const bars = unfinished();
    if (!bars.length) return;
    const query = bars.map((bar) => "id=" + encodeURIComponent(bar.dataset.jobId)).join("&");
    try {
      const answer = await fetch(poll.dataset.statusUrl + "?" + query, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (answer.ok) {
        const jobs = (await answer.json()).jobs;
        for (const job of jobs) {
          const bar = bars.find((candidate) => candidate.dataset.jobId === job.id);
          if (!bar) continue;
          draw(bar, job);
          if (job.finished) { window.location.reload(); return; }
        }
      }
    } catch (error) {
      // The server is briefly away: try again at the next tick.
    }
    window.setTimeout(tick, 1000);
  }
  window.setTimeout(tick, 1000);
})();
