/* Live refresh for the public status page: fetches the page again every refresh_s seconds (the
   server answers 304 when nothing changed) and patches the DOM in place, so nothing flashes and
   keyboard focus and open tooltips survive. Without JavaScript a <noscript> meta refresh does the job. */
(function () {
  "use strict";
  var root = document.documentElement;
  var every = Math.max(1, parseInt(root.getAttribute("data-refresh"), 10) || 60) * 1000;
  var timer = null;

  function sameKind(a, b) {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName;
  }

  function morph(cur, next) {
    if (cur.nodeType === 3 || cur.nodeType === 8) {
      if (cur.nodeValue !== next.nodeValue) cur.nodeValue = next.nodeValue;
      return;
    }
    if (cur.nodeType !== 1) return;
    var i, attr;
    for (i = 0; i < next.attributes.length; i++) {
      attr = next.attributes[i];
      if (cur.getAttribute(attr.name) !== attr.value) cur.setAttribute(attr.name, attr.value);
    }
    for (i = cur.attributes.length - 1; i >= 0; i--) {
      attr = cur.attributes[i];
      // A <details> the visitor opened stays open across refreshes.
      if (!next.hasAttribute(attr.name) && !(attr.name === "open" && cur.nodeName === "DETAILS")) {
        cur.removeAttribute(attr.name);
      }
    }
    var kids = cur.childNodes, want = next.childNodes;
    for (i = 0; i < want.length; i++) {
      if (i >= kids.length) {
        cur.appendChild(document.importNode(want[i], true));
      } else if (sameKind(kids[i], want[i])) {
        morph(kids[i], want[i]);
      } else {
        cur.replaceChild(document.importNode(want[i], true), kids[i]);
      }
    }
    while (kids.length > want.length) cur.removeChild(cur.lastChild);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, every);
  }

  function refresh() {
    fetch(window.location.pathname, { cache: "no-cache", credentials: "omit", headers: { Accept: "text/html" } })
      .then(function (resp) {
        if (resp.status === 404) { window.location.reload(); return null; }
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.text();
      })
      .then(function (text) {
        if (text === null) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("live"), live = document.getElementById("live");
        if (fresh && live) morph(live, fresh);
        if (doc.title && doc.title !== document.title) document.title = doc.title;
        var links = doc.querySelectorAll("link[rel=stylesheet]"), mine = document.querySelectorAll("link[rel=stylesheet]");
        for (var k = 0; k < links.length && k < mine.length; k++) {
          if (mine[k].getAttribute("href") !== links[k].getAttribute("href")) mine[k].setAttribute("href", links[k].getAttribute("href"));
        }
        var r = parseInt(doc.documentElement.getAttribute("data-refresh"), 10);
        if (r > 0) every = r * 1000;
        document.body.classList.remove("offline");
      })
      .catch(function () { document.body.classList.add("offline"); })
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
  schedule();
})();
