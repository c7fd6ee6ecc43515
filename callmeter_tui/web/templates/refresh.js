/* Live refresh for the public status page: fetches the page again every refresh_s seconds (the
   server answers 304 when nothing changed) and patches the DOM in place, so nothing flashes and
   keyboard focus and open tooltips survive. Without JavaScript a <noscript> meta refresh does the job.
   Uptime bars: one tab stop each (the run with tabindex="0"); arrow keys, Home and End move between
   runs of days, skipping runs hidden on narrow screens (a roving tabindex, kept across refreshes). */
(function () {
  "use strict";
  var root = document.documentElement;
  var every = Math.max(1, parseInt(root.getAttribute("data-refresh"), 10) || 60) * 1000;
  var timer = null;

  function sameKind(a, b) {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName;
  }

  function inBar(el) {
    return el.nodeType === 1 && el.parentNode && el.parentNode.classList && el.parentNode.classList.contains("bar");
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
      if (attr.name === "tabindex" && inBar(cur)) continue;  // the visitor's place in the bar stays
      if (cur.getAttribute(attr.name) !== attr.value) cur.setAttribute(attr.name, attr.value);
    }
    for (i = cur.attributes.length - 1; i >= 0; i--) {
      attr = cur.attributes[i];
      // A <details> the visitor opened stays open across refreshes.
      if (attr.name === "tabindex" && inBar(cur)) continue;
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

  // Exactly one tab stop per bar after a patch: the focused run, else the first stop, else the newest run.
  function oneStopPerBar() {
    var bars = document.querySelectorAll(".bar"), b, runs, keep, j;
    for (b = 0; b < bars.length; b++) {
      runs = bars[b].children;
      if (!runs.length) continue;
      keep = null;
      for (j = 0; j < runs.length; j++) {
        if (runs[j] === document.activeElement) keep = runs[j];
      }
      if (!keep) keep = bars[b].querySelector('[tabindex="0"]') || runs[runs.length - 1];
      for (j = 0; j < runs.length; j++) {
        runs[j].setAttribute("tabindex", runs[j] === keep ? "0" : "-1");
      }
    }
  }

  function shown(el) {
    return el.offsetWidth > 0;
  }

  function onKey(e) {
    var from = e.target;
    if (!inBar(from) || e.altKey || e.ctrlKey || e.metaKey) return;
    var runs = Array.prototype.filter.call(from.parentNode.children, shown);
    var i = runs.indexOf(from), to;
    if (e.key === "ArrowLeft" || e.key === "ArrowUp") to = runs[i - 1];
    else if (e.key === "ArrowRight" || e.key === "ArrowDown") to = runs[i + 1];
    else if (e.key === "Home") to = runs[0];
    else if (e.key === "End") to = runs[runs.length - 1];
    else return;
    e.preventDefault();
    if (!to) return;
    from.setAttribute("tabindex", "-1");
    to.setAttribute("tabindex", "0");
    to.focus();
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
        if (fresh && live) { morph(live, fresh); oneStopPerBar(); }
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

  document.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
  schedule();
})();
