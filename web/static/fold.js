/* The session fold in the browser: the live screen draws a session from the phone's own copy of its events.
 *
 * It answers the same as shared/reducer.py (fold, then live_view at `now`), and it is held to that by one golden
 * file, tests/golden/sessions.json, run through both (tests/unit/test_golden_sessions.py for Python,
 * tests/e2e/test_fold_conformance.py for this file in Chromium). Change a rule in the reducer, add its case to the
 * golden file, and this file must follow or the conformance test fails.
 */
"use strict";

var Fold = (function () {
  const MIN_RATED_SECONDS = 60;

  /** Python's round(): halves go to the even neighbour. */
  function roundHalfEven(x) {
    const f = Math.floor(x);
    const diff = x - f;
    if (diff < 0.5) return f;
    if (diff > 0.5) return f + 1;
    return f % 2 === 0 ? f : f + 1;
  }
  /**
   * Python's round(x, 2) (bb/h): decided on x's exact binary value, as toFixed does (34.555 is 34.554999…, so
   * 34.55, where x * 100 would make 3455.5); an exact half (x a multiple of 1/8, like 0.125) goes to even.
   */
  function round2(x) {
    const scaled = x * 100;
    if (Number.isInteger(x * 8) && Math.abs(scaled % 1) === 0.5) return roundHalfEven(scaled) / 100;
    return Number(x.toFixed(2));
  }
  function hourlyRate(amount, seconds) {
    return seconds < MIN_RATED_SECONDS ? null : roundHalfEven((amount * 3600) / seconds);
  }
  function bbPerHour(hourly, bigBlind, format) {
    return hourly == null || !bigBlind || format !== "cash" ? null : round2(hourly / bigBlind);
  }
  /** shared.figures.big_blinds and m_ratio: a tournament stack in whole big blinds, and Harrington's M. */
  function bigBlinds(s) {
    return s.stack == null || !s.big_blind || s.format !== "tournament" ? null : Math.floor(s.stack / s.big_blind);
  }
  function mRatio(s) {
    const cost = s.small_blind + s.big_blind + s.ante;
    if (s.stack == null || !cost || !s.big_blind || s.format !== "tournament") return null;
    return Math.floor((s.stack * 10) / cost) / 10;
  }
  const secs = (ms) => Math.trunc(ms / 1000);

  /** shared.events.Event.order_key: device time, device, seq, id. */
  function compare(a, b) {
    return a.ms - b.ms || cmp(a.device || "", b.device || "") || a.seq - b.seq || cmp(a.id, b.id);
  }
  const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);

  function blank(sessionId) {
    return {
      session_id: sessionId, version: 0, status: "pending", format: "cash", game: "", currency: "", small_blind: 0,
      big_blind: 0, ante: 0, location: "", buy_in: 0, fee: 0, bounty: 0, started_at: null, ended_at: null,
      last_event_at: null, stack: null, starting_stack: null, invested: 0, rebuys: 0, cash_out: null, place: null, entrants: null,
      prize: 0, bounties: 0, tips: 0, jackpot: 0, profit: 0, break_seconds: 0, played_seconds: 0,
      on_break_since: null, last_break_end: null, breaks: [], notes: [], moods: [], stack_points: [],
      tilt_feedback: [],
    };
  }

  function point(s, at) {
    if (s.format === "cash" && s.stack != null) s.stack_points.push([at, s.stack, s.invested]);
  }

  function endBreak(s, at) {
    if (s.on_break_since == null) return;
    s.break_seconds += Math.max(0, secs(at - s.on_break_since));
    if (at > s.on_break_since) s.breaks.push([s.on_break_since, at]);
    s.on_break_since = null;
    s.last_break_end = at;
    if (s.status === "on_break") s.status = "active";
  }

  function start(s, at, d) {
    Object.assign(s, { format: d.format, game: d.game, currency: d.currency });
    if (d.stakes) Object.assign(s, { small_blind: d.stakes.small_blind, big_blind: d.stakes.big_blind,
      ante: d.stakes.ante || 0 });
    s.location = d.location || "";
    s.buy_in = d.buy_in;
    s.fee = d.fee || 0;
    s.bounty = d.bounty || 0;
    s.invested += d.buy_in + s.fee;
    s.started_at = at;
    // Money at a cash game, chips at a tournament (from its starting stack), as shared/reducer.py.
    if (s.stack == null) s.stack = d.format === "cash" ? d.buy_in : (d.starting_stack ?? null);
    s.starting_stack = d.starting_stack ?? null;
    if (s.entrants == null) s.entrants = d.entrants ?? null;
    if (s.status === "pending") s.status = "active";
    point(s, at);
  }

  function finish(s, at, d) {
    let end = d.ended_at ? Date.parse(d.ended_at) : null;
    if (end == null || (s.started_at != null && end < s.started_at)) end = at;
    endBreak(s, end);
    for (const [bStart, bEnd] of s.breaks) if (bEnd > end) s.break_seconds -= secs(bEnd - Math.max(bStart, end));
    s.ended_at = end;
    s.status = "ended";
    s.tips = d.tips || 0;
    s.jackpot = d.jackpot || 0;
    if (s.format === "cash") {
      s.cash_out = d.cash_out != null ? d.cash_out : s.stack;
      s.stack = s.cash_out;
    } else {
      s.place = d.place != null ? d.place : null;
      s.entrants = d.entrants != null ? d.entrants : s.entrants;
      s.prize = d.prize || 0;
      s.bounties = d.bounties || 0;
    }
    point(s, end);
  }

  function apply(s, e) {
    const at = e.ms;
    const d = e.data || {};
    s.version += 1;
    s.last_event_at = at;
    switch (e.type) {
      case "session.started": start(s, at, d); break;
      case "stack.counted":
        s.stack = d.amount; // money at a cash game, chips at a tournament
        if (d.blinds && s.format === "tournament") {  // the level the tournament is at now
          Object.assign(s, { small_blind: d.blinds.small_blind, big_blind: d.blinds.big_blind, ante: d.blinds.ante || 0 });
        }
        point(s, at);
        break;
      case "chips.added":
        s.invested += d.amount;
        s.rebuys += 1;
        if (s.stack != null && s.format === "cash") s.stack += d.amount;
        point(s, at);
        break;
      case "break.started":
        if (s.on_break_since == null && s.status !== "ended") {
          s.on_break_since = at;
          s.status = "on_break";
        }
        break;
      case "break.ended": endBreak(s, at); break;
      case "note.added": s.notes.push({ at, text: d.text, tags: d.tags || [] }); break;
      case "mood.reported": s.moods.push({ at, score: d.score }); break;
      case "session.ended": finish(s, at, d); break;
      case "tilt.feedback": s.tilt_feedback.push(d.response); break;
      default: break;
    }
  }

  function playedSeconds(s, now) {
    if (s.started_at == null) return 0;
    const end = s.ended_at != null ? s.ended_at : now;
    const openBreak = s.on_break_since != null ? secs(end - s.on_break_since) : 0;
    return Math.max(0, secs(end - s.started_at) - s.break_seconds - Math.max(0, openBreak));
  }

  // ---- voids and corrections: shared/amendments.py `effective`, held to tests/golden/amendments.json ----------
  const UNVOIDABLE = new Set(["session.started", "session.ended"]);
  const isAmendment = (e) => e.type === "event.voided" || e.type === "event.corrected";
  /** The correction that counts: the later device time, then the larger event id. */
  const later = (a, b) => a.ms > b.ms || (a.ms === b.ms && a.id > b.id);

  /** The events that count (in the given order), each with its latest correction; voided ones and amendments out. */
  function effective(events) {
    const byId = new Map(events.map((e) => [e.id, e]));
    const voided = new Set();
    const latest = new Map();
    for (const e of events) {
      if (!isAmendment(e)) continue;
      const target = byId.get(e.data.event_id);
      if (!target || isAmendment(target)) continue;
      if (e.type === "event.voided") {
        if (!UNVOIDABLE.has(target.type)) voided.add(target.id);
      } else if (!latest.has(target.id) || later(e, latest.get(target.id))) latest.set(target.id, e);
    }
    return events.filter((e) => !isAmendment(e) && !voided.has(e.id))
      .map((e) => (latest.has(e.id) ? { ...e, data: latest.get(e.id).data.data } : e));
  }

  /** shared.reducer.fold: dedupe by id and by (device, seq) slot, apply voids and corrections, fold in order. */
  function fold(sessionId, events) {
    const sorted = events.map((e) => ({ ...e, ms: Date.parse(e.at) })).sort(compare);
    const ids = new Set();
    const slots = new Set();
    const unique = [];
    for (const e of sorted) {
      const slot = `${e.device || ""}:${e.seq}`;
      if (ids.has(e.id) || slots.has(slot)) continue;
      ids.add(e.id);
      slots.add(slot);
      unique.push(e);
    }
    const s = blank(sessionId);
    for (const e of effective(unique)) apply(s, e);
    s.version = unique.length; // every event recorded, voids and corrections included, as the reducer counts
    if (s.format === "cash") {
      const returned = s.cash_out != null ? s.cash_out : s.stack;
      s.profit = returned != null ? returned - s.invested : -s.invested;
    } else {
      s.profit = s.status === "ended" ? s.prize + s.bounties - s.invested : -s.invested;
    }
    const end = s.ended_at != null ? s.ended_at : s.last_event_at;
    s.played_seconds = end != null ? playedSeconds(s, end) : 0;
    return s;
  }

  /** shared.reducer.live_view: the figures that depend on the clock, at `now` (ms since the epoch). */
  function liveView(s, now) {
    const seconds = s.status !== "ended" ? playedSeconds(s, now) : s.played_seconds;
    const winRate = s.profit - s.jackpot;
    const hourly = hourlyRate(winRate, seconds);
    return { state: s, played_seconds: seconds, hourly, bb_per_hour: bbPerHour(hourly, s.big_blind, s.format),
      win_rate_profit: winRate, net_profit: s.profit - s.tips, big_blinds: bigBlinds(s), m: mRatio(s) };
  }

  return { fold, liveView, playedSeconds, effective };
})();

if (typeof self !== "undefined") self.Fold = Fold;
