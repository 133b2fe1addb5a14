/* LumeTrax page-view counter, first-party and cookieless. The server counts full page loads
   from the HTML request; this script reports only history-API navigations (pushState,
   popstate), which the server never sees. It sends the path, the referrer and a width class
   (s/m/l), reads and writes no cookie or storage, uses no fingerprinting API, and does
   nothing at all when the browser signals Global Privacy Control or Do Not Track. */
(function (w, n, h) {
  if (n.globalPrivacyControl || n.doNotTrack == '1' || w.doNotTrack == '1') return;
  var last = location.pathname + location.search;
  function send() {
    var p = location.pathname + location.search;
    if (p == last) return;
    var b = JSON.stringify({ p: p, r: document.referrer, w: innerWidth < 768 ? 's' : innerWidth < 1024 ? 'm' : 'l' });
    last = p;
    if (!(n.sendBeacon && n.sendBeacon('/api/event', b))) fetch('/api/event', { method: 'POST', body: b, keepalive: true, credentials: 'omit' });
  }
  var push = h.pushState;
  h.pushState = function () {
    push.apply(h, arguments);
    send();
  };
  w.addEventListener('popstate', send);
})(window, navigator, history);
