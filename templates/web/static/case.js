// The case page, live: the reply's length against the platform's limit, saved replies, deadlines
// counting down, who else is here, and changes shown without losing what the person is writing.
// Every stranger's text is set with textContent, never as HTML.
"use strict";

(() => {
  const page = document.getElementById("case-page");
  if (!page) return;
  const caseId = page.dataset.case;
  const csrf = page.dataset.csrf;
  const serverOffset = Date.parse(page.dataset.now) - Date.now();  // the server's clock rules deadlines
  const LINK = /(?:https?:\/\/|www\.)\S+/gi;

  // -- the composer ---------------------------------------------------------------------------
  const composer = document.getElementById("composer");
  const text = document.getElementById("reply-text");
  const count = document.getElementById("reply-count");
  const resolve = document.getElementById("resolve");

  function length(value) {
    const linkLength = Number(composer.dataset.linkLength || 0);
    const counted = linkLength > 0 ? value.replace(LINK, "x".repeat(linkLength)) : value;
    return [...counted].length;
  }

  function updateCount() {
    if (!composer || !count) return;
    const limit = Number(composer.dataset.limit);
    const survey = resolve && resolve.checked ? Number(composer.dataset.surveyLength || 0) : 0;
    const used = length(text.value.trim()) + survey;
    count.textContent = `${used} / ${limit}` + (survey ? " with the survey link" : "");
    count.classList.toggle("over", used > limit);
  }

  if (composer) {
    text.addEventListener("input", updateCount);
    if (resolve) resolve.addEventListener("change", updateCount);
    const insert = document.getElementById("insert-reply");
    const saved = document.getElementById("saved-reply");
    if (insert && saved) {
      insert.addEventListener("click", () => {
        const chosen = saved.selectedOptions[0];
        if (!chosen || chosen.disabled) return;
        const start = text.selectionStart ?? text.value.length;
        const end = text.selectionEnd ?? text.value.length;
        text.setRangeText(chosen.dataset.text, start, end, "end");
        text.focus();
        updateCount();
        typing();
      });
    }
    updateCount();
  }

  // -- deadlines ------------------------------------------------------------------------------
  function countdown(milliseconds) {
    const minutes = Math.round(Math.abs(milliseconds) / 60000);
    const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), rest = minutes % 60;
    const span = days ? `${days} d ${hours} h` : hours ? `${hours} h ${rest} min` : `${rest} min`;
    return milliseconds >= 0 ? `in ${span}` : `${span} overdue`;
  }

  function updateDeadlines() {
    const now = Date.now() + serverOffset;
    for (const item of document.querySelectorAll("[data-due]")) {
      const left = Date.parse(item.dataset.due) - now;
      item.querySelector(".countdown").textContent = `(${countdown(left)})`;
      item.classList.toggle("due-overdue", left <= 0);
      item.classList.toggle("due-soon", left > 0 && left <= 30 * 60000);
      item.classList.toggle("due-ok", left > 30 * 60000);
    }
  }
  updateDeadlines();
  setInterval(updateDeadlines, 30000);

  // -- presence -------------------------------------------------------------------------------
  function tell(fields) {
    const body = new FormData();
    body.append("csrf", csrf);
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    return fetch(`/cases/${caseId}/presence`, { method: "POST", body, credentials: "same-origin" }).catch(() => {});
  }

  let lastTyping = 0;
  function typing() {
    if (Date.now() - lastTyping < 3000) return;
    lastTyping = Date.now();
    tell({ typing: "true" });
  }

  tell({});
  setInterval(() => tell({}), 10000);
  for (const area of [text, document.getElementById("note-text")]) {
    if (area) area.addEventListener("input", typing);
  }
  window.addEventListener("pagehide", () => {
    const body = new FormData();
    body.append("csrf", csrf);
    body.append("leaving", "true");
    navigator.sendBeacon(`/cases/${caseId}/presence`, body);
  });

  const presence = document.getElementById("presence");
  function showPresence(viewers) {
    presence.replaceChildren();
    for (const viewer of viewers) {
      const item = document.createElement("span");
      item.className = viewer.typing ? "viewer typing" : "viewer";
      item.textContent = viewer.typing ? `${viewer.name} is typing…` : `${viewer.name} is viewing`;
      presence.append(item);
    }
  }

  // -- changes --------------------------------------------------------------------------------
  const changedLive = document.getElementById("changed-live");
  async function refresh(changed) {
    // The case's own address: after a refused action the page stands at the form's action.
    const response = await fetch(`/cases/${caseId}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const part of document.querySelectorAll("[data-live]")) {
      const replacement = fresh.getElementById(part.id);
      if (replacement) part.replaceWith(replacement);
    }
    updateDeadlines();
    if (changedLive && changed.length) {
      changedLive.textContent = "Changed since you opened this case: " + changed.join("; ") +
        ". Sending now will ask you to confirm.";
      changedLive.hidden = false;
    }
  }

  // A change reopens the stream from the latest event shown, so a reconnection does not repeat it.
  function listen(latest) {
    const stream = new EventSource(`/cases/${caseId}/live?seen=${page.dataset.seen}&latest=${latest}`);
    stream.addEventListener("presence", (event) => showPresence(JSON.parse(event.data)));
    stream.addEventListener("change", (event) => {
      const change = JSON.parse(event.data);
      stream.close();
      refresh(change.changed).finally(() => listen(change.latest));
    });
    stream.addEventListener("gone", () => {
      stream.close();
      presence.textContent = "This case is no longer yours to see.";
    });
  }
  if (window.EventSource) listen(page.dataset.latest);
})();
