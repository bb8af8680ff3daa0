/* The offline capture page: start a session and record every tap with no network; the outbox syncs later. */
"use strict";

(function () {
  const { el, money, clock } = Pad;
  const root = document.getElementById("capture");

  async function current() {
    const sessions = await Outbox.all("sessions");
    const wanted = location.hash.slice(1);
    const open = sessions.filter((s) => s.started_at && s.status !== "ended");
    return sessions.find((s) => s.id === wanted) || open.sort((a, b) => b.started_at - a.started_at)[0] || null;
  }

  function played(s, now) {
    const end = s.ended_at || now;
    const openBreak = s.break_since && !s.ended_at ? end - s.break_since : 0;
    return end - s.started_at - (s.break_ms || 0) - openBreak;
  }

  function bigButton(action, label, id, extra) {
    return el("button", { class: `btn big ${extra || ""}`, type: "button", "data-capture": action, "data-session": id,
      "data-testid": `capture-${action}` }, label);
  }

  let shown = null;

  async function render() {
    const s = await current();
    // Rebuild only when the session changed: a rebuild under a finger would swallow the tap.
    const signature = JSON.stringify(s);
    if (signature === shown) return;
    shown = signature;
    if (!s) {
      root.replaceChildren(
        el("section", { class: "card" }, el("h1", {}, "No session running"),
          el("p", { class: "muted" }, "Everything you record here is saved on this phone and synced when online.")),
        el("button", { class: "btn big primary", type: "button", "data-capture": "start", "data-testid": "capture-start" },
          "Start a session"));
      return;
    }
    if (location.hash.slice(1) !== s.id) history.replaceState(null, "", `#${s.id}`);
    const now = Date.now();
    const profit = s.stack != null ? s.stack - s.invested : -s.invested;
    const ms = played(s, now);
    const hourly = ms >= 60000 ? Math.round((profit * 3600000) / ms) : null;
    const ended = s.status === "ended";
    const stat = (label, value, cls, testid) =>
      el("div", { class: "stat" }, el("span", { class: "label" }, label),
        el("span", { class: `value ${cls || ""}`, "data-testid": testid }, value));
    root.replaceChildren(
      el("section", { class: "card live", "data-live-session": s.id, "data-currency": s.currency,
        "data-format": s.format, "data-status": s.status, "data-testid": "capture-session" },
        el("div", { class: "title" }, el("h1", {}, `${s.game} ${s.format === "cash" ? "cash" : "tournament"}`),
          el("span", { class: `pill ${s.status}` }, s.status.replace("_", " "))),
        el("div", { class: "clock", "data-testid": "capture-clock" }, clock(ms)),
        el("div", { class: "stats" },
          stat("Stack", money(s.stack, s.currency), "", "figure-stack"),
          stat("Invested", money(s.invested, s.currency), "", "figure-invested"),
          stat("Profit", money(profit, s.currency, true), profit >= 0 ? "up" : "down", "figure-profit"),
          stat("Hourly", hourly == null ? "–" : money(hourly, s.currency, true), "", "figure-hourly")),
        el("p", { class: "muted small" }, "Figures on this page are this phone's estimate; the server's count rules.")),
      ended
        ? el("div", { class: "pad" }, el("a", { class: "btn big", href: `/app/sessions/${s.id}` }, "See the session"),
          el("button", { class: "btn big primary", type: "button", "data-capture": "start",
            "data-testid": "capture-start" }, "Start another session"))
        : el("div", { class: "pad" },
          bigButton("stack", "Stack count", s.id, "primary"),
          bigButton("rebuy", "Rebuy", s.id),
          bigButton("addon", s.format === "cash" ? "Top-up" : "Add-on", s.id),
          bigButton("break", s.status === "on_break" ? "End break" : "Break", s.id),
          bigButton("note", "Note", s.id),
          bigButton("mood", "Mood", s.id),
          bigButton("end", "End session", s.id, "danger wide")),
    );
  }

  Pad.onChange(render);
  window.addEventListener("hashchange", render);
  setInterval(() => {
    const node = document.querySelector("[data-testid=capture-clock]");
    if (node) current().then((s) => s && !s.ended_at && (node.textContent = clock(played(s, Date.now()))));
  }, 1000);
  render();
})();
