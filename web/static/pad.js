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

  // ---- money ----------------------------------------------------------------------------------------
  // One parser and one formatter (money.js), the same algorithms as shared/money.py over the generated rules.js.
  function money(minor, currency, signed) {
    return minor == null ? "–" : Money.format(minor, currency || "USD", { signed: !!signed });
  }
  const mark = () => Money.decimalMark(navigator.language);
  /** Minor units of an amount field, or throws Money.AmountError with the sentence to show under it. */
  function toMinor(text, currency) {
    return Money.parse(text, currency || "USD", mark());
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

  const UNDO_MS = 6000; // how long a tap's Undo stays on screen
  /** A short message; with ``undo`` it carries an Undo button for UNDO_MS. */
  function toast(text, kind, undo) {
    let box = document.getElementById("pad-toast");
    if (!box) document.body.append((box = el("div", { id: "pad-toast", role: "status", "aria-live": "polite" })));
    const hide = () => (box.className = "toast");
    const wait = () => {
      clearTimeout(toast.timer);
      toast.timer = setTimeout(hide, undo ? UNDO_MS : 2600);
    };
    box.replaceChildren(el("span", { "data-testid": "toast-text" }, text));
    if (undo) {
      box.append(el("button", { type: "button", class: "toast-undo", "data-testid": "toast-undo", onclick: () => {
        hide();
        undo();
      } }, "Undo"));
    }
    // An Undo stays while the finger, pointer or focus is on it (time enough for anyone, WCAG 2.2.1).
    const hold = undo ? () => clearTimeout(toast.timer) : null;
    box.onpointerenter = box.onfocusin = hold;
    box.onpointerleave = box.onfocusout = undo ? wait : null;
    box.className = `toast show ${kind || ""}${undo ? " with-undo" : ""}`;
    wait();
  }

  /** A modal form; resolves with the form's values (or what ``check`` makes of them), or null when cancelled.
   *
   * ``check(values)`` may throw ``{field, message}`` (or a list of them): each message is shown under its field
   * and the dialog stays open, so a value the app cannot read is never saved as another number. */
  function ask(title, fields, submitLabel, cancelLabel, check) {
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
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        for (const old of form.querySelectorAll(".field-error")) old.remove();
        for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
        const values = Object.fromEntries(new FormData(form).entries());
        try {
          finish(check ? await check(values) : values);
        } catch (problems) {
          if (!problems || problems instanceof Error) throw problems;
          showProblems(form, [].concat(problems));
        }
      });
      dialog.showModal();
      const first = form.querySelector("input,textarea,select");
      if (first) first.focus();
    });
  }
  function showProblems(form, problems) {
    let first = null;
    for (const p of problems) {
      const input = form.querySelector(`[name="${p.field}"]`) || form.querySelector("input,select,textarea");
      const id = `err-${p.field}`;
      const note = el("p", { class: "field-error", id, role: "alert", "data-testid": "field-error" }, p.message);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
      const label = input.closest("label");
      if (label) label.append(note);
      else input.after(note);
      first = first || input;
    }
    if (first) first.focus();
  }
  /** Read amount fields: {name: minor units}, or throw the fields' problems for ``ask`` to show. */
  function amounts(values, names, currency) {
    const out = {};
    const problems = [];
    for (const name of names) {
      try {
        out[name] = toMinor(values[name], currency);
      } catch (err) {
        if (!(err instanceof Money.AmountError)) throw err;
        problems.push({ field: name, message: err.message });
      }
    }
    if (problems.length) throw problems;
    return out;
  }
  function field(label, name, attrs) {
    return el("label", { class: "field" }, el("span", {}, label), el("input", { name, ...attrs }));
  }
  const amountField = (label, name, value) =>
    field(label, name, { inputmode: "decimal", autocomplete: "off", required: true, value: value ?? "" });

  // ---- recording ---------------------------------------------------------------------------------------
  // Taps an Undo can take back: a session's start and end are corrected on the detail screen, never voided.
  const UNDOABLE = new Set(["stack.counted", "chips.added", "break.started", "break.ended", "note.added",
    "mood.reported"]);

  /** Record one tap; resolves with the event. Its toast offers Undo, which records an event.voided for it. */
  async function record(sessionId, type, data, feedback) {
    let event;
    try {
      event = await Outbox.record(sessionId, type, data);
    } catch (err) {
      if (err && err.name === "QuotaExceededError") {
        toast("Phone storage is full: this tap was NOT saved. Connect to sync and free space.", "bad");
      } else {
        toast(`Could not save: ${err && err.message}`, "bad");
      }
      throw err;
    }
    const undo = UNDOABLE.has(type)
      ? () => record(sessionId, "event.voided", { event_id: event.id }, `${TAP_WORDS[type]} undone`) : null;
    toast(feedback || "Saved", "good", undo);
    changed();
    Pad.syncSoon(0);
    return event;
  }

  /** An amount field's starting text, written with the player's own decimal mark so it reads back the same. */
  function major(minor, currency) {
    return minor == null ? "" : Money.plain(minor, currency).replace(".", mark());
  }

  async function session(sessionId, node) {
    const local = await Outbox.summary(sessionId);
    return {
      currency: (node && node.dataset.currency) || (local && local.currency) || "USD",
      format: (node && node.dataset.format) || (local && local.format) || "cash",
      stack: node && node.dataset.stack ? Number(node.dataset.stack) : local && local.stack,
      buyIn: node && node.dataset.buyIn ? Number(node.dataset.buyIn) : local && local.buy_in,
      fee: node && node.dataset.fee ? Number(node.dataset.fee) : local && local.fee,
      entrants: local && local.entrants,
      invested: node && node.dataset.invested ? Number(node.dataset.invested) : local && local.invested,
      startedAt: node && node.dataset.startedAt ? Date.parse(node.dataset.startedAt) : local && local.started_at,
      onBreak: node && node.dataset.status ? node.dataset.status === "on_break" : local && local.status === "on_break",
      smallBlind: node && node.dataset.smallBlind ? Number(node.dataset.smallBlind) : local && local.small_blind,
      bigBlind: node && node.dataset.bigBlind ? Number(node.dataset.bigBlind) : local && local.big_blind,
      ante: node && node.dataset.ante ? Number(node.dataset.ante) : local && local.ante,
    };
  }

  /** A tournament's blinds now, in chips, with the count: filled with the level it was at, changed when it goes up. */
  function blindsFields(s) {
    const chipsText = (v) => (v ? String(v) : "");
    return el("fieldset", { class: "blinds" }, el("legend", {}, "Blinds now (chips, optional)"),
      el("div", { class: "row three" },
        field("Small blind", "sb", { inputmode: "numeric", autocomplete: "off", value: chipsText(s.smallBlind) }),
        field("Big blind", "bb", { inputmode: "numeric", autocomplete: "off", value: chipsText(s.bigBlind) }),
        field("Ante", "ante", { inputmode: "numeric", autocomplete: "off", value: chipsText(s.ante) })));
  }

  const COUNT_FIELDS = { "$.data.blinds.small_blind": ["sb", "The small blind is larger than the big blind."] };

  /** A tournament count: the chips, and the blinds when any are typed (a big blind is then needed). */
  function readCount(v) {
    const got = amounts(v, ["amount"], Money.CHIPS);
    const typed = counts({ ...v, ante: /^0*$/.test(v.ante.trim()) ? "" : v.ante }, ["sb", "bb", "ante"]);
    if (typed.sb == null && typed.bb == null && typed.ante == null) return got; // the blinds stay as they were
    if (typed.bb == null) throw [{ field: "bb", message: "Enter the big blind too, or leave the blinds empty." }];
    const data = { amount: got.amount, blinds: { small_blind: typed.sb ?? Math.floor(typed.bb / 2),
      big_blind: typed.bb, ante: typed.ante ?? 0 } };
    const problems = Checks.counted(data).map((p) => COUNT_FIELDS[p.path] || ["bb", `${p.rule} (${p.path})`])
      .map(([where, words]) => ({ field: where, message: words }));
    if (problems.length) throw problems;
    return data;
  }

  /** A tournament counts chips, a cash game money: the same parser and formatter, with chips as the unit. */
  const stackUnit = (s) => (s.format === "cash" ? s.currency : Money.CHIPS);

  const actions = {
    async stack(id, s) {
      const unit = stackUnit(s);
      const cash = s.format === "cash";
      const label = cash ? `Chips in front of you (${s.currency})` : "Chips in front of you";
      const fields = [amountField(label, "amount", major(s.stack, unit))];
      if (!cash) fields.push(blindsFields(s));
      const v = await ask("Stack count", fields, "Save count", null,
        (values) => (cash ? amounts(values, ["amount"], unit) : readCount(values)));
      if (v) await record(id, "stack.counted", v, `Stack ${money(v.amount, unit)} saved`);
    },
    async rebuy(id, s) {
      await chips(id, s, "rebuy", s.format === "cash" ? "Rebuy" : "Re-entry");
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
        el("textarea", { name: "text", rows: 4, maxlength: RULES.events["note.added"].text.max_length,
          required: true }))], "Save note");
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
    const cost = s.format === "cash" ? s.buyIn : (s.buyIn || 0) + (s.fee || 0);
    const v = await ask(label, [amountField(`Amount (${s.currency})`, "amount", major(cost, s.currency))],
      `Add ${label.toLowerCase()}`, null, (values) => amounts(values, ["amount"], s.currency));
    if (v && v.amount) {
      await record(id, "chips.added", { amount: v.amount, kind }, `${label} ${money(v.amount, s.currency)} saved`);
    }
  }

  function localInput(ms) {
    return Outbox.localTime(new Date(ms)).slice(0, 16);
  }

  /** Whole numbers such as place and entrants: blank is "not known", anything else must be a count ≥ 1. */
  function counts(values, names) {
    const out = {};
    const problems = [];
    for (const name of names) {
      const text = String(values[name] || "").trim();
      if (!text) continue;
      try {
        out[name] = Money.parse(text, Money.CHIPS, mark());
        if (out[name] < 1) throw new Money.AmountError("not_a_number", text, Money.CHIPS);
      } catch (err) {
        if (!(err instanceof Money.AmountError)) throw err;
        problems.push({ field: name, message: `“${text}” is not a whole number of 1 or more.` });
      }
    }
    if (problems.length) throw problems;
    return out;
  }

  function endFields(s, realEnd, typed) {
    const fields = s.format === "cash"
      ? [amountField(`Cash out (${s.currency})`, "cash_out", typed.cash_out ?? major(s.stack, s.currency))]
      : [el("div", { class: "row" },
        field("Place", "place", { inputmode: "numeric", autocomplete: "off", value: typed.place ?? "" }),
        field("Entrants", "entrants", { inputmode: "numeric", autocomplete: "off",
          value: typed.entrants ?? (s.entrants ? String(s.entrants) : "") })),
      el("div", { class: "row" },
        field(`Prize (${s.currency})`, "prize", { inputmode: "decimal", autocomplete: "off", value: typed.prize ?? "0" }),
        field(`Bounties (${s.currency})`, "bounties", { inputmode: "decimal", autocomplete: "off",
          value: typed.bounties ?? "0" }))];
    if (realEnd) fields.unshift(field("You stopped playing at", "ended_at", {
      type: "datetime-local", required: true, value: typed.ended_at ?? localInput(realEnd),
      min: s.startedAt ? localInput(s.startedAt) : false, max: localInput(Date.now()),
    }));
    return fields;
  }

  function readEnd(s, values) {
    if (s.format === "cash") return { ...amounts(values, ["cash_out"], s.currency), typed: values };
    const money = amounts({ prize: values.prize || "0", bounties: values.bounties || "0" }, ["prize", "bounties"],
      s.currency);
    const places = counts(values, ["place", "entrants"]);
    if (places.place && places.entrants && places.place > places.entrants) {
      throw [{ field: "place", message: `Place ${places.place} is after the last of ${places.entrants} entrants.` }];
    }
    return { ...money, ...places, typed: values };
  }

  /** End a session; with ``realEnd`` (forgotten timer) the player confirms when they really stopped. A cash-out
   * is confirmed with its result, so a mistyped amount is seen before it ends the session. */
  async function endSession(id, s, realEnd) {
    let typed = {};
    for (;;) {
      const v = await ask(realEnd ? "When did you stop?" : "End session", endFields(s, realEnd, typed),
        "End session", null, (values) => readEnd(s, values));
      if (!v) return false;
      typed = v.typed;
      const data = {};
      if (s.format === "cash") data.cash_out = v.cash_out;
      else for (const k of ["place", "entrants", "prize", "bounties"]) if (v[k] != null) data[k] = v[k];
      if (v.typed.ended_at) {
        // The input keeps whole minutes: the start minute would read as before the start, which the server refuses.
        const real = Math.min(Math.max(new Date(v.typed.ended_at).getTime(), s.startedAt || 0), Date.now());
        data.ended_at = Outbox.localTime(new Date(real));
      }
      const back = s.format === "cash" ? data.cash_out : data.prize + data.bounties;
      const result = s.invested == null ? "" : ` → ${money(back - s.invested, s.currency, true)}`;
      const what = s.format === "cash" ? `Cash-out ${money(back, s.currency)}${result}`
        : `${data.place ? `Place ${data.place}, ` : ""}won ${money(back, s.currency)}${result}`;
      const sure = await ask("End the session?", [el("p", { class: "confirm", "data-testid": "end-confirm" }, what)],
        "End session", "Back");
      if (!sure) continue;
      await record(id, "session.ended", data, `Session ended: ${what}`);
      return true;
    }
  }

  // ---- start ------------------------------------------------------------------------------------------
  const START_FIELDS = { // where each refused path of Checks.start is shown, and in which words
    "$.data.stakes.big_blind": ["bb", "Enter the big blind: a cash game needs one."],
    "$.data.stakes.small_blind": ["sb", "The small blind is larger than the big blind."],
    "$.data.currency": ["currency", "Pick a currency from the list."],
    "$.data.game": ["game_other", `Name the game in 1 to ${RULES.events["session.started"].game.max_length} characters.`],
    "$.data.location": ["location",
      `Keep the location to ${RULES.events["session.started"].location.max_length} characters.`],
    "$.data.buy_in": ["buy_in", "The buy-in is larger than any amount this app keeps."],
    "$.data.fee": ["fee", "The fee is larger than any amount this app keeps."],
    "$.data.bounty": ["bounty", "The bounty is larger than any amount this app keeps."],
  };

  /** Currencies for the picker: the player's recent ones first, then every ISO 4217 code. */
  async function currencyChoices(current) {
    const recent = ((await Outbox.get("kv", "recentCurrencies")) || []).filter((c) => RULES.currency.iso.includes(c));
    const first = [...new Set([current, ...recent].filter((c) => RULES.currency.iso.includes(c)))];
    return [...first, ...RULES.currency.iso.filter((c) => !first.includes(c))];
  }

  function select(name, options, chosen, attrs) {
    return el("select", { name, ...(attrs || {}) }, options.map(([value, label]) =>
      el("option", { value, selected: value === chosen }, label)));
  }

  /** The start form's values as the server's start data; throws the problems for ``ask`` to show inline. */
  function readStart(v) {
    const currency = v.currency;
    const unitOk = RULES.currency.iso.includes(currency);
    const tour = v.format === "tournament";
    const blindNames = [...(v.bb.trim() ? ["bb"] : []), ...(v.sb.trim() ? ["sb"] : [])];
    const names = ["buy_in", ...(tour ? ["fee", "bounty"] : blindNames)];
    const problems = [];
    let got = {};
    try {
      got = unitOk ? amounts({ ...v, fee: v.fee || "0", bounty: v.bounty || "0" }, names, currency) : {};
    } catch (list) {
      if (!Array.isArray(list)) throw list;
      problems.push(...list);
    }
    let stackAt = {};
    try {
      stackAt = tour ? counts(v, ["starting_stack", "entrants"]) : {};
      if (tour) Object.assign(got, counts(v, blindNames)); // a tournament's blinds are chips
    } catch (list) {
      if (!Array.isArray(list)) throw list;
      problems.push(...list);
    }
    const game = v.game === "other" ? v.game_other.trim() : v.game;
    const data = { format: v.format, game, currency, buy_in: got.buy_in ?? 0, location: v.location.trim() };
    if (v.format === "tournament") Object.assign(data, { fee: got.fee ?? 0, bounty: got.bounty ?? 0 }, stackAt);
    if (got.bb != null || v.format === "cash") {
      data.stakes = { small_blind: got.sb ?? Math.floor((got.bb ?? 0) / 2), big_blind: got.bb ?? 0, ante: 0 };
    }
    const named = new Set(problems.map((p) => p.field));
    for (const p of Checks.start(data)) {
      const [where, words] = START_FIELDS[p.path] || [null, null];
      if (where && !named.has(where)) {
        problems.push({ field: where, message: words });
        named.add(where);
      }
    }
    if (problems.length) throw problems;
    return data;
  }

  function startFields(d, currencies) {
    const cur = d.currency;
    const known = RULES.games.includes(d.game);
    const game = select("game", [...RULES.games.map((g) => [g, g]), ["other", "Other…"]], known ? d.game : "other",
      { "data-testid": "start-game" });
    const other = field("Other game", "game_other", { value: known ? "" : d.game || "", autocomplete: "off",
      maxlength: RULES.events["session.started"].game.max_length });
    other.hidden = known;
    game.addEventListener("change", () => (other.hidden = game.value !== "other"));
    const format = select("format", [["cash", "Cash game"], ["tournament", "Tournament"]], d.format,
      { "data-testid": "start-format" });
    const t = d.format === "tournament";
    // A cash game's blinds are money; a tournament's are chips (they go up by level: each count may say them).
    const blindText = (v) => (t ? (v ? String(v) : "") : major(v, cur));
    const cashOnly = el("div", {}, el("div", { class: "row" },
      field("Small blind", "sb", { inputmode: "decimal", autocomplete: "off",
        value: blindText(d.stakes && d.stakes.small_blind) }),
      field("Big blind", "bb", { inputmode: "decimal", autocomplete: "off",
        value: blindText(d.stakes && d.stakes.big_blind) })));
    const tournamentOnly = el("div", {},
      el("div", { class: "row" },
        field("Fee", "fee", { inputmode: "decimal", autocomplete: "off", value: major(d.fee || 0, cur) }),
        field("Bounty", "bounty", { inputmode: "decimal", autocomplete: "off", value: major(d.bounty || 0, cur) })),
      el("div", { class: "row" },
        field("Starting stack (chips)", "starting_stack", { inputmode: "numeric", autocomplete: "off",
          value: d.starting_stack ? String(d.starting_stack) : "" }),
        field("Entrants (later is fine)", "entrants", { inputmode: "numeric", autocomplete: "off" })));
    const blinds = [...cashOnly.querySelectorAll("input")];
    // What each format's blinds hold while the player switches: a tournament's are not the last cash game's.
    const typed = { cash: blinds.map((i) => (t ? "" : i.value)), tournament: blinds.map((i) => (t ? i.value : "")) };
    let shownFormat = d.format;
    const show = () => {
      const tour = format.value === "tournament";
      tournamentOnly.hidden = !tour;
      typed[shownFormat] = blinds.map((i) => i.value);
      shownFormat = format.value;
      blinds.forEach((input, i) => (input.value = typed[shownFormat][i]));
      for (const span of cashOnly.querySelectorAll(".field > span")) {
        span.textContent = span.textContent.replace(/ \(chips, optional\)$/, "") + (tour ? " (chips, optional)" : "");
      }
    };
    format.addEventListener("change", show);
    show();
    return [
      el("label", { class: "field" }, el("span", {}, "Format"), format),
      el("div", { class: "row" }, el("label", { class: "field" }, el("span", {}, "Game"), game),
        el("label", { class: "field" }, el("span", {}, "Currency"),
          select("currency", currencies.map((c) => [c, c]), cur, { "data-testid": "start-currency" }))),
      other,
      amountField("Buy-in", "buy_in", major(d.buy_in, cur)),
      cashOnly,
      tournamentOnly,
      field("Location", "location", { value: d.location || "", autocomplete: "off",
        maxlength: RULES.events["session.started"].location.max_length }),
    ];
  }

  /** The defaults of the start form: the caller's, else the last start the server accepted, else NLH $1/$2. */
  async function startDefaults(defaults) {
    const base = { format: "cash", game: "NLH", currency: "USD", buy_in: 20000,
      stakes: { small_blind: 100, big_blind: 200, ante: 0 }, location: "" };
    // Only values the server would take: a broken session (no game, no currency) seeds nothing.
    const sound = (d) => Object.fromEntries(Object.entries(d || {}).filter(([k, v]) => v !== "" && v != null &&
      (k !== "currency" || RULES.currency.iso.includes(v)) && (k !== "game" || typeof v === "string")));
    if (defaults) return Object.assign(base, sound(defaults));
    const last = await Outbox.get("kv", "lastStart");
    // A start the server refused never seeds the next one.
    const refused = last && (await Outbox.status()).rejected.some((r) => r.event.session_id === last.session_id);
    return Object.assign(base, last && !refused ? sound(last.data) : {});
  }

  /** Ask for a start the server will accept; resolves with its data, or null when cancelled. */
  async function askStart(d, title, submit) {
    return ask(title || "Start a session", startFields(d, await currencyChoices(d.currency)), submit || "Start", null,
      readStart);
  }

  /** Start a session with the defaults of the last one; resolves with the new session id. */
  async function start(defaults) {
    const data = await askStart(await startDefaults(defaults));
    if (!data) return null;
    const id = crypto.randomUUID();
    await record(id, "session.started", data, "Session started");
    await remember(id, data);
    return id;
  }

  async function remember(id, data) {
    await Outbox.put("kv", { session_id: id, data }, "lastStart");
    const recent = (await Outbox.get("kv", "recentCurrencies")) || [];
    await Outbox.put("kv", [data.currency, ...recent.filter((c) => c !== data.currency)].slice(0, 5),
      "recentCurrencies");
  }

  // ---- sync: triggers, backoff, status bar -------------------------------------------------------------
  let syncing = 0;
  /**
   * Send what is waiting now. A fresh reason to try (a tap, the signal back, the Sync button) starts the backoff
   * over; only the retry timer's own attempts lengthen it, so hours offline never leave a 5-minute wait behind.
   */
  async function syncNow(retrying) {
    if (retrying !== true) retryMs = 2000;
    syncing += 1;
    renderBar();
    let outcome;
    try {
      outcome = await Outbox.sync();
    } finally {
      syncing -= 1;
    }
    clearTimeout(retryTimer);
    if (outcome === "retry") {
      // The server's Retry-After wins over our own backoff when it asks for longer.
      retryTimer = setTimeout(() => syncNow(true), Math.max(retryMs, await Outbox.waitMs()));
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

  const taps = (n) => `${n} ${n === 1 ? "tap" : "taps"}`;

  /** What the sync bar says, always the truth: unpaired, offline, syncing, waiting, a problem, or all synced. */
  function barText(st, online, busy) {
    const last = st.lastSync ? new Date(st.lastSync).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : "never";
    const refused = st.rejected.length ? ` · ${taps(st.rejected.length)} refused` : "";
    if (!st.paired) {
      const kept = st.pending ? ` ${taps(st.pending)} saved on this phone meanwhile.` : "";
      return { state: "unpaired", text: `Not paired yet: open the pairing link or QR code from your server on this phone.${
        kept}` };
    }
    const kind = st.problem && st.problem.kind;
    if (kind === "auth" || kind === "server") return { state: kind, text: st.problem.message + refused };
    if (!online || kind === "offline") {
      return { state: "offline", text: `Offline · ${st.pending ? `${taps(st.pending)} saved on this phone`
        : "nothing waiting"}${refused}` };
    }
    if (busy && st.pending) return { state: "syncing", text: `Syncing ${taps(st.pending)}…${refused}` };
    if (st.pending) return { state: "pending", text: `${taps(st.pending)} waiting · last sync ${last}${refused}` };
    // Nothing waiting but something refused is not "all synced": the refusal comes first, in the bar's colour too.
    if (st.rejected.length) {
      return { state: "refused", text: `${taps(st.rejected.length)} refused by the server · the rest synced ${last}` };
    }
    return { state: "synced", text: `All synced · last sync ${last}` };
  }

  async function renderBar() {
    let bar = document.getElementById("pad-sync");
    if (!bar) {
      bar = el("footer", { id: "pad-sync", class: "syncbar", "data-testid": "sync", "aria-label": "Sync" });
      document.body.append(bar);
    }
    const st = await Outbox.status();
    const { state, text } = barText(st, navigator.onLine, syncing > 0);
    bar.dataset.state = state;
    bar.dataset.pending = String(st.pending);
    bar.replaceChildren(
      el("span", { class: `dot ${state}${st.rejected.length ? " refused" : ""}`, "aria-hidden": "true" }),
      el("span", { class: "grow", "data-testid": "sync-text", role: "status" }, text),
      st.rejected.length ? el("a", { class: "btn small", href: "#pad-rejected", "data-testid": "sync-review" }, "Review")
        : el("button", { class: "btn small", type: "button", onclick: () => syncNow() }, "Sync"),
    );
    let box = document.getElementById("pad-rejected");
    if (!st.rejected.length) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      // Above a screen's content, where the player looks first: a refused tap must not go unnoticed. On the live
      // screen it goes after the pad, which it must never push off screen; the sync bar counts it and links here.
      box = el("aside", { id: "pad-rejected", class: "rejected", "aria-label": "Refused taps" });
      const app = document.getElementById("app");
      const main = document.querySelector("main");
      if (app) app.before(box);
      else if (main) main.after(box);
      else document.body.prepend(box);
    }
    // A refused start takes its session's later taps with it (the server refuses them as "not started"): one
    // block per such session, with Fix and resend; every other refused tap on its own, with Dismiss.
    const refusedStarts = st.rejected.filter((r) => r.event.type === "session.started");
    const blocked = new Set(refusedStarts.map((r) => r.event.session_id));
    const single = st.rejected.filter((r) => !blocked.has(r.event.session_id));
    const n = st.rejected.length;
    box.replaceChildren(el("h2", { role: "alert" }, `${n} ${n === 1 ? "tap" : "taps"} refused by the server`),
      ...refusedStarts.map((r) => {
        const waiting = st.rejected.filter((o) => o.event.session_id === r.event.session_id).length - 1;
        return el("div", { class: "rej", "data-testid": "refused-start" },
          el("div", {}, el("b", {}, "This session could not start"),
            ` (${new Date(r.event.at).toLocaleTimeString()})`),
          el("div", { class: "reason" }, `The server said: ${plainReason(r.reason)}`),
          el("div", {}, waiting ? `${waiting} ${waiting === 1 ? "tap waits" : "taps wait"} for it. ` : "",
            "Fix the start and the whole session is sent again."),
          el("div", { class: "row" },
            el("button", { class: "btn small primary", type: "button", "data-testid": "fix-and-resend",
              onclick: () => fixAndResend(r.event) }, "Fix and resend"),
            el("button", { class: "btn small", type: "button", onclick: async () => {
              for (const o of st.rejected.filter((x) => x.event.session_id === r.event.session_id)) {
                await Outbox.dismiss(o.id);
              }
              changed();
            } }, "Dismiss")));
      }),
      ...single.map((r) => el("div", { class: "rej", "data-testid": "rejected" },
        el("div", {}, el("b", {}, TAP_WORDS[r.event.type] || "A tap"), ` at ${new Date(r.event.at).toLocaleTimeString()}`),
        el("div", { class: "reason" }, plainReason(r.reason)),
        el("button", { class: "btn small", type: "button", onclick: async () => {
          await Outbox.dismiss(r.id);
          changed();
        } }, "Dismiss"))));
  }

  /** The server's reason without its JSON paths and event names: "`$.data.stakes.big_blind`" → "big blind". */
  function plainReason(reason) {
    return String(reason)
      .replace(/`\$\.data\.(?:stakes\.)?([\w.]+)`/g, (_, path) => path.replace(/[._]/g, " "))
      .replace(/`\$\.([\w.]+)`/g, (_, path) => path.replace(/[._]/g, " "))
      .replace(/\b(session|stack|chips|break|note|mood|tilt|transaction|event)\.(started|ended|counted|added|reported|recorded|feedback|voided|corrected)\b/g,
        (name) => (TAP_WORDS[name] || "tap").toLowerCase())
      .replace(/`/g, "");
  }

  /** Open the start form filled with the refused start; send the fixed start and the session's taps again. */
  async function fixAndResend(refused) {
    const data = await askStart(Object.assign({}, refused.data), "Fix the start");
    if (!data) return;
    const count = await Outbox.resend(refused.session_id, data);
    await remember(refused.session_id, data);
    toast(`Sending the session again (${count} ${count === 1 ? "tap" : "taps"})`, "good");
    changed();
    syncSoon(0);
  }

  // What a player calls each tap (the wire names such as session.started are for the server).
  const TAP_WORDS = {
    "session.started": "Start", "stack.counted": "Stack count", "chips.added": "Rebuy or add-on",
    "break.started": "Break", "break.ended": "End of break", "note.added": "Note", "mood.reported": "Mood",
    "session.ended": "End of session", "transaction.recorded": "Deposit or withdrawal", "tilt.feedback": "Break answer",
    "event.voided": "Undo or delete", "event.corrected": "Edit",
  };

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
    const sessions = (await Outbox.summaries()).filter((s) => s.status !== "ended" && s.started_at);
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
      await Outbox.put("sessions", { id: s.id, snooze: Date.now() + HOUR });
      return;
    }
    await endSession(s.id, { currency: s.currency, format: s.format, stack: s.stack, startedAt: s.started_at,
      invested: s.invested },
      s.last_activity);
  }

  async function learnLengths(list) {
    const ended = list.filter((s) => s.status === "ended" && s.played_seconds > 0).slice(0, 50);
    if (ended.length) await Outbox.put("kv", ended.map((s) => s.played_seconds * 1000), "lengths");
  }

  // ---- edit and delete of recorded events (the session detail's timeline) ---------------------------------
  // Each is a new event through the outbox (event.corrected with the whole corrected payload, event.voided); the
  // recorded event stays in the history. The rules are the server's: shared/amendments.py, docs/api.md.
  const moodChoices = (score) => el("div", { class: "moods" }, ["1 😣", "2 🙁", "3 😐", "4 🙂", "5 😄"].map((m, i) =>
    el("label", { class: "mood" }, el("input", { type: "radio", name: "score", value: i + 1, required: true,
      checked: i + 1 === score }), el("span", {}, m))));

  const EDITS = {
    async "stack.counted"(data, s) {
      const unit = stackUnit(s);
      const cash = s.format === "cash";
      const fields = [amountField(cash ? `Stack (${s.currency})` : "Chips", "amount", major(data.amount, unit))];
      // A tournament count keeps its blinds unless they are changed here (empty: the level before it counts).
      const b = data.blinds || {};
      if (!cash) fields.push(blindsFields({ smallBlind: b.small_blind, bigBlind: b.big_blind, ante: b.ante }));
      const v = await ask("Edit stack count", fields, "Save change", null,
        (values) => (cash ? amounts(values, ["amount"], unit) : readCount(values)));
      return v && (cash ? { amount: v.amount } : v);
    },
    async "chips.added"(data, s) {
      const v = await ask(`Edit ${TAP_WORDS["chips.added"].toLowerCase()}`, [amountField(`Amount (${s.currency})`,
        "amount", major(data.amount, s.currency))], "Save change", null,
      (values) => amounts(values, ["amount"], s.currency));
      return v && { ...data, amount: v.amount };
    },
    async "note.added"(data) {
      const v = await ask("Edit note", [el("label", { class: "field" }, el("span", {}, "Note"),
        el("textarea", { name: "text", rows: 4, maxlength: RULES.events["note.added"].text.max_length,
          required: true }, data.text))], "Save change");
      return v && v.text.trim() ? { ...data, text: v.text.trim() } : null;
    },
    async "mood.reported"(data) {
      const v = await ask("Edit mood", [moodChoices(data.score)], "Save change");
      return v && v.score ? { score: Number(v.score) } : null;
    },
    async "session.started"(data) {
      const v = await askStart(data, "Edit the start", "Save change");
      // Fields the form does not show stay as they were.
      return v && { table_size: data.table_size, tags: data.tags || [], ...v };
    },
    async "session.ended"(data, s) {
      const typed = s.format === "cash" ? { cash_out: major(data.cash_out, s.currency) }
        : { place: data.place ? String(data.place) : "", entrants: data.entrants ? String(data.entrants) : "",
          prize: major(data.prize || 0, s.currency), bounties: major(data.bounties || 0, s.currency) };
      const v = await ask("Edit the end", endFields(s, null, typed), "Save change", null, (values) => readEnd(s, values));
      if (!v) return null;
      const fixed = { ...data };
      if (s.format === "cash") fixed.cash_out = v.cash_out;
      else {
        for (const k of ["place", "entrants"]) delete fixed[k];
        for (const k of ["place", "entrants", "prize", "bounties"]) if (v[k] != null) fixed[k] = v[k];
      }
      return fixed;
    },
  };

  /** Send an edit from the detail screen now; reload to show it once the server has it. */
  async function settle() {
    await syncNow();
    if ((await Outbox.status()).pending === 0) location.reload();
    else toast("Saved on this phone: the session shows the change once it is synced.", "good");
  }

  async function amend(d) {
    const data = JSON.parse(d.payload);
    const word = TAP_WORDS[d.type] || "Entry";
    const s = { currency: d.currency, format: d.format, invested: null };
    if (d.amend === "delete") {
      const sure = await ask(`Delete this ${word.toLowerCase()}?`, [el("p", { class: "confirm" }, d.describe,
        el("br"), "It stops counting; the history keeps that it was recorded and deleted.")], "Delete", "Keep");
      if (!sure) return;
      await record(d.session, "event.voided", { event_id: d.event }, `${word} deleted`);
    } else {
      const fixed = await EDITS[d.type](data, s);
      if (!fixed) return;
      await record(d.session, "event.corrected", { event_id: d.event, data: fixed }, `${word} changed`);
    }
    await settle();
  }

  document.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-amend]");
    if (!button) return;
    e.preventDefault();
    await amend(button.dataset);
  });

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
    window.addEventListener("offline", () => renderBar());
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
    money, clock, toMinor, record, start, actions, endSession, amend, EDITS, syncNow, syncSoon, changed, checkForgotten,
    learnLengths, forgotten, onChange: (fn) => listeners.push(fn), el, toast, fixAndResend, plainReason,
  };
})();
