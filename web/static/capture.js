/* The live screen, drawn on the phone from the phone's own copy of the session (local-first).
 *
 * Served at /app/live/<id> and at /capture (#<id>), online or not. What it shows is fold.js over the session's
 * events in IndexedDB: this phone's taps (pending or accepted) plus the events the server sent. So a tap shows at
 * once, with no server round trip, and with no signal at all. When the server can be reached its events are merged
 * in (GET /api/v1/sessions/<id>/events, again after each update its SSE stream announces), so another device's
 * taps appear too. A 404 while this phone's start is still in the outbox means "waiting to sync", never an error:
 * the screen keeps drawing the phone's copy and keeps asking. docs/pwa.md has the design.
 */
"use strict";

(function () {
  const { el, money, clock } = Pad;
  const root = document.getElementById("capture");
  // The shell stands in for Home, History or a session's detail when they cannot load: their copy, marked as such.
  if (Reading.offlineScreen(location.pathname)) {
    Reading.show(root);
    return;
  }
  const onLive = location.pathname.startsWith("/app/live/");
  // The live screen keeps the ids its tests and the push alerts know; the capture page its own.
  const ids = onLive
    ? { card: "live", button: "live", stack: "stack", invested: "invested", profit: "profit", hourly: "hourly",
      clock: "clock", start: "start-session" }
    : { card: "capture-session", button: "capture", stack: "figure-stack", invested: "figure-invested",
      profit: "figure-profit", hourly: "figure-hourly", clock: "capture-clock", start: "capture-start" };
  const server = { state: "unknown", stream: null, retryMs: 1000, timer: null };

  function wanted() {
    return onLive ? decodeURIComponent(location.pathname.slice("/app/live/".length)) : location.hash.slice(1);
  }

  /** The session to show: the one named by the address, else the newest running one on this phone. */
  async function currentId() {
    const id = wanted();
    if (id) return id;
    const open = (await Outbox.summaries()).filter((s) => s.started_at && s.status !== "ended");
    const newest = open.sort((a, b) => b.started_at - a.started_at)[0];
    return newest ? newest.id : null;
  }

  async function localView(id) {
    const events = await Outbox.sessionEvents(id);
    if (!events.length) return null;
    return Fold.liveView(Fold.fold(id, events), Date.now());
  }

  function bigButton(action, label, id, extra) {
    return el("button", { class: `btn big ${extra || ""}`, type: "button", "data-capture": action, "data-session": id,
      "data-testid": `${ids.button}-${action}` }, label);
  }

  function stat(label, value, cls, testid) {
    return el("div", { class: "stat" }, el("span", { class: "label" }, label),
      el("span", { class: `value ${cls || ""}`, "data-testid": testid }, value));
  }
  const tone = (amount) => (!amount ? "" : amount > 0 ? "up" : "down");

  function stakes(s) {
    const whole = (minor) => money(minor, s.currency).replace(/[.,]0+(?=\D*$)/, "");
    return s.big_blind ? `${s.game} ${whole(s.small_blind)}/${whole(s.big_blind)}` : `${s.game} ${
      s.format === "cash" ? "cash" : "tournament"}`;
  }

  /** Stack (solid) and money invested (dashed) as steps over time, like the session detail's chart. */
  function chart(points, currency) {
    if (points.length < 2) {
      return el("p", { class: "muted small", "data-testid": "chart-empty" }, "The chart starts with your second count.");
    }
    const W = 360;
    const H = 160;
    const t0 = points[0][0];
    const spanT = Math.max(points[points.length - 1][0] - t0, 1);
    const values = points.flatMap((p) => [p[1], p[2]]);
    const low = Math.min(...values);
    const high = Math.max(...values);
    const xy = (t, v) => `${(8 + ((t - t0) / spanT) * (W - 16)).toFixed(1)},${
      (18 + (1 - (v - low) / Math.max(high - low, 1)) * (H - 36)).toFixed(1)}`;
    const steps = (i) => points.flatMap((p, k) => (k ? [xy(p[0], points[k - 1][i]), xy(p[0], p[i])] : [xy(p[0], p[i])]));
    const NS = "http://www.w3.org/2000/svg";
    const svg = (tag, attrs, text) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text) node.textContent = text;
      return node;
    };
    const box = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "data-testid": "chart",
      "data-points": String(points.length), "aria-label": `Stack over time, ${points.length} counts` });
    box.append(svg("polyline", { class: "invested", points: steps(2).join(" ") }),
      svg("polyline", { class: "stack", points: steps(1).join(" ") }),
      svg("text", { x: "8", y: "13" }, money(high, currency)), svg("text", { x: "8", y: String(H - 4) }, money(low, currency)));
    return box;
  }

  /** A cash stack is money; a tournament stack is chips, with big blinds and M when the blinds are known. */
  function stackText(view) {
    const s = view.state;
    if (s.format === "cash") return money(s.stack, s.currency);
    if (s.stack == null) return "–";
    const chips = money(s.stack, Money.CHIPS);
    if (view.big_blinds == null) return chips;
    return [chips, el("span", { class: "sub", "data-testid": "stack-depth" },
      `${view.big_blinds.toLocaleString()} BB · M ${view.m.toFixed(1)}`)];
  }

  function syncNote(view, pendingStart) {
    if (server.state === "missing" && pendingStart) return "Waiting to sync: this session is saved on this phone.";
    if (server.state === "missing") return "Not on the server yet: it shows here once the phone that started it syncs.";
    if (server.state === "offline") return "Offline: figures from this phone's copy.";
    return null;
  }

  function noSession() {
    return [el("section", { class: "card" }, el("h1", {}, "No session running"),
      el("p", { class: "muted" }, "Everything you record here is saved on this phone and synced when online.")),
    el("button", { class: "btn big primary", type: "button", "data-capture": "start", "data-testid": ids.start },
      "Start a session")];
  }

  function screen(view, pendingStart) {
    const s = view.state;
    const sid = s.session_id;
    const ended = s.status === "ended";
    // bb/h on a line of its own: the tile stays two lines however large the figures.
    const bb = view.bb_per_hour != null ? el("span", { class: "sub" }, `${view.bb_per_hour >= 0 ? "+" : ""}${
      view.bb_per_hour.toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} bb/h`)
      : null;
    const note = syncNote(view, pendingStart);
    const card = el("section", { class: "card live", "data-live-session": sid, "data-currency": s.currency,
      "data-format": s.format, "data-status": s.status, "data-stack": s.stack == null ? "" : String(s.stack),
      "data-buy-in": String(s.buy_in), "data-fee": String(s.fee), "data-small-blind": String(s.small_blind),
      "data-big-blind": String(s.big_blind), "data-ante": String(s.ante), "data-invested": String(s.invested), "data-started-at": s.started_at ? new Date(s.started_at).toISOString() : "",
      "data-version": String(s.version), "data-server": server.state, "data-testid": ids.card },
    el("div", { class: "title" }, el("h1", {}, stakes(s)),
      el("span", { class: `pill ${s.status}`, "data-testid": "status" }, s.status.replace("_", " "))),
    el("div", { class: "clock", role: "timer", "aria-label": "Time played", "data-testid": ids.clock },
      clock(view.played_seconds * 1000)),
    el("div", { class: "stats" },
      stat("Stack", stackText(view), "", ids.stack),
      stat("Invested", money(s.invested, s.currency), "", ids.invested),
      stat("Profit", money(s.profit, s.currency, true), tone(s.profit), ids.profit),
      stat("Hourly", [view.hourly == null ? "–" : money(view.hourly, s.currency, true), bb], tone(view.hourly),
        ids.hourly)),
    note ? el("p", { class: "muted small", "data-testid": "live-sync-note", role: "status" }, note) : null);
    const pad = ended
      ? el("div", { class: "pad" }, el("a", { class: "btn big", href: `/app/sessions/${sid}` }, "Session details"),
        el("button", { class: "btn big primary", type: "button", "data-capture": "start", "data-testid": ids.start },
          "Start another"))
      : el("div", { class: "pad", role: "group", "aria-label": "Record" },
        bigButton("stack", "Stack count", sid, "primary"),
        bigButton("rebuy", s.format === "cash" ? "Rebuy" : "Re-entry", sid),
        bigButton("addon", s.format === "cash" ? "Top-up" : "Add-on", sid),
        bigButton("break", s.status === "on_break" ? "End break" : "Break", sid),
        bigButton("note", "Note", sid),
        bigButton("mood", "Mood", sid),
        bigButton("end", "End session", sid, "danger wide"));
    const notes = s.notes.slice(-5).reverse();
    const more = el("section", { class: "card" }, el("h2", {}, "Stack"), chart(s.stack_points, s.currency));
    const noteCard = notes.length ? el("section", { class: "card" }, el("h2", {}, "Notes"),
      el("ul", { class: "timeline" }, notes.map((n) => el("li", {},
        el("time", {}, new Date(n.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
        el("span", {}, n.text))))) : null;
    return [el("div", { class: "two" }, el("div", { class: "stack-col" }, card, pad),
      el("div", { class: "stack-col" }, more, noteCard))];
  }

  /**
   * A session whose start the server refused is not "waiting" nor "not on the server yet": it says so, why, what is
   * kept, and offers the one way forward (the refusal's own Fix and resend, as the refused-taps box has).
   */
  function refusedStart(refused, kept) {
    return [el("section", { class: "card", "data-testid": "live-refused-start" },
      el("h1", {}, "This session could not start"),
      el("p", { role: "alert" }, `The server said: ${Pad.plainReason(refused.reason)}`),
      el("p", { class: "muted" }, `${kept ? `${kept} ${kept === 1 ? "tap is" : "taps are"} kept on this phone. `
        : ""}Fix the start and the whole session is sent again.`),
      el("button", { class: "btn big primary", type: "button", "data-testid": "live-fix-and-resend",
        onclick: () => Pad.fixAndResend(refused.event) }, "Fix and resend"))];
  }

  let shown = null;
  let drawn = null;

  async function render() {
    const id = await currentId();
    const view = id ? await localView(id) : null;
    const queued = id ? (await Outbox.entries()).filter((e) => e.event.session_id === id) : [];
    const pendingStart = queued.some((e) => e.status === "pending" && e.event.type === "session.started");
    const refused = queued.find((e) => e.status === "rejected" && e.event.type === "session.started");
    drawn = refused ? null : view;
    // Rebuild only when what is shown changed: a rebuild under a finger would swallow the tap.
    const signature = JSON.stringify([view && view.state, server.state, pendingStart, refused && refused.id,
      queued.length]);
    if (signature === shown) return;
    shown = signature;
    if (id && !onLive && location.hash.slice(1) !== id) history.replaceState(null, "", `#${id}`);
    if (refused) {
      root.replaceChildren(...refusedStart(refused, queued.length - 1));
      return;
    }
    if (!view) {
      if (id && server.state !== "unpaired") {
        root.replaceChildren(el("section", { class: "card", "data-testid": "live-waiting" },
          el("h1", {}, "Session"), el("p", { class: "muted", role: "status" }, server.state === "missing"
            ? "This session is not on this phone, and not on the server yet. It shows here as soon as it is."
            : "Looking for this session…")));
      } else root.replaceChildren(...noSession());
      return;
    }
    root.replaceChildren(...screen(view, pendingStart));
  }

  // ---- the server's copy: pulled now, after each sync, and whenever its stream says the session changed ----
  async function pull() {
    const id = await currentId();
    if (!id) return;
    clearTimeout(server.timer);
    const outcome = await Outbox.pull(id);
    server.state = outcome;
    if (outcome === "ok") {
      server.retryMs = 1000;
      follow(id);
    } else if (outcome !== "unpaired" && outcome !== "auth") {
      // Not there yet (its start is still on the way) or no signal: ask again, a little later each time.
      server.timer = setTimeout(pull, server.retryMs);
      server.retryMs = Math.min(server.retryMs * 2, 15000);
    }
    render();
  }

  async function follow(id) {
    if (server.stream || typeof EventSource === "undefined") return;
    const token = await Outbox.get("kv", "token");
    const stream = new EventSource(`/api/v1/sessions/${encodeURIComponent(id)}/stream?token=${encodeURIComponent(token)}`);
    server.stream = stream;
    let version = null;
    stream.addEventListener("state", (e) => {
      const v = JSON.parse(e.data).state.version;
      if (v !== version) {
        version = v;
        Outbox.pull(id).then(render);
      }
    });
    stream.onerror = () => {
      if (stream.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      server.stream = null;
      server.state = "offline";
      render();
      server.timer = setTimeout(pull, server.retryMs);
    };
  }

  Pad.onChange(() => {
    render();
    if (server.state !== "ok") pull();
  });
  window.addEventListener("hashchange", () => {
    shown = null;
    if (server.stream) server.stream.close();
    server.stream = null;
    pull();
  });
  window.addEventListener("online", pull);
  setInterval(() => {
    const node = document.querySelector(`[data-testid=${ids.clock}]`);
    if (node && drawn && drawn.state.status !== "ended") {
      node.textContent = clock(Fold.playedSeconds(drawn.state, Date.now()) * 1000);
    }
  }, 1000);
  render().then(pull);
})();
