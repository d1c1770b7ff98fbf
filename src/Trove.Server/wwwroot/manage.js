// Trove management pages (collections, tags, duplicates, users, account, jobs): the little the server can't do.
// Everything is event delegation on document, so fragments swapped in by htmx need no re-binding.
(function () {
  'use strict';

  const toast = (message, kind) => {
    if (window.Trove && window.Trove.toast) window.Trove.toast(message, kind);
  };

  // Page handlers answer htmx requests with HX-Trigger: {"trove-toast": {"message", "kind"}}.
  document.addEventListener('trove-toast', (e) => {
    const d = e.detail || {};
    if (d.message) toast(d.message, d.kind);
  });

  // After the session was renewed (own password or role changed), the old antiforgery token no longer matches:
  // put the new one wherever the page keeps it (meta tag, htmx headers on <body>, form fields).
  document.addEventListener('trove-csrf', (e) => {
    const token = e.detail && e.detail.token;
    if (!token) return;
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) meta.content = token;
    document.body.setAttribute('hx-headers', JSON.stringify({ 'X-CSRF-TOKEN': token }));
    document.querySelectorAll('input[name="__RequestVerificationToken"]').forEach((i) => { i.value = token; });
  });

  // A fragment request that ended on the sign-in or "not allowed" page (session expired, role changed): go there
  // instead of swapping a whole page into a fragment.
  document.addEventListener('htmx:beforeSwap', (e) => {
    const url = e.detail.xhr && e.detail.xhr.responseURL;
    if (!url) return;
    const path = new URL(url, location.href).pathname;
    if (path === '/login' || path === '/denied') {
      e.detail.shouldSwap = false;
      location.assign(url);
    }
  });

  // Copy a secret shown once (new API tokens).
  async function copyFrom(button) {
    const input = document.querySelector(button.dataset.copy);
    if (!input) return;
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      // No clipboard API (plain http on another host): select it so Ctrl+C works, and try the old way.
      input.focus();
      input.select();
      try { document.execCommand('copy'); } catch { /* nothing more to try */ }
    }
    button.textContent = 'Copied';
    toast('Copied to the clipboard.');
  }

  // Selects that submit their GET form when changed (e.g. the duplicate distance).
  document.addEventListener('change', (e) => {
    const el = e.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute('data-autosubmit') && el.form) el.form.requestSubmit();
  });

  // ---- Duplicates: skip (this tab only), keyboard, focus after a merge ----
  const SKIP_KEY = 'trove-skipped-dupes';
  const groups = () => Array.from(document.querySelectorAll('[data-testid="dupe-group"]'));
  const visibleGroups = () => groups().filter((g) => !g.hidden);

  function skipped() {
    try { return new Set(JSON.parse(sessionStorage.getItem(SKIP_KEY) || '[]')); } catch { return new Set(); }
  }

  function saveSkipped(set) {
    try { sessionStorage.setItem(SKIP_KEY, JSON.stringify(Array.from(set))); } catch { /* storage off: hides until reload */ }
  }

  function showSkippedNote() {
    const note = document.getElementById('dupe-skipped');
    if (!note) return;
    const n = groups().filter((g) => g.hidden).length;
    note.hidden = n === 0;
    const text = note.querySelector('span');
    if (text) text.textContent = n === 1 ? '1 group skipped in this tab.' : `${n} groups skipped in this tab.`;
  }

  function nextGroup(group) {
    const list = visibleGroups();
    const i = list.indexOf(group);
    return list[i + 1] || list[i - 1] || null;
  }

  function skip(group) {
    const next = nextGroup(group);
    const set = skipped();
    set.add(group.dataset.key);
    saveSkipped(set);
    group.hidden = true;
    showSkippedNote();
    if (next) next.focus();
    toast('Skipped: hidden in this tab only.');
  }

  function unskip() {
    saveSkipped(new Set());
    groups().forEach((g) => { g.hidden = false; });
    showSkippedNote();
  }

  function hideSkipped() {
    const set = skipped();
    if (set.size === 0) return;
    groups().forEach((g) => { if (set.has(g.dataset.key)) g.hidden = true; });
    showSkippedNote();
  }

  // Where focus goes when a group is merged away.
  let focusAfterMerge = null;
  document.addEventListener('htmx:beforeRequest', (e) => {
    const group = e.target.closest && e.target.closest('[data-testid="dupe-group"]');
    focusAfterMerge = group ? nextGroup(group) : null;
  });
  // A merged group's element is swapped for nothing, so events on it never reach document: look after the swap.
  document.addEventListener('htmx:beforeSwap', (e) => {
    if (!(e.target.closest && e.target.closest('[data-testid="dupe-group"]'))) return;
    const next = focusAfterMerge;
    focusAfterMerge = null;
    setTimeout(() => {
      if (next && next.isConnected && !document.activeElement?.closest?.('[data-testid="dupe-group"]')) next.focus();
      if (visibleGroups().length === 0) {
        const summary = document.getElementById('dupe-summary');
        if (summary) summary.textContent = 'All groups shown here are done. Reload to look for more.';
      }
    }, 50);
  });

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t?.isContentEditable) return;
    const group = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-testid="dupe-group"]');
    if (!group) return;
    if (e.key >= '1' && e.key <= '9') {
      const keep = group.querySelectorAll('[data-testid="keep"]')[Number(e.key) - 1];
      if (keep && !keep.disabled) { e.preventDefault(); keep.click(); }
    } else if (e.key === 's' || e.key === 'S') {
      e.preventDefault();
      skip(group);
    } else if (e.key === 'j' || e.key === 'k') {
      const list = visibleGroups();
      const next = list[list.indexOf(group) + (e.key === 'j' ? 1 : -1)];
      if (next) { e.preventDefault(); next.focus(); }
    }
  });

  document.addEventListener('click', (e) => {
    const el = e.target.closest && e.target.closest('[data-action], [data-copy]');
    if (!el) return;
    if (el.dataset.copy) { e.preventDefault(); copyFrom(el); return; }
    switch (el.dataset.action) {
      case 'skip': { const g = el.closest('[data-testid="dupe-group"]'); if (g) skip(g); break; }
      case 'unskip': unskip(); break;
      default: break;
    }
  });

  function init() {
    hideSkipped();
    const first = visibleGroups()[0];
    if (first && !location.hash) first.focus({ preventScroll: true });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
