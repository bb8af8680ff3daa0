/* The offline outbox: every tap becomes an event in IndexedDB first, then goes to POST /api/v1/events.
 *
 * Shared by the pages (<script>) and the service worker (importScripts), so Background Sync and the pages
 * run the same rules:
 *   - an event gets its id (crypto.randomUUID), seq (per session on this device, persisted) and device time
 *     (RFC 3339 with the local offset) at the tap, in the same transaction that queues it;
 *   - batches of at most 500 go out oldest first; an entry leaves the outbox only when the server answered
 *     `accepted` or `duplicate`; a `rejected` one stays, marked with the server's reason, until the player
 *     dismisses it;
 *   - 401 keeps the queue and asks to pair again; 5xx, timeouts and network errors retry with backoff;
 *   - a 503 or 429 with Retry-After (the server's Redis restarting, a rate limit) is honoured: no batch goes out
 *     before that time, whoever asks (a tap, the retry timer, Background Sync); `waitMs()` says how long is left.
 */
"use strict";

var Outbox = (function () {
  const DB_NAME = "bankroll";
  // 2: the "events" store, the phone's copy of each session's events (its own, pending or accepted, and what the
  // server sent), that the live screen folds (fold.js).
  const DB_VERSION = 2;
  const MAX_BATCH = RULES.limits.max_batch; // shared/events.py, through the generated rules.js
  const TIMEOUT_MS = 15000;
  const MAX_RETRY_AFTER_MS = 5 * 60 * 1000;
  let dbPromise = null;
  let syncing = null;

  function open() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = (e) => {
        const db = req.result;
        if (e.oldVersion < 1) {
          db.createObjectStore("kv");
          const outbox = db.createObjectStore("outbox", { keyPath: "id" });
          outbox.createIndex("created", "created");
          db.createObjectStore("seqs");
          db.createObjectStore("sessions", { keyPath: "id" });
        }
        if (e.oldVersion < 2) {
          db.createObjectStore("events", { keyPath: "id" }).createIndex("session", "session_id");
          // Taps still waiting from before the upgrade belong to the phone's copy too.
          const tx = req.transaction;
          tx.objectStore("outbox").openCursor().onsuccess = (c) => {
            const cursor = c.target.result;
            if (!cursor) return;
            if (cursor.value.status === "pending") tx.objectStore("events").put(cursor.value.event);
            cursor.continue();
          };
        }
      };
      req.onsuccess = () => {
        const db = req.result;
        // A newer page or worker upgrades the database: let it, and open again on the next use.
        db.onversionchange = () => {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      req.onerror = () => reject(req.error);
    });
    return dbPromise;
  }

  function done(tx) {
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new DOMException("aborted", "AbortError"));
    });
  }

  function result(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function get(store, key) {
    const db = await open();
    return result(db.transaction(store).objectStore(store).get(key));
  }

  async function put(store, value, key) {
    const db = await open();
    const tx = db.transaction(store, "readwrite");
    tx.objectStore(store).put(value, key);
    return done(tx);
  }

  async function all(store) {
    const db = await open();
    return result(db.transaction(store).objectStore(store).getAll());
  }

  /** RFC 3339 with the device's local offset, e.g. 2026-11-23T21:04:05.120+01:00. */
  function localTime(date) {
    const d = date || new Date();
    const pad = (n, w) => String(Math.abs(n)).padStart(w || 2, "0");
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? "+" : "-";
    return (
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
      `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
    );
  }

  /**
   * Record one tap: id, seq and time are fixed now, in one transaction with the queue entry.
   * Throws a QuotaExceededError when the device is out of storage; nothing already queued is touched.
   */
  async function record(sessionId, type, data) {
    const db = await open();
    const tx = db.transaction(["outbox", "seqs", "sessions", "events"], "readwrite");
    const seqs = tx.objectStore("seqs");
    const sessions = tx.objectStore("sessions");
    const seq = ((await result(seqs.get(sessionId))) || 0) + 1;
    const event = { id: crypto.randomUUID(), session_id: sessionId, seq, type, at: localTime(), data: data || {} };
    seqs.put(seq, sessionId);
    tx.objectStore("outbox").put({ id: event.id, created: Date.now(), status: "pending", event });
    tx.objectStore("events").put(event);
    if (!(await result(sessions.get(sessionId)))) sessions.put({ id: sessionId });
    await done(tx);
    return event;
  }

  /**
   * Fix and resend a session whose start the server refused: in one transaction, its queued entries (the refused
   * start, the taps refused as "not started", any still pending) are replaced by the fixed start and the same taps
   * as NEW events: new ids, the next seq numbers of this device, each keeping its own device time and data. The
   * server stored none of the refused ones, so nothing is counted twice; a void or correction naming one of them
   * is pointed at its new id.
   */
  async function resend(sessionId, startData) {
    const db = await open();
    const tx = db.transaction(["outbox", "seqs", "sessions", "events"], "readwrite");
    const outbox = tx.objectStore("outbox");
    const events = tx.objectStore("events");
    const seqs = tx.objectStore("seqs");
    const old = (await result(outbox.index("created").getAll())).filter((e) => e.event.session_id === sessionId);
    let seq = (await result(seqs.get(sessionId))) || 0;
    const renamed = {};
    const fresh = [];
    const ordered = [...old].sort((a, b) => (a.event.type === "session.started" ? -1 : 0) -
      (b.event.type === "session.started" ? -1 : 0));
    for (const entry of ordered) {
      const ev = entry.event;
      const data = ev.type === "session.started" ? startData : { ...ev.data };
      if (data.event_id && renamed[data.event_id]) data.event_id = renamed[data.event_id];
      const next = { ...ev, id: crypto.randomUUID(), seq: ++seq, data };
      renamed[ev.id] = next.id;
      fresh.push(next);
      outbox.delete(entry.id);
      events.delete(ev.id);
    }
    seqs.put(seq, sessionId);
    const created = Date.now();
    fresh.forEach((ev, i) => {
      outbox.put({ id: ev.id, created: created + i, status: "pending", event: ev });
      events.put(ev);
    });
    await done(tx);
    return fresh.length;
  }

  async function entries() {
    const db = await open();
    return result(db.transaction("outbox").objectStore("outbox").index("created").getAll());
  }

  /** The phone's copy of a session: its own taps (pending or accepted) and the events the server sent. */
  async function sessionEvents(sessionId) {
    const db = await open();
    return result(db.transaction("events").objectStore("events").index("session").getAll(sessionId));
  }

  /**
   * A session as this phone knows it: fold.js (the reducer's rules, voids and corrections included) over its copy,
   * plus what the phone keeps about it (a snoozed "still playing?"). The "sessions" store holds only that, never
   * figures of its own. Null when the phone holds none of its events. Pages only: fold.js is not in the worker.
   */
  async function summary(sessionId) {
    const events = await sessionEvents(sessionId);
    if (!events.length) return null;
    const s = Fold.fold(sessionId, events);
    const kept = (await get("sessions", sessionId)) || {};
    return { ...s, id: sessionId, snooze: kept.snooze || null,
      last_activity: Math.max(...events.map((e) => Date.parse(e.at))) };
  }

  /** Every session this phone recorded a tap in, as summary() draws it. */
  async function summaries() {
    const kept = await all("sessions");
    return (await Promise.all(kept.map((k) => summary(k.id)))).filter(Boolean);
  }

  /**
   * Merge the server's events of a session into the phone's copy. Resolves "ok", "missing" (the server does not
   * know the session: its start may still be in the outbox), "unpaired", "auth" or "offline".
   */
  async function pull(sessionId) {
    const token = await get("kv", "token");
    if (!token) return "unpaired";
    let response;
    try {
      response = await fetch(`/api/v1/sessions/${encodeURIComponent(sessionId)}/events`, {
        headers: { Authorization: `Bearer ${token}` }, cache: "no-store",
      });
    } catch (err) {
      return "offline";
    }
    if (response.status === 404) return "missing";
    if (response.status === 401) return "auth";
    if (!response.ok) return "offline";
    const events = await response.json();
    const db = await open();
    const tx = db.transaction("events", "readwrite");
    for (const e of events) tx.objectStore("events").put(e);
    await done(tx);
    return "ok";
  }

  async function dismiss(id) {
    const db = await open();
    const tx = db.transaction("outbox", "readwrite");
    tx.objectStore("outbox").delete(id);
    return done(tx);
  }

  async function status() {
    const list = await entries();
    return {
      pending: list.filter((e) => e.status === "pending").length,
      rejected: list.filter((e) => e.status === "rejected"),
      lastSync: (await get("kv", "lastSync")) || null,
      problem: (await get("kv", "problem")) || null,
      paired: Boolean(await get("kv", "token")),
    };
  }

  async function sendBatch(token, batch) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      return await fetch("/api/v1/events", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({ events: batch.map((e) => e.event) }),
        signal: controller.signal,
        cache: "no-store",
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Apply the server's answer: accepted and duplicate leave the outbox, rejected stay with the reason. */
  async function settle(batch, answer) {
    const db = await open();
    const tx = db.transaction(["outbox", "events"], "readwrite");
    const store = tx.objectStore("outbox");
    for (const r of answer.results) {
      const entry = batch[r.index];
      if (!entry) continue;
      if (r.status === "accepted" || r.status === "duplicate") store.delete(entry.id);
      else if (r.status === "rejected") {
        store.put({ ...entry, status: "rejected", reason: r.reason || "rejected" });
        tx.objectStore("events").delete(entry.id); // refused: no longer part of the phone's copy
      }
    }
    await done(tx);
  }

  /** Milliseconds a Retry-After header (seconds or an HTTP date) asks to wait, or 0 without one. */
  function retryAfterMs(response) {
    const value = response.headers.get("Retry-After");
    if (!value) return 0;
    const seconds = Number(value);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
    return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : 0;
  }

  /** How long the server asked us to wait before the next batch (0: send now). */
  async function waitMs() {
    const notBefore = (await get("kv", "notBefore")) || 0;
    return Math.max(0, notBefore - Date.now());
  }

  /**
   * Send everything pending, in batches of at most 500. Returns "ok", "empty", "unpaired", "auth" or "retry".
   * Only one sync runs at a time per context; the server's dedupe makes overlap between contexts harmless.
   */
  function sync() {
    if (!syncing) syncing = runSync().finally(() => (syncing = null));
    return syncing;
  }

  async function runSync() {
    const token = await get("kv", "token");
    if (!token) return "unpaired";
    if (await waitMs()) return "retry";
    let sent = false;
    for (;;) {
      const pending = (await entries()).filter((e) => e.status === "pending").slice(0, MAX_BATCH);
      if (!pending.length) break;
      let response;
      try {
        response = await sendBatch(token, pending);
      } catch (err) {
        await put("kv", { kind: "offline", message: "No connection: taps are saved on this phone." }, "problem");
        return "retry";
      }
      if (response.status === 401) {
        await put("kv", { kind: "auth", message: "This device is no longer paired: pair this device again. " +
          "Your unsent taps are kept." }, "problem");
        return "auth";
      }
      if (!response.ok) {
        const wait = response.status === 503 || response.status === 429 ? retryAfterMs(response) : 0;
        if (wait) await put("kv", Date.now() + wait, "notBefore");
        const when = wait ? ` in ${Math.ceil(wait / 1000)} s` : "";
        await put("kv", { kind: "server", message: `Server answered ${response.status}; retrying${when}.` }, "problem");
        return "retry";
      }
      await settle(pending, await response.json());
      sent = true;
    }
    await put("kv", null, "problem");
    await put("kv", Date.now(), "lastSync");
    return sent ? "ok" : "empty";
  }

  return {
    open, get, put, all, record, resend, entries, dismiss, status, sync, waitMs, localTime, sessionEvents, summary,
    summaries, pull, MAX_BATCH,
  };
})();

if (typeof self !== "undefined") self.Outbox = Outbox;
