/* A stand-in for a shop's audience or advertising script, on garde's demo shop page: the cookie banner
 * runs it only once its category (data-garde-category) is consented. It says so on the page, and
 * neither sets a cookie nor calls anyone. */
(function () {
  "use strict";
  var me = document.currentScript;
  var category = me ? me.getAttribute("data-garde-category") : null;
  window.gardeDemoRan = (window.gardeDemoRan || []).concat([category]);
  document.querySelectorAll("[data-garde-demo-status]").forEach(function (status) {
    if (status.getAttribute("data-garde-demo-status") !== category) return;
    status.textContent = status.getAttribute("data-running");
    status.className = "running";
  });
})();
