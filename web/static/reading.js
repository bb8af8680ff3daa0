/* Offline reading: Home, History and session detail as the phone last saw them, marked "as of <time>".
 *
 * The ReactPy screens render on the server, so offline there is nothing to render them. Instead, each time one of
 * them has finished drawing online, this script keeps a copy of the screen (its <main>, as the server drew it) in
 * IndexedDB under its address. Offline, the service worker answers a navigation with the shell page, and the shell
 * draws the copy kept for that address under a banner saying when it was taken. No figure is computed again here:
 * the copy holds the server's own numbers. Its capture buttons still work (pad.js records into the outbox), and the
 * Capture tab is one tap away.
 */
"use strict";

var Reading = (function () {
  const key = (path) => `page:${path.replace(/\/+$/, "") || "/"}`;

  /** A screen worth keeping: drawn (not "Loading…") and not an error notice. */
  function finished(main) {
    if (main.querySelector("section[role=status] h1")) return false;
    return main.textContent.trim() !== "Loading…";
  }

  async function save() {
    const main = document.querySelector("#app main[data-screen]");
    if (!main || !finished(main)) return;
    const copy = main.cloneNode(true);
    // Inline styles would be refused by the Content-Security-Policy when the copy is drawn again.
    for (const node of copy.querySelectorAll("[style]")) node.removeAttribute("style");
    await Outbox.put("kv", { html: copy.innerHTML, screen: main.dataset.screen, at: Date.now() }, key(location.pathname));
  }

  /** On a ReactPy page: keep a copy of the screen each time it settles (its socket may redraw it any time). */
  function keep() {
    const app = document.getElementById("app");
    if (!app || typeof MutationObserver === "undefined") return;
    let timer = null;
    new MutationObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(() => save().catch(() => {}), 300);
    }).observe(app, { subtree: true, childList: true, characterData: true });
  }

  /** In the shell page, offline: draw the copy kept for this address into ``root``. */
  async function show(root) {
    const { el } = Pad;
    const kept = await Outbox.get("kv", key(location.pathname));
    const capture = el("a", { class: "btn small", href: "/capture", "data-testid": "offline-capture" }, "Capture");
    if (!kept) {
      root.replaceChildren(el("section", { class: "card", "data-testid": "offline-missing" },
        el("h1", {}, "Not saved on this phone"),
        el("p", { class: "muted" }, "You are offline, and this screen was never opened here while online. " +
          "Taps still work: use the capture pad."), capture));
      return;
    }
    const at = new Date(kept.at);
    const today = at.toDateString() === new Date().toDateString();
    const when = at.toLocaleString([], { weekday: today ? undefined : "short", hour: "2-digit", minute: "2-digit" });
    const banner = el("div", { class: "offline-copy", role: "status", "data-testid": "offline-copy" },
      el("span", {}, `Offline copy, as of ${when}`), capture);
    root.dataset.screen = kept.screen;
    root.innerHTML = kept.html;
    root.prepend(banner);
  }

  // Every server-drawn screen: /app/live/<id> is the live screen, which the shell draws itself.
  const offlineScreen = (path) => /^\/app(\/(?!live\/).*)?$/.test(path);
  return { keep, show, save, offlineScreen };
})();

if (typeof self !== "undefined") self.Reading = Reading;
if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", Reading.keep);
  else Reading.keep();
}
