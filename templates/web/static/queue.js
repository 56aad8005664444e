// The queue, live and by keyboard: changed cases are fetched in place without closing what is open
// or losing the selection; j/k move, o opens, x selects, t takes, / searches, ? shows the keys.
// Strangers' text only ever arrives inside HTML the server escaped; nothing here builds markup from it.
"use strict";

(() => {
  const page = document.getElementById("queue-page");
  if (!page) return;
  let latest = Number(page.dataset.latest);

  // -- selection ------------------------------------------------------------------------------
  function boxes() { return [...document.querySelectorAll("#rows input[name=cases]")]; }
  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") for (const box of boxes()) box.checked = event.target.checked;
  });

  // -- live -----------------------------------------------------------------------------------
  const notice = document.getElementById("new-cases");

  function rowsNow() { return new Map([...document.querySelectorAll("#rows tr.case")].map((row) => [row.dataset.id, row])); }

  async function refresh() {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const before = rowsNow();
    const kept = new Map([...before].map(([id, row]) => [id, {
      open: [...row.querySelectorAll("details")].map((item) => item.open),
      box: row.querySelector("input[name=cases]"),
    }]));
    const body = document.getElementById("rows"), freshBody = fresh.getElementById("rows");
    if (body && freshBody) {
      let added = 0;
      for (const row of freshBody.querySelectorAll("tr.case")) {
        const state = kept.get(row.dataset.id);
        if (!state) { row.classList.add("arrived"); added += 1; continue; }
        row.querySelectorAll("details").forEach((item, index) => { item.open = state.open[index] ?? false; });
        // A case selected before it changed stays selected as it was then (its latest change), so that
        // a bulk action names the change instead of passing over it, as the case page does.
        const box = row.querySelector("input[name=cases]");
        if (box && state.box?.checked) { box.checked = true; box.value = state.box.value; }
        if (before.get(row.dataset.id)?.classList.contains("focused")) row.classList.add("focused");
      }
      body.replaceWith(freshBody);
      if (added) {
        notice.querySelector("span").textContent = `${added} new case${added === 1 ? "" : "s"} on this page.`;
        notice.hidden = false;
      }
    } else if (!body && freshBody) {
      window.location.reload();
      return;
    } else if (body && !freshBody) {  // the last case left: say so, as a fresh page would
      const empty = fresh.querySelector(".queue-page p.empty");
      if (empty) document.getElementById("bulk")?.replaceWith(empty);
    }
    for (const part of ["views", "h1"]) {
      const old = document.querySelector(`.queue-page ${part === "views" ? "nav.views" : "h1"}`);
      const replacement = fresh.querySelector(`.queue-page ${part === "views" ? "nav.views" : "h1"}`);
      if (old && replacement) old.replaceWith(replacement);
    }
  }

  document.getElementById("show-new")?.addEventListener("click", () => {
    notice.hidden = true;
    document.querySelector("#rows tr.arrived")?.scrollIntoView({ block: "center" });
  });

  // A change announced while the rows are being fetched may have come after the server answered:
  // fetch them once more when this fetch is done.
  let busy = false, again = false;
  async function changed() {
    again = true;
    if (busy) return;
    busy = true;
    try {
      while (again) { again = false; await refresh(); }
    } finally { busy = false; }
  }

  function listen() {
    const stream = new EventSource(`/queue/live?latest=${latest}`);
    stream.addEventListener("change", (event) => {
      const change = JSON.parse(event.data);
      latest = change.latest;
      changed();
    });
    stream.onerror = () => {
      if (stream.readyState === EventSource.CLOSED) setTimeout(listen, 5000);
    };
  }
  if (window.EventSource) listen();
  else setInterval(changed, 15000);  // no server-sent events: look again now and then

  // -- keys -----------------------------------------------------------------------------------
  function focused() { return document.querySelector("#rows tr.focused"); }
  function focus(row) {
    if (!row) return;
    focused()?.classList.remove("focused");
    row.classList.add("focused");
    row.scrollIntoView({ block: "nearest" });
  }
  function step(by) {
    const rows = [...document.querySelectorAll("#rows tr.case")];
    if (!rows.length) return;
    const at = rows.indexOf(focused());
    focus(rows[Math.min(Math.max(at + by, 0), rows.length - 1)] ?? rows[0]);
  }

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const row = focused();
    switch (event.key) {
      case "j": step(1); break;
      case "k": step(-1); break;
      case "o": case "Enter":
        if (event.key === "Enter" && event.target.closest("a, button, summary")) return;  // theirs to answer
        if (row) window.location.href = row.querySelector("a.ref").href;
        break;
      case "x": if (row) { const box = row.querySelector("input[name=cases]"); box.checked = !box.checked; } break;
      case "t":
        if (row) {
          for (const box of boxes()) box.checked = false;
          row.querySelector("input[name=cases]").checked = true;
          document.getElementById("bulk-action").value = "take";
          document.getElementById("bulk").requestSubmit();
        }
        break;
      case "/": event.preventDefault(); document.getElementById("search").focus(); break;
      case "?": document.getElementById("keys-help").showModal(); break;
      default: return;
    }
  });
})();
