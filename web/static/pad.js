/* The capture pad: big buttons, their dialogs, the sync bar, the retry timer and the forgotten-timer prompt.
 *
 * Loaded by the offline capture page and by the ReactPy screens. Any element with data-capture="<action>" and
 * data-session="<id>" becomes a capture button, so ReactPy renders the buttons and this script records the
 * taps into the outbox (outbox.js) at once, online or not.
 */
"use strict";

var Pad = (function () {
  const HOUR = 3600 * 1000;
  const MAX_RETRY_MS = 5 * 60 * 1000;
  let retryMs = 2000;
  let retryTimer = null;
  const listeners = [];

  // ---- money -------------------------------------------------------------------------------------------
  // The digits come from shared/money.py through the generated currencies.js, never from a table of our own.
  function exponent(currency) {
    return currencyDigits(currency);
  }
  function money(minor, currency, signed) {
    if (minor == null) return "–";
    const cur = currency || "USD";
    const value = minor / 10 ** exponent(cur);
    const text = new Intl.NumberFormat(undefined, {
      style: "currency", currency: cur, minimumFractionDigits: exponent(cur), maximumFractionDigits: exponent(cur),
      signDisplay: signed ? "exceptZero" : "auto",
    });
    return text.format(value);
  }
  function toMinor(text, currency) {
    const value = Number(String(text).replace(",", ".").replace(/[^0-9.-]/g, ""));
    if (!Number.isFinite(value) || String(text).trim() === "") return null;
    return Math.round(value * 10 ** exponent(currency || "USD"));
  }
  function clock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return `${h}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }

  // ---- small DOM helpers -------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== false && v != null) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c != null) node.append(c.nodeType ? c : document.createTextNode(c));
    return node;
  }

  function toast(text, kind) {
    let box = document.getElementById("pad-toast");
    if (!box) document.body.append((box = el("div", { id: "pad-toast", role: "status", "aria-live": "polite" })));
    box.textContent = text;
    box.className = `toast show ${kind || ""}`;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (box.className = "toast"), 2600);
  }

  /** A modal form; resolves with the form's values, or null when cancelled. */
  function ask(title, fields, submitLabel, cancelLabel) {
    return new Promise((resolve) => {
      const form = el("form", { method: "dialog", class: "sheet" }, el("h2", {}, title), ...fields);
      const cancel = el("button", { type: "button", class: "btn ghost", value: "cancel" },
        cancelLabel || "Cancel");
      const ok = el("button", { type: "submit", class: "btn primary", value: "ok", "data-testid": "dialog-ok" },
        submitLabel || "Save");
      form.append(el("div", { class: "row" }, cancel, ok));
      const dialog = el("dialog", { class: "pad-dialog" }, form);
      document.body.append(dialog);
      const finish = (value) => {
        dialog.close();
        dialog.remove();
        resolve(value);
      };
      cancel.addEventListener("click", () => finish(null));
      dialog.addEventListener("cancel", (e) => {
        e.preventDefault();
        finish(null);
      });
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        finish(Object.fromEntries(new FormData(form).entries()));
      });
      dialog.showModal();
      const first = form.querySelector("input,textarea,select");
      if (first) first.focus();
    });
  }
  function field(label, name, attrs) {
    return el("label", { class: "field" }, el("span", {}, label), el("input", { name, ...attrs }));
  }
  const amountField = (label, name, value) =>
    field(label, name, { inputmode: "decimal", autocomplete: "off", required: true, value: value ?? "" });

  // ---- recording ---------------------------------------------------------------------------------------
  async function record(sessionId, type, data, feedback) {
    try {
      await Outbox.record(sessionId, type, data);
    } catch (err) {
      if (err && err.name === "QuotaExceededError") {
        toast("Phone storage is full: this tap was NOT saved. Connect to sync and free space.", "bad");
      } else {
        toast(`Could not save: ${err && err.message}`, "bad");
      }
      throw err;
    }
    toast(feedback || "Saved", "good");
    changed();
    Pad.syncSoon(0);
  }

  function major(minor, currency) {
    return minor == null ? "" : String(minor / 10 ** exponent(currency));
  }

  async function session(sessionId, node) {
    const local = await Outbox.get("sessions", sessionId);
    return {
      currency: (node && node.dataset.currency) || (local && local.currency) || "USD",
      format: (node && node.dataset.format) || (local && local.format) || "cash",
      stack: node && node.dataset.stack ? Number(node.dataset.stack) : local && local.stack,
      buyIn: node && node.dataset.buyIn ? Number(node.dataset.buyIn) : local && local.buy_in,
      startedAt: node && node.dataset.startedAt ? Date.parse(node.dataset.startedAt) : local && local.started_at,
      onBreak: node && node.dataset.status ? node.dataset.status === "on_break" : local && local.status === "on_break",
    };
  }

  const actions = {
    async stack(id, s) {
      const v = await ask("Stack count", [amountField(`Chips in front of you (${s.currency})`, "amount",
        major(s.stack, s.currency))], "Save count");
      const amount = v && toMinor(v.amount, s.currency);
      if (amount != null) await record(id, "stack.counted", { amount }, `Stack ${money(amount, s.currency)} saved`);
    },
    async rebuy(id, s) {
      await chips(id, s, "rebuy", "Rebuy");
    },
    async addon(id, s) {
      await chips(id, s, s.format === "cash" ? "top_up" : "add_on", s.format === "cash" ? "Top-up" : "Add-on");
    },
    async break(id, s) {
      if (s.onBreak) await record(id, "break.ended", {}, "Back at the table");
      else await record(id, "break.started", {}, "Break started");
    },
    async note(id) {
      const v = await ask("Note", [el("label", { class: "field" }, el("span", {}, "What happened?"),
        el("textarea", { name: "text", rows: 4, maxlength: 2000, required: true }))], "Save note");
      if (v && v.text.trim()) await record(id, "note.added", { text: v.text.trim(), tags: [] }, "Note saved");
    },
    async mood(id) {
      const moods = ["1 😣", "2 🙁", "3 😐", "4 🙂", "5 😄"];
      const v = await ask("How do you feel?", [el("div", { class: "moods" }, moods.map((m, i) =>
        el("label", { class: "mood" }, el("input", { type: "radio", name: "score", value: i + 1, required: true }),
          el("span", {}, m))))], "Save mood");
      if (v && v.score) await record(id, "mood.reported", { score: Number(v.score) }, `Mood ${v.score} saved`);
    },
    async end(id, s) {
      await endSession(id, s, null);
    },
  };

  async function chips(id, s, kind, label) {
    const v = await ask(label, [amountField(`Amount (${s.currency})`, "amount", major(s.buyIn, s.currency))],
      `Add ${label.toLowerCase()}`);
    const amount = v && toMinor(v.amount, s.currency);
    if (amount) await record(id, "chips.added", { amount, kind }, `${label} ${money(amount, s.currency)} saved`);
  }

  function localInput(ms) {
    return Outbox.localTime(new Date(ms)).slice(0, 16);
  }

  /** End a session; with ``realEnd`` (forgotten timer) the player confirms when they really stopped. */
  async function endSession(id, s, realEnd) {
    const fields = s.format === "cash"
      ? [amountField(`Cash out (${s.currency})`, "cash_out", major(s.stack, s.currency))]
      : [field("Place (empty if no cash)", "place", { inputmode: "numeric" }),
        field(`Prize (${s.currency})`, "prize", { inputmode: "decimal", value: "0" })];
    if (realEnd) fields.unshift(field("You stopped playing at", "ended_at", {
      type: "datetime-local", required: true, value: localInput(realEnd),
      min: s.startedAt ? localInput(s.startedAt) : false, max: localInput(Date.now()),
    }));
    const v = await ask(realEnd ? "When did you stop?" : "End session", fields, "End session");
    if (!v) return false;
    const data = {};
    if (s.format === "cash") {
      data.cash_out = toMinor(v.cash_out, s.currency);
      if (data.cash_out == null) return false;
    } else {
      if (v.place) data.place = Number(v.place);
      data.prize = toMinor(v.prize || "0", s.currency) || 0;
    }
    if (v.ended_at) {
      // The input keeps whole minutes: the start minute would read as before the start, which the server refuses.
      const real = Math.min(Math.max(new Date(v.ended_at).getTime(), s.startedAt || 0), Date.now());
      data.ended_at = Outbox.localTime(new Date(real));
    }
    await record(id, "session.ended", data, "Session ended");
    return true;
  }

  /** Start a session with the defaults of the last one; resolves with the new session id. */
  async function start(defaults) {
    const d = Object.assign({ format: "cash", game: "NLH", currency: "USD", buy_in: 20000,
      stakes: { small_blind: 100, big_blind: 200, ante: 0 }, location: "" },
    defaults || (await Outbox.get("kv", "lastStart")) || {});
    const cur = d.currency;
    const format = el("select", { name: "format" }, ["cash", "tournament"].map((f) =>
      el("option", { value: f, selected: f === d.format }, f === "cash" ? "Cash game" : "Tournament")));
    const v = await ask("Start a session", [
      el("label", { class: "field" }, el("span", {}, "Format"), format),
      el("div", { class: "row" }, field("Game", "game", { value: d.game, required: true, maxlength: 20 }),
        field("Currency", "currency", { value: cur, required: true, maxlength: 3, pattern: "[A-Za-z]{3}" })),
      el("div", { class: "row" },
        field("Small blind", "sb", { inputmode: "decimal", value: major(d.stakes && d.stakes.small_blind, cur) }),
        field("Big blind", "bb", { inputmode: "decimal", value: major(d.stakes && d.stakes.big_blind, cur) })),
      amountField("Buy-in", "buy_in", major(d.buy_in, cur)),
      field("Location", "location", { value: d.location || "", maxlength: 120 }),
    ], "Start");
    if (!v) return null;
    const currency = v.currency.toUpperCase();
    const data = { format: v.format, game: v.game.trim() || "NLH", currency, buy_in: toMinor(v.buy_in, currency) || 0,
      location: v.location.trim() };
    const bb = toMinor(v.bb, currency);
    if (bb) data.stakes = { small_blind: toMinor(v.sb, currency) || 0, big_blind: bb, ante: 0 };
    const id = crypto.randomUUID();
    await record(id, "session.started", data, "Session started");
    await Outbox.put("kv", data, "lastStart");
    return id;
  }

  // ---- sync: triggers, backoff, status bar -------------------------------------------------------------
  async function syncNow() {
    const outcome = await Outbox.sync();
    clearTimeout(retryTimer);
    if (outcome === "retry") {
      // The server's Retry-After wins over our own backoff when it asks for longer.
      retryTimer = setTimeout(syncNow, Math.max(retryMs, await Outbox.waitMs()));
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    } else {
      retryMs = 2000;
    }
    changed();
    return outcome;
  }
  function syncSoon(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(syncNow, delay || 0);
    if ("serviceWorker" in navigator && "SyncManager" in window) {
      navigator.serviceWorker.ready.then((r) => r.sync.register("outbox")).catch(() => {});
    }
  }

  async function renderBar() {
    let bar = document.getElementById("pad-sync");
    if (!bar) {
      bar = el("footer", { id: "pad-sync", class: "syncbar", "data-testid": "sync", "aria-label": "Sync" });
      document.body.append(bar);
    }
    const st = await Outbox.status();
    const last = st.lastSync ? new Date(st.lastSync).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : "never";
    const state = st.problem ? st.problem.kind : st.pending ? "pending" : "synced";
    bar.dataset.state = state;
    bar.dataset.pending = String(st.pending);
    bar.replaceChildren(
      el("span", { class: `dot ${state}` }),
      el("span", { class: "grow", "data-testid": "sync-text" }, !st.paired
        ? "Not paired: open the pairing link from `bankroll device pair`."
        : st.problem && (st.problem.kind === "auth" || st.problem.kind === "server") ? st.problem.message
          : `${st.pending ? `${st.pending} waiting` : "All synced"}${st.rejected.length ? ` · ${st.rejected.length} refused`
            : ""} · last sync ${last}`),
      el("button", { class: "btn small", type: "button", onclick: () => syncNow() }, "Sync"),
    );
    let box = document.getElementById("pad-rejected");
    if (!st.rejected.length) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      // Above the screen's content, where the player looks first: a refused tap must not go unnoticed.
      box = el("aside", { id: "pad-rejected", class: "rejected", "aria-label": "Refused taps" });
      const anchor = document.getElementById("app") || document.querySelector("main");
      if (anchor) anchor.before(box);
      else document.body.prepend(box);
    }
    box.replaceChildren(el("h2", { role: "alert" }, `${st.rejected.length} tap(s) refused by the server`),
      ...st.rejected.map((r) => el("div", { class: "rej", "data-testid": "rejected" },
        el("div", {}, el("b", {}, r.event.type), ` at ${new Date(r.event.at).toLocaleTimeString()}`),
        el("div", { class: "reason" }, r.reason),
        el("button", { class: "btn small", type: "button", onclick: async () => {
          await Outbox.dismiss(r.id);
          changed();
        } }, "Dismiss"))));
  }

  function changed() {
    renderBar();
    for (const fn of listeners) fn();
  }

  // ---- forgotten timer ---------------------------------------------------------------------------------
  function median(values) {
    if (!values.length) return null;
    const v = [...values].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
  /** Running far past the usual length (> 1.5 × median, at most 8 h) and idle for an hour. */
  async function forgotten(now) {
    const lengths = (await Outbox.get("kv", "lengths")) || [];
    const med = median(lengths);
    const limit = med ? Math.min(1.5 * med, 8 * HOUR) : 8 * HOUR;
    const sessions = (await Outbox.all("sessions")).filter((s) => s.status !== "ended" && s.started_at);
    return sessions.find((s) => now - s.started_at > limit && now - s.last_activity > HOUR && !(s.snooze > now));
  }
  // One prompt at a time: the timer and a page load may both check while the first is still looking.
  let checking = false;
  async function checkForgotten() {
    if (checking || document.querySelector("dialog[open]")) return;
    checking = true;
    try {
      await promptForgotten();
    } finally {
      checking = false;
    }
  }
  async function promptForgotten() {
    const s = await forgotten(Date.now());
    if (!s) return;
    const v = await ask("Still playing?", [el("p", {}, `Your ${s.game || ""} session started ` +
      `${new Date(s.started_at).toLocaleString()} and nothing was recorded for ` +
      `${Math.round((Date.now() - s.last_activity) / HOUR)} h.`)], "No, I stopped", "Yes, still playing");
    if (!v) {
      s.snooze = Date.now() + HOUR;
      await Outbox.put("sessions", s);
      return;
    }
    await endSession(s.id, { currency: s.currency, format: s.format, stack: s.stack, startedAt: s.started_at },
      s.last_activity);
  }

  async function learnLengths(list) {
    const ended = list.filter((s) => s.status === "ended" && s.played_seconds > 0).slice(0, 50);
    if (ended.length) await Outbox.put("kv", ended.map((s) => s.played_seconds * 1000), "lengths");
  }

  // ---- wiring ------------------------------------------------------------------------------------------
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-capture]");
    if (!button) return;
    e.preventDefault();
    const action = button.dataset.capture;
    if (action === "start") {
      const id = await start(button.dataset.defaults ? JSON.parse(button.dataset.defaults) : null);
      if (!id) return;
      // The live screen draws the new session from this phone at once; the server's copy follows when it can.
      if (location.pathname === "/capture") location.hash = id;
      else location.href = `/app/live/${id}`;
      return;
    }
    const id = button.dataset.session;
    const ctx = await session(id, document.querySelector(`[data-live-session="${id}"]`));
    if (actions[action]) await actions[action](id, ctx);
  });

  function tickClocks() {
    for (const node of document.querySelectorAll("[data-clock-played]")) {
      const base = Number(node.dataset.clockPlayed) * 1000;
      const since = node.dataset.clockSince ? Date.parse(node.dataset.clockSince) : null;
      node.textContent = clock(base + (since ? Date.now() - since : 0));
    }
  }

  /** Remember the player's usual session length (for the forgotten timer) while the server is reachable. */
  async function learnFromServer() {
    const token = await Outbox.get("kv", "token");
    if (!token || !navigator.onLine) return;
    try {
      const r = await fetch("/api/v1/sessions?limit=100", { headers: { Authorization: `Bearer ${token}` } });
      if (r.ok) await learnLengths(await r.json());
    } catch (e) {
      /* offline: keep what we learnt last time */
    }
  }

  function boot() {
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
    if (typeof Push === "undefined") {
      // The break-suggestions switch (push.js): loaded after the pad, as nothing here waits for it.
      document.head.append(el("script", { src: "/static/push.js", defer: true }));
    }
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    window.addEventListener("online", () => syncNow());
    navigator.serviceWorker && navigator.serviceWorker.addEventListener("message", () => changed());
    renderBar();
    syncNow();
    setInterval(tickClocks, 1000);
    setInterval(checkForgotten, 60 * 1000);
    learnFromServer().finally(() => setTimeout(checkForgotten, 500));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();

  return {
    money, clock, toMinor, record, start, actions, endSession, syncNow, syncSoon, changed, checkForgotten,
    learnLengths, forgotten, onChange: (fn) => listeners.push(fn), el, toast,
  };
})();
