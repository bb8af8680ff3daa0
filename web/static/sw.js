/* The service worker: precaches the app shell (versioned caches), serves the capture page offline and runs
 * Background Sync of the outbox. __VERSION__ is replaced by a hash of the shell files when served. */
"use strict";

importScripts("/static/outbox.js");

const VERSION = "__VERSION__";
const CACHE = `bankroll-shell-${VERSION}`;
const SHELL = [
  "/capture",
  "/pair",
  "/static/app.css",
  "/static/outbox.js",
  "/static/pad.js",
  "/static/capture.js",
  "/static/pair.js",
  "/manifest.webmanifest",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/static/icons/maskable-512.png",
];
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
