/*! paycard embed loader. One tag on any page:
 *  <script src="https://HOST/widget.js" data-brand="BRAND_ID" async></script>
 * It adds a launcher button (in a shadow root, so the page's CSS cannot reach it) and,
 * once the page has loaded (or when the launcher is approached), the chat itself, hidden,
 * in an iframe served by paycard: the widget's code and styles never touch the host page. Fixed positioning: no layout shift. */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  if (!me || w.__paycardLoader) return;
  w.__paycardLoader = true;
  var brand = me.getAttribute("data-brand");
  if (!brand) {
    console.warn("paycard: add data-brand=\"YOUR_BRAND\" to the widget.js script tag");
    return;
  }
  var origin = new URL(me.src, location.href).origin;
  // The visitor's language: the site's explicit choice (data-lang), then ?lang= on the
  // page, then the browser's preferences; English otherwise.
  var asked = me.getAttribute("data-lang") || new URLSearchParams(location.search).get("lang");
  var prefs = asked ? [asked] : (navigator.languages || [navigator.language || "en"]);
  var lang = "en";
  for (var i = 0; i < prefs.length; i++) {
    var p = String(prefs[i]).slice(0, 2).toLowerCase();
    if (p === "en" || p === "es") { lang = p; break; }
  }
  var es = lang === "es";
  var label = es ? ["Abrir chat", "Cerrar chat"] : ["Open chat", "Close chat"];
  var icon = [
    '<path d="M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6A.5.5 0 0 1 5 19.2V16h0A2.5 2.5 0 0 1 4 14z"/>',
    '<path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>'
  ];
  var css =
    ":host{all:initial}" +
    ".l{position:fixed;right:20px;bottom:20px;z-index:2147483646;width:56px;height:56px;border:0;border-radius:50%;" +
    "background:#2743b5;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(20,30,70,.3);display:grid;place-items:center;padding:0}" +
    ".l:hover{background:#1e3597}.l:focus-visible{outline:3px solid #ffbf47;outline-offset:3px}" +
    ".l svg{width:28px;height:28px;fill:currentColor}" +
    ".p{position:fixed;right:20px;bottom:88px;z-index:2147483647;width:380px;height:min(640px,calc(100vh - 112px));" +
    "border-radius:16px;overflow:hidden;box-shadow:0 12px 40px rgba(20,30,70,.28);background:#fff}" +
    ".p[hidden]{display:none}.p iframe{border:0;width:100%;height:100%;display:block}" +
    "@media (max-width:480px){.p{right:8px;left:8px;width:auto;bottom:84px;height:calc(100vh - 96px)}}" +
    // The count of messages written to the visitor while the chat was closed, and the last one.
    ".b{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;" +
    "border-radius:11px;background:#b42318;color:#fff;font:700 12px/22px system-ui,sans-serif;text-align:center}" +
    ".v{position:fixed;right:20px;bottom:88px;z-index:2147483646;max-width:260px;padding:10px 14px;border-radius:14px 14px 4px 14px;" +
    "background:#fff;color:#1f2937;font:14px/1.4 system-ui,sans-serif;box-shadow:0 6px 24px rgba(20,30,70,.22);cursor:pointer;" +
    "overflow:hidden;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical}.v[hidden]{display:none}";
  var panel, button, bubble, frame, open = false, unread = 0, preview = "";
  // A visitor with a conversation: the chat loads early on their next page, so the
  // launcher can show what the operator writes while it is closed.
  var remember = "paycard:active:" + brand;
  function stored(value) {
    try {
      if (value === undefined) return w.localStorage.getItem(remember) === "1";
      if (value) w.localStorage.setItem(remember, "1"); else w.localStorage.removeItem(remember);
    } catch (e) { /* storage refused by the site or the browser: no early load */ }
    return false;
  }

  function tz() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  function makeFrame() {
    if (frame) return;
    frame = d.createElement("iframe");
    frame.title = es ? "Chat con nosotros" : "Chat with us";
    frame.src = origin + "/widget/?brand=" + encodeURIComponent(brand) + "&lang=" + (es ? "es" : "en") +
      "&host=" + encodeURIComponent(location.origin) +
      // For the operator: where the chat starts (no query or fragment) and the local time.
      "&page=" + encodeURIComponent((location.origin + location.pathname).slice(0, 500)) +
      "&tz=" + encodeURIComponent(tz());
    panel.appendChild(frame);
  }

  function draw() {
    var waiting = unread > 0 && !open;
    var name = label[open ? 1 : 0];
    if (waiting) {
      name += es ? (unread === 1 ? ", 1 mensaje nuevo: " : ", " + unread + " mensajes nuevos: ")
                 : (unread === 1 ? ", 1 new message: " : ", " + unread + " new messages: ");
      name += preview;
    }
    button.setAttribute("aria-expanded", String(open));
    button.setAttribute("aria-label", name);
    button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true">' + icon[open ? 1 : 0] + "</svg>" +
      (waiting ? '<span class="b" aria-hidden="true">' + (unread > 99 ? "99+" : unread) + "</span>" : "");
    bubble.textContent = preview;
    bubble.hidden = !waiting || !preview;
  }

  function setOpen(next) {
    open = next;
    if (open) makeFrame();
    panel.hidden = !open;
    draw();
    if (open) focusChat();
    else if (frame && frame.contentWindow) frame.contentWindow.postMessage({ type: "paycard:closed" }, origin);
  }

  // Into the chat: the message box, so typing goes there (a Space typed on the launcher
  // would close the chat again). The first time, the widget is not listening yet: it
  // says "paycard:ready" when it is, and this runs again then.
  function focusChat() {
    frame.focus();
    if (frame.contentWindow) frame.contentWindow.postMessage({ type: "paycard:open" }, origin);
  }

  // The widget asks to close (its own close button, or Escape inside it). Only the
  // iframe we made, from paycard's origin, is listened to.
  w.addEventListener("message", function (e) {
    if (!frame || e.origin !== origin || e.source !== frame.contentWindow) return;
    if (e.data && e.data.type === "paycard:close" && open) {
      setOpen(false);
      button.focus();
    }
    if (e.data && e.data.type === "paycard:ready" && open) focusChat();
    if (e.data && e.data.type === "paycard:unread") {
      unread = Math.max(0, Number(e.data.count) | 0);
      preview = String(e.data.preview || "").slice(0, 200);
      draw();
    }
    if (e.data && e.data.type === "paycard:active") stored(true);
    if (e.data && e.data.type === "paycard:inactive") stored(false);
  });

  function mount() {
    var host = d.createElement("div");
    host.setAttribute("data-paycard-brand", brand);
    var root = host.attachShadow({ mode: "open" });
    // The launcher first: Tab goes from it into the open chat (both are placed by CSS).
    var parts = '<button type="button" class="l" aria-controls="paycard-panel"></button>' +
      '<div class="v" aria-hidden="true" hidden></div>' +
      '<div class="p" id="paycard-panel" hidden></div>';
    // A constructed style sheet, not a <style> element: a site whose CSP forbids inline
    // styles still shows the launcher. Older browsers get the element.
    if ("adoptedStyleSheets" in root && w.CSSStyleSheet && "replaceSync" in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
      root.innerHTML = parts;
    } else {
      root.innerHTML = "<style>" + css + "</style>" + parts;
    }
    panel = root.querySelector(".p");
    button = root.querySelector(".l");
    bubble = root.querySelector(".v");
    button.addEventListener("click", function () { setOpen(!open); });
    bubble.addEventListener("click", function () { setOpen(true); });
    root.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && open) { setOpen(false); button.focus(); }
    });
    // The chat loads before it is asked for, so the click only shows it: as soon as
    // the pointer or the keyboard reaches the launcher, and otherwise once the page has
    // loaded and gone quiet, never in the way of the site itself. Loading it creates
    // nothing on the server (a conversation starts with the first message), and its
    // files are cached for a year. A visitor who asked to save data gets it on
    // approach only, unless they have a conversation (its launcher badge needs it).
    button.addEventListener("pointerenter", makeFrame);
    button.addEventListener("focus", makeFrame);
    button.addEventListener("touchstart", makeFrame, { passive: true });
    setOpen(false);
    d.body.appendChild(host);
    var saveData = navigator.connection && navigator.connection.saveData;
    if (stored() || !saveData) {
      var idle = function () {
        var later = w.requestIdleCallback || function (f) { return setTimeout(f, 1500); };
        later(makeFrame, { timeout: 4000 });
      };
      if (d.readyState === "complete") idle(); else w.addEventListener("load", idle);
    }
  }
  if (d.body) mount(); else d.addEventListener("DOMContentLoaded", mount);
})(window, document);
