/**
 * The dashboard's only script, served as /assets/app.js (CSP forbids inline
 * scripts). It is plain ES2020 shipped as is, so users need no build step:
 * - a section marked `data-live="<fragment url>"` is re-fetched when the
 *   server-sent event stream named by `data-events` says something changed,
 *   and every `data-refresh` seconds anyway (pops publish nothing);
 * - a form with `data-confirm="<question>"` asks before it submits.
 * Pages work without it: every action is a plain form POST.
 */
export const SCRIPT = String.raw`'use strict';
(function () {
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  var live = document.querySelector('[data-live]');
  if (!live) return;
  var url = live.getAttribute('data-live');
  var status = document.querySelector('[data-live-status]');
  var every = Math.max(1, Number(document.body.getAttribute('data-refresh')) || 5) * 1000;
  var timer = 0;
  var busy = false;
  var again = false;

  function mark(state) {
    if (!status) return;
    status.textContent = state;
    status.setAttribute('data-state', state);
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok) throw new Error(String(res.status));
        return res.text();
      })
      .then(function (text) {
        live.innerHTML = text;
        live.setAttribute('data-refreshed', String(Date.now()));
        mark('live');
      })
      .catch(function () { mark('offline'); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (!document.hidden) refresh();
      schedule();
    }, every);
  }

  schedule();
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) refresh();
  });

  var events = live.getAttribute('data-events');
  if (events && 'EventSource' in window) {
    var source = new EventSource(events);
    source.addEventListener('change', function () { refresh(); schedule(); });
    source.addEventListener('open', function () { mark('live'); });
    source.addEventListener('error', function () { mark(source.readyState === 2 ? 'polling' : 'reconnecting'); });
  }
})();
`;
