/* The service worker: precaches the app shell (versioned caches), serves the capture page offline, runs
 * Background Sync of the outbox and shows tilt alerts sent by Web Push (docs/push.md), recording the player's
 * answer through the same outbox. __VERSION__ is replaced by a hash of the shell files when served. */
"use strict";

importScripts("/static/rules.js", "/static/outbox.js", "/static/push.js");

const VERSION = "__VERSION__";
const CACHE = `bankroll-shell-${VERSION}`;
// web/app.py SHELL_FILES, written in when served: one list for the precache, the version hash and the tests.
const SHELL = "__SHELL__";
const NAV_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("bankroll-shell-") && k !== CACHE)
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // The API and ReactPy's socket always go to the network: the outbox, not the cache, covers being offline.
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/_reactpy/stream")) return;
  if (event.request.mode === "navigate") {
    // Network first so screens are fresh; offline (or a dead server) falls back to the capture page.
    const shellPath = url.pathname === "/pair" ? "/pair" : "/capture";
    event.respondWith(
      withTimeout(fetch(event.request), NAV_TIMEOUT_MS).catch(async () => {
        const cache = await caches.open(CACHE);
        return (await cache.match(SHELL.includes(url.pathname) ? url.pathname : shellPath)) || Response.error();
      }),
    );
    return;
  }
  // Shell files: cache first (the version in the cache name changes when any of them does).
  event.respondWith(
    caches.open(CACHE).then(async (cache) => (await cache.match(event.request, { ignoreSearch: true })) ||
      fetch(event.request)),
  );
});

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") {
    event.waitUntil(Outbox.sync().then(async (outcome) => {
      for (const client of await self.clients.matchAll()) client.postMessage({ synced: outcome });
      if (outcome === "retry") throw new Error("retry later"); // asks the browser to retry the sync
    }));
  }
});

async function tellClients(message) {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) client.postMessage(message);
}

/** Send the outbox now; when that cannot finish, leave it to Background Sync (or the pages' retry timer). */
async function syncOutbox() {
  const outcome = await Outbox.sync();
  await tellClients({ synced: outcome });
  if (outcome === "retry" && self.registration.sync) await self.registration.sync.register("outbox").catch(() => {});
  return outcome;
}

self.addEventListener("push", (event) => {
  let payload;
  try {
    payload = event.data ? event.data.json() : null;
  } catch (err) {
    payload = null;
  }
  // userVisibleOnly: every push must show something, even one we cannot read.
  const { title, options } = payload ? Push.notification(payload)
    : { title: "Bankroll", options: { body: "Open the app to see the latest alert.", data: { url: "/app/" } } };
  event.waitUntil(self.registration.showNotification(title, options));
});

async function openApp(url) {
  const target = new URL(url, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = windows.find((c) => c.url === target);
  if (same) return same.focus();
  if (windows.length) {
    const client = await windows[0].focus();
    try {
      return await client.navigate(target);
    } catch (err) {
      /* a window this worker does not control cannot be navigated: open a new one */
    }
  }
  return self.clients.openWindow(target);
}

/**
 * A tap on an alert: its "break" or "fine" button records the answer in the outbox (IndexedDB, a few ms), then
 * the session opens, then the outbox is sent. Opening comes before sending because the browser lets a worker
 * open a window only for a few seconds after the tap, and a bad connection can take longer than that.
 */
async function answerAlert(notification, action) {
  const data = notification.data || {};
  notification.close();
  const answered = (action === "break" || action === "fine") && data.session_id;
  if (answered) await Push.feedback(data.session_id, action);
  await openApp(data.url || "/app/").catch(() => null); // no window to open (or not allowed): the answer still counts
  return answered ? syncOutbox() : "empty";
}

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(answerAlert(event.notification, event.action));
});

self.addEventListener("pushsubscriptionchange", (event) => {
  // Chromium passes no subscriptions here; Firefox passes the old (and sometimes the new) one.
  event.waitUntil(Push.renew(self.registration, event.oldSubscription, event.newSubscription).catch((err) =>
    tellClients({ push: "renew-failed", message: String((err && err.message) || err) })));
});
