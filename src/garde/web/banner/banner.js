/*! garde cookie banner — docs/banner.md. No dependency; talks to the garde server it came from only.
 * <script src="https://garde.example/banner/v1/banner.js" data-garde-register="reference-shop" defer></script>
 * <a href="#" data-garde-open>Cookies</a> reopens it; window.garde.open() too.
 * <script type="text/plain" data-garde-category="cookie.analytics" src="..."></script> runs once consented.
 * Theme (CSS custom properties on the page, e.g. :root): --garde-bg, --garde-fg, --garde-accent, --garde-on-accent,
 * --garde-focus, --garde-font, --garde-radius, --garde-border (docs/web.md, "Theming the banner").
 */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.garde) return;
  var register = me.getAttribute("data-garde-register") || "";
  var base = new URL(".", me.src).href;  // .../banner/v1/
  var key = "garde:" + register;
  var langs = ["fr", "en", "it"];
  var pageLang = (me.getAttribute("data-garde-lang") || document.documentElement.lang || "").slice(0, 2).toLowerCase();
  var config = null, host = null, root = null, dialog = null, before = null;
  var gpc = navigator.globalPrivacyControl === true;  // refuses targeted advertising, whatever is clicked
  var GPC_REFUSES = ["cookie.advertising"];

  function stored() {
    try { return JSON.parse(localStorage.getItem(key) || "null") || {}; } catch (e) { return {}; }
  }
  function store(record) {
    try { localStorage.setItem(key, JSON.stringify(record)); } catch (e) { /* private mode: asked again */ }
  }
  function visitorId() {  // a random UUID v4, made here and kept on this site only
    var kept = stored().visitor;
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(kept || "")) return kept;
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function current() {  // the choice remembered, if made on this banner's version and not expired
    var r = stored();
    return r.choices && config && r.version === config.version && r.expires > Date.now() ? r.choices : null;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (c) { if (c) node.append(c); });
    return node;
  }
  function passages(list) {  // register texts: each passage tagged with its language
    return (list || []).map(function (p) {
      return p.lang === config.lang ? document.createTextNode(p.text) : el("span", {lang: p.lang}, [p.text]);
    });
  }
  function button(text, action, cls) {
    var b = el("button", {type: "button", "class": cls || "b"}, [text]);
    b.addEventListener("click", action);
    return b;
  }

  var CSS = ":host{all:initial}" +
    ".d{position:fixed;z-index:2147483000;left:0;right:0;bottom:0;max-height:90vh;overflow:auto;box-sizing:border-box;" +
    "background:var(--garde-bg,#fff);color:var(--garde-fg,#1a1a1a);font:16px/1.5 var(--garde-font,system-ui,sans-serif);" +
    "border-top:3px solid var(--garde-accent,#1d4e89);box-shadow:0 -4px 24px rgba(0,0,0,.25);padding:1rem 1.25rem}" +
    ".i{max-width:60rem;margin:0 auto;position:relative}h2{font-size:1.25rem;margin:0 2.5rem .5rem 0}p{margin:.25rem 0 .75rem}" +
    ".r{display:flex;gap:.75rem;flex-wrap:wrap}.r .b{flex:1 1 0;min-width:12rem}" +
    ".b{font:inherit;font-weight:600;padding:.7rem 1rem;border-radius:var(--garde-radius,.35rem);cursor:pointer;" +
    "background:var(--garde-accent,#1d4e89);color:var(--garde-on-accent,#fff);border:2px solid var(--garde-accent,#1d4e89)}" +
    ".b:focus-visible,.x:focus-visible,summary:focus-visible,input:focus-visible{outline:3px solid var(--garde-focus,#c2410c);outline-offset:2px}" +
    ".x{position:absolute;top:0;right:0;font:inherit;font-size:1.5rem;line-height:1;width:2.5rem;height:2.5rem;" +
    "background:transparent;color:inherit;border:1px solid currentColor;border-radius:var(--garde-radius,.35rem);cursor:pointer}" +
    ".c{border:1px solid var(--garde-border,#8a8a8a);border-radius:var(--garde-radius,.35rem);margin:0 0 .75rem;padding:.5rem .75rem}" +
    ".c>div,.c>p{margin:0}ul{margin:.25rem 0;padding-left:1.25rem}label{font-weight:600}" +
    "details{margin:.25rem 0}@media (max-width:40rem){.r{flex-direction:column}.r .b{min-width:0;flex:none;width:100%}}";

  function style(shadow) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];  // no inline <style>: works under a strict style-src
    } catch (e) {
      shadow.append(el("style", {}, [CSS]));
    }
  }

  function categoryBlock(c, checked, editable) {
    var id = "g-" + (c.id || "other").replace(/\W/g, "-");
    var head = editable
      ? el("div", {}, [(function () {
          var box = el("input", {type: "checkbox", id: id, "data-category": c.id});
          box.checked = !!checked;
          box.disabled = gpc && GPC_REFUSES.indexOf(c.id) >= 0;
          return box;
        })(), " ", el("label", {"for": id}, passages(c.label))])
      : el("p", {}, [el("strong", {}, passages(c.label)), " — ", c.choice ? "" : config.texts.necessary]);
    var trackers = el("ul", {}, c.trackers.map(function (t) {
      return el("li", {}, [t.name, " — ", config.texts.provider, ": "].concat(passages(t.provider),
        ["; ", config.texts.lifetime, ": "], passages(t.lifetime)));
    }));
    return el("div", {"class": "c"}, [head,
      el("ul", {}, c.purposes.map(function (p) { return el("li", {}, passages(p)); })),
      el("details", {}, [el("summary", {}, [config.texts.trackers]), trackers])]);
  }

  function asked() { return config.categories.filter(function (c) { return c.choice; }); }
  function all(value) {
    var out = {};
    asked().forEach(function (c) { out[c.id] = value; });
    return out;
  }

  function render(layer) {
    var t = config.texts, kept = current() || {};
    var inner = el("div", {"class": "i"}, [
      el("h2", {id: "g-title"}, [t.title]),
      el("p", {id: "g-intro"}, [t.intro]),
      button("×", function () { choose(all(false)); }, "x"),
    ]);
    inner.lastChild.setAttribute("aria-label", t.close);
    if (layer === "customise") {
      config.categories.forEach(function (c) { inner.append(categoryBlock(c, kept[c.id], c.choice)); });
      inner.append(el("div", {"class": "r"}, [
        button(t.refuse_all, function () { choose(all(false)); }),
        button(t.accept_all, function () { choose(all(true)); }),
        button(t.save, function () {
          var picked = {};
          root.querySelectorAll("input[data-category]").forEach(function (box) {
            picked[box.getAttribute("data-category")] = box.checked;
          });
          choose(picked);
        })]));
    } else {
      inner.append(el("ul", {}, asked().map(function (c) {
        return el("li", {}, passages(c.label).concat([": "], [].concat.apply([], c.purposes.map(function (p, i) {
          return (i ? ["; "] : []).concat(passages(p));
        }))));
      })));
      inner.append(el("div", {"class": "r"}, [
        button(t.accept_all, function () { choose(all(true)); }),
        button(t.refuse_all, function () { choose(all(false)); }),
        button(t.customise, function () { show("customise"); })]));
    }
    return inner;
  }

  function show(layer) {
    if (!config) return;
    if (!host) {
      host = el("div", {id: "garde-banner"});
      root = host.attachShadow({mode: "open"});
      style(root);
      document.body.append(host);
    }
    if (!dialog) before = document.activeElement;
    root.replaceChildren();
    dialog = el("section", {"class": "d", role: "dialog", "aria-modal": "false", "aria-labelledby": "g-title",
                            "aria-describedby": "g-intro", lang: config.lang, tabindex: "-1"}, [render(layer)]);
    dialog.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); choose(all(false)); }  // closing is refusing
    });
    root.append(dialog);
    (layer === "customise" ? root.querySelector("input") || dialog : dialog).focus();
  }

  function hide() {
    if (host) { host.remove(); host = root = dialog = null; }
    if (before && before.isConnected && before.focus) before.focus();
    before = null;
  }

  function choose(choices) {
    if (gpc) GPC_REFUSES.forEach(function (id) { if (id in choices) choices[id] = false; });
    var previous = current() || {};
    var visitor = visitorId();
    var months = config.months;
    var expires = new Date();
    expires.setMonth(expires.getMonth() + months);
    store({visitor: visitor, version: config.version, choices: choices, at: Date.now(), expires: expires.getTime()});
    hide();
    var withdrawn = Object.keys(previous).some(function (id) { return previous[id] && !choices[id]; });
    var sent = fetch(base + encodeURIComponent(register) + "/choices", {
      // text/plain: a request without preflight, so that it survives the page's unload (keepalive);
      // garde reads it as JSON and refuses it from an origin not allowed (Origin is always sent).
      method: "POST", mode: "cors", credentials: "omit", keepalive: true,
      headers: {"Content-Type": "text/plain;charset=UTF-8"},
      body: JSON.stringify({visitor_id: visitor, lang: config.lang, version: config.version, choices: choices,
                            gpc: gpc}),
    }).then(function (answer) {
      if (answer.status === 409) { store({visitor: visitor}); location.reload(); }
      return answer.status;
    }, function () { return 0; });
    document.dispatchEvent(new CustomEvent("garde:choice", {detail: {choices: choices, sent: sent}}));
    if (withdrawn) {  // a script already running cannot be stopped: forget its cookies, then reload
      sent.then(function () { forget(choices); location.reload(); });
    } else {
      activate(choices);
    }
  }

  function forget(choices) {
    config.categories.forEach(function (c) {
      if (!c.choice || choices[c.id]) return;
      c.trackers.forEach(function (t) {
        document.cookie = t.name + "=; Max-Age=0; path=/";
        document.cookie = t.name + "=; Max-Age=0; path=/; domain=" + location.hostname;
      });
    });
  }

  function activate(choices) {
    document.querySelectorAll('script[type="text/plain"][data-garde-category]').forEach(function (held) {
      if (!choices[held.getAttribute("data-garde-category")] || held.hasAttribute("data-garde-ran")) return;
      var run = document.createElement("script");
      Array.prototype.forEach.call(held.attributes, function (a) {
        if (a.name !== "type") run.setAttribute(a.name, a.value);
      });
      run.type = held.getAttribute("data-garde-type") || "text/javascript";
      run.text = held.text;
      held.setAttribute("data-garde-ran", "");
      held.after(run);
    });
  }

  function open() { show("first"); }
  window.garde = {open: open, choices: function () { return current(); }};
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("[data-garde-open]");
    if (link) { e.preventDefault(); open(); }
  });

  var lang = langs.indexOf(pageLang) >= 0 ? "?lang=" + pageLang : "";
  fetch(base + encodeURIComponent(register) + "/config.json" + lang, {mode: "cors", credentials: "omit"})
    .then(function (answer) { return answer.ok ? answer.json() : null; })
    .then(function (loaded) {
      if (!loaded) return;
      config = loaded;
      var kept = current();
      if (kept) activate(kept); else if (asked().length) show("first");
    }, function () { /* garde unreachable: nothing runs that needs consent */ });
})();
