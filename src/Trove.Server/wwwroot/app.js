// Trove web UI: small, dependency-free helpers shared by every page (htmx does the page fragments).
(function () {
  'use strict';
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || '';

  /** fetch() against the JSON API with the session's antiforgery token; throws Error(problem.detail) on failure. */
  async function api(method, url, body) {
    const init = { method, headers: { 'X-CSRF-TOKEN': csrf(), 'Accept': 'application/json' }, credentials: 'same-origin' };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
    const res = await fetch(url, init);
    const type = res.headers.get('Content-Type') || '';
    const data = type.includes('json') ? await res.json() : null;
    if (!res.ok) {
      const err = new Error((data && (data.detail || data.title)) || `${res.status} ${res.statusText}`);
      err.status = res.status; err.problem = data; throw err;
    }
    return data;
  }

  let toastTimer;
  /** A short message in the corner (also read out by screen readers). */
  function toast(message, kind) {
    const el = document.getElementById('toast');
    if (!el) return;
    el.textContent = message;
    el.className = 'show ' + (kind || '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.className = ''; }, 3500);
  }

  window.Trove = Object.assign(window.Trove || {}, { api, toast, csrf });

  document.addEventListener('htmx:responseError', (e) => {
    let msg = `${e.detail.xhr.status} ${e.detail.xhr.statusText}`;
    try { const p = JSON.parse(e.detail.xhr.responseText); msg = p.detail || msg; } catch { /* not JSON */ }
    toast(msg, 'error');
  });
})();
