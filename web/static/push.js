/* Web Push on this device: the "Break suggestions" switch, the subscription, and the player's answer to an alert.
 *
 * Shared by the pages (pad.js loads it) and the service worker (importScripts, after outbox.js), so the switch
 * and `pushsubscriptionchange` subscribe the same way, and a notification's buttons record the same events a
 * tap would: `tilt.feedback` {"response": "fine"|"break"} (plus `break.started` for "break") go into the outbox
 * with their id, seq and device time, and reach the server by the outbox's sync rules (docs/pwa.md).
 */
"use strict";

var Push = (function () {
  const ENDPOINT_KEY = "pushEndpoint"; // the endpoint the server accepted, in the outbox's `kv` store
  // A browser whose push service is unreachable may never settle subscribe(): give up and say so.
  const settings = { subscribeTimeoutMs: 20000 };

  /** base64url (the server's VAPID public key) to the bytes pushManager.subscribe wants. */
  function keyBytes(b64url) {
    const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(b64url.length / 4) * 4, "=");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  async function call(method, path, body) {
    const token = await Outbox.get("kv", "token");
    if (!token) throw new Error("This device is not paired: open the pairing link first.");
    const response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    if (!response.ok) {
      let detail = `server answered ${response.status}`;
      try {
        detail = (await response.json()).detail || detail;
      } catch (e) {
        /* not JSON: keep the status */
      }
      throw new Error(`The server refused this device's subscription: ${detail}`);
    }
  }

  /** Subscribe with the server's key and register the subscription for this device's player. */
  async function subscribe(registration) {
    const answer = await fetch("/api/v1/push/key", { cache: "no-store" });
    if (!answer.ok) throw new Error(`Cannot get the server's push key (${answer.status}).`);
    const { public_key: key } = await answer.json();
    let subscription;
    let timer;
    const pending = registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("its push service did not answer")), settings.subscribeTimeoutMs);
    });
    try {
      subscription = await Promise.race([pending, timeout]);
    } catch (err) {
      // Chromium without a push service (headless, de-Googled builds) fails with an AbortError, or never answers;
      // a subscription that still arrives later is dropped, since the server never heard of it.
      pending.then((late) => late.unsubscribe(), () => {});
      throw new Error(`This browser could not subscribe to push messages: ${(err && err.message) || err}. ` +
        "Break suggestions stay off.");
    } finally {
      clearTimeout(timer);
    }
    try {
      await call("POST", "/api/v1/push/subscriptions", subscription.toJSON());
    } catch (err) {
      await subscription.unsubscribe().catch(() => {});
      throw err;
    }
    await Outbox.put("kv", subscription.endpoint, ENDPOINT_KEY);
    return subscription;
  }

  /** Forget the subscription here and on the server (the server part is best effort when offline). */
  async function unsubscribe(registration) {
    const subscription = await registration.pushManager.getSubscription();
    const endpoint = (subscription && subscription.endpoint) || (await Outbox.get("kv", ENDPOINT_KEY));
    if (subscription) await subscription.unsubscribe();
    await Outbox.put("kv", null, ENDPOINT_KEY);
    if (endpoint) await call("DELETE", "/api/v1/push/subscriptions", { endpoint });
  }

  /** After the browser renewed or dropped a subscription: forget the old one and register the new one. */
  async function renew(registration, oldSubscription, newSubscription) {
    const previous = (oldSubscription && oldSubscription.endpoint) || (await Outbox.get("kv", ENDPOINT_KEY));
    if (!previous) return null; // the player never turned suggestions on: do not turn them on behind their back
    if (newSubscription) {
      await call("POST", "/api/v1/push/subscriptions", newSubscription.toJSON());
      await Outbox.put("kv", newSubscription.endpoint, ENDPOINT_KEY);
    } else {
      await subscribe(registration);
    }
    const current = await Outbox.get("kv", ENDPOINT_KEY);
    if (previous !== current) {
      await call("DELETE", "/api/v1/push/subscriptions", { endpoint: previous }).catch(() => {}); // best effort
    }
    return current;
  }

  /** True when this browser holds the subscription the server accepted. */
  async function isOn(registration) {
    if (typeof Notification !== "undefined" && Notification.permission !== "granted") return false;
    const subscription = await registration.pushManager.getSubscription();
    return Boolean(subscription) && subscription.endpoint === (await Outbox.get("kv", ENDPOINT_KEY));
  }

  /** The notification for one push payload (workers/push.py `AlertPayload`). */
  function notification(payload) {
    const reasons = (payload.reasons || []).filter((r) => !String(payload.body || "").includes(r));
    const body = [payload.body || "", ...reasons.map((r) => `· ${r}`)].filter(Boolean).join("\n");
    return {
      title: payload.title || "Bankroll",
      options: {
        body,
        // One notification per session: a newer alert replaces the older one, and says so by buzzing again.
        tag: `tilt-${payload.session_id}`,
        renotify: true,
        requireInteraction: payload.kind !== "reality_check",
        icon: "/static/icons/icon-192.png",
        badge: "/static/icons/icon-192.png",
        actions: (payload.actions || []).map((a) => ({ action: a.action, title: a.title })),
        data: {
          kind: payload.kind,
          session_id: payload.session_id,
          score: payload.score,
          // The live screen is where a player on a break (or back from one) wants to be.
          url: payload.session_id ? `/app/live/${payload.session_id}` : payload.url || "/app/",
        },
      },
    };
  }

  /** The player's answer to an alert, as events in the outbox; "break" also pauses the session clock. */
  async function feedback(sessionId, response) {
    const events = [await Outbox.record(sessionId, "tilt.feedback", { response })];
    if (response === "break") events.push(await Outbox.record(sessionId, "break.started", {}));
    return events;
  }

  // ---- the switch on the home screen: <button data-push-toggle> and <span data-push-status> -------------
  const supported = () => typeof window !== "undefined" && "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window;

  function show(state, message) {
    for (const button of document.querySelectorAll("[data-push-toggle]")) {
      button.dataset.state = state;
      button.setAttribute("aria-pressed", String(state === "on"));
      button.disabled = state === "busy" || state === "unsupported";
      // The visible word sits beside a hidden "Break suggestions", so the name read out contains what is seen.
      const word = button.querySelector("[data-push-word]") || button;
      word.textContent = state === "on" ? "On" : state === "busy" ? "…" : "Off";
    }
    for (const node of document.querySelectorAll("[data-push-status]")) node.textContent = message;
  }

  async function refresh() {
    if (!supported()) {
      show("unsupported", window.isSecureContext === false
        ? "Push messages need https: open the app through the server's https address."
        : "This browser cannot receive push messages.");
      return;
    }
    const registration = await navigator.serviceWorker.ready;
    if (await isOn(registration)) show("on", "You get a notification when a break may help.");
    else if (Notification.permission === "denied") {
      show("off", "Notifications are blocked for this site: allow them in the browser's site settings.");
    } else show("off", "Off: no notifications.");
  }

  async function toggle() {
    const registration = await navigator.serviceWorker.ready;
    const on = await isOn(registration);
    show("busy", on ? "Turning off…" : "Asking for permission…");
    try {
      if (on) {
        await unsubscribe(registration);
        show("off", "Off: this device gets no more break suggestions.");
        return;
      }
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        show("off", permission === "denied"
          ? "Notifications are blocked for this site: allow them in the browser's site settings."
          : "Notifications were not allowed: break suggestions stay off.");
        return;
      }
      show("busy", "Subscribing…");
      await subscribe(registration);
      show("on", "On: you get a notification when a break may help.");
    } catch (err) {
      show(on ? "on" : "off", (err && err.message) || String(err));
    }
  }

  if (typeof document !== "undefined") {
    document.addEventListener("click", (e) => {
      const button = e.target.closest && e.target.closest("[data-push-toggle]");
      if (!button || !supported()) return;
      e.preventDefault();
      toggle();
    });
    // ReactPy draws the switch after the socket connects: fill it in whenever a fresh one appears.
    const seen = new WeakSet();
    new MutationObserver(() => {
      const fresh = [...document.querySelectorAll("[data-push-toggle]")].filter((b) => !seen.has(b));
      if (!fresh.length) return;
      fresh.forEach((b) => seen.add(b));
      refresh().catch(() => {});
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  return { settings, keyBytes, subscribe, unsubscribe, renew, isOn, notification, feedback, refresh, toggle };
})();

if (typeof self !== "undefined") self.Push = Push;
