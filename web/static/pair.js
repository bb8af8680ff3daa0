/* Pairing: trade the one-time code in the URL fragment (never sent to a server log) for this device's token. */
"use strict";

(async function () {
  const status = document.getElementById("pair-status");
  const form = document.getElementById("pair-form");

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
    status.textContent = "Paired. Opening the app…";
    location.replace("/app/");
  }

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
