/* Pairing: trade the one-time code in the URL fragment (never sent to a server log) for this device's token.
   Behind a proxy with its own root certificate (Caddy's `tls internal`), also offer that root and the steps to
   trust it: until the phone trusts it, no service worker runs here (no offline capture, push or install). */
"use strict";

(async function () {
  const status = document.getElementById("pair-status");
  const form = document.getElementById("pair-form");
  const open = document.getElementById("pair-open");
  const trust = document.getElementById("trust");

  async function offerRoot() {
    let response;
    try {
      response = await fetch("/api/v1/trust", { headers: { Accept: "application/json" } });
    } catch (err) {
      return false; // offline: the page still pairs once back online
    }
    if (!response.ok) return false; // 404: this server has no local root to offer
    const root = await response.json();
    document.getElementById("trust-subject").textContent = root.subject;
    document.getElementById("trust-sha256").textContent = root.sha256;
    document.getElementById("trust-download").href = root.download;
    document.getElementById("trust-qr").src = root.qr;
    trust.hidden = false;
    return true;
  }

  // A service worker registers only from a secure context whose certificate the browser trusts.
  async function serviceWorkerRuns() {
    if (!window.isSecureContext || !("serviceWorker" in navigator)) return false;
    try {
      await navigator.serviceWorker.register("/sw.js");
      return true;
    } catch (err) {
      return false;
    }
  }

  async function pair(code) {
    status.textContent = "Pairing…";
    let response;
    try {
      response = await fetch("/api/v1/devices/pair", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code, label: navigator.userAgentData?.platform || "phone" }),
      });
    } catch (err) {
      status.textContent = "No connection. Connect to the server's network and reload this page.";
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      status.textContent = body.detail || `Pairing failed (${response.status}).`;
      form.hidden = false;
      return;
    }
    const paired = await response.json();
    await Outbox.put("kv", paired.token, "token");
    await Outbox.put("kv", paired.device_id, "device_id");
    await Outbox.put("kv", paired.user_id, "user_id");
    await Outbox.put("kv", null, "problem");
    // The answer also set the token as an HttpOnly cookie, which the server-rendered screens read (docs/pwa.md).
    history.replaceState(null, "", "/pair");
    if (!(await serviceWorkerRuns())) {
      // Paired, but the app would run without its offline queue, push and install: say why and how to fix it.
      status.textContent = (await rootOffered)
        ? "Paired, but this phone does not trust the server's certificate yet, so the app cannot work offline, " +
          "install or alert you. Trust it as shown below, then open the app."
        : "Paired, but this address is not secure (https), so the app cannot work offline, install or alert you. " +
          "Ask whoever runs the server for its https:// address.";
      open.hidden = false;
      return;
    }
    status.textContent = "Paired. Opening the app…";
    location.replace("/app/");
  }

  const rootOffered = offerRoot();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    pair(new FormData(form).get("code").trim());
  });
  const code = decodeURIComponent(location.hash.slice(1));
  if (code) pair(code);
  else {
    status.textContent = "Open the pairing link printed by `bankroll device pair NAME`, or paste its code.";
    form.hidden = false;
  }
})();
