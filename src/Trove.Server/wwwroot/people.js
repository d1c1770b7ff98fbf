// People pages. The face review queue (/people/review): y confirms the current card, n says no (remembered), j/→ skip,
// k/← back; after a decision htmx re-renders #face-cards and the card in the same place becomes current. A person's
// page (/people/ID): click a face to select it, a selects all, y confirms and n rejects the selection.
(function () {
  'use strict';
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  let index = 0;

  function cards() { return $$('[data-testid="face-card"]'); }

  function select(i, scroll) {
    const all = cards();
    if (all.length === 0) return null;
    index = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((c, k) => c.classList.toggle('current', k === index));
    if (scroll) all[index].scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    return all[index];
  }

  function isTyping(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    return el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit', 'range'].includes(el.type);
  }

  function press(root, selector) {
    const button = root && root.querySelector(selector);
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }

  document.addEventListener('click', (e) => {
    if (e.target.closest?.('[data-face-review="next"]')) { e.preventDefault(); select(index + 1, true); return; }
    const card = e.target.closest?.('[data-testid="face-card"]');
    if (card) { const k = cards().indexOf(card); if (k >= 0 && k !== index) select(k, false); }
  });

  document.addEventListener('change', (e) => {
    const box = e.target.closest?.('[data-testid="face-select"]');
    if (box) box.closest('[data-testid="face-tile"]')?.classList.toggle('selected', box.checked);
  });

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
    let handled = true;
    if (document.getElementById('face-cards')) {
      const card = cards()[index] || select(0, false);
      if (!card) return;
      if (e.key === 'y') handled = press(card, '[data-face-review="yes"]');
      else if (e.key === 'n') handled = press(card, '[data-face-review="no"]');
      else if (e.key === 'j' || e.key === 'ArrowRight') select(index + 1, true);
      else if (e.key === 'k' || e.key === 'ArrowLeft') select(index - 1, true);
      else handled = false;
    } else if (document.getElementById('person-body')) {
      if (e.key === 'a') {
        const boxes = $$('[data-testid="face-select"]');
        const all = boxes.every((b) => b.checked);
        boxes.forEach((b) => { b.checked = !all; b.closest('[data-testid="face-tile"]')?.classList.toggle('selected', !all); });
      } else if (e.key === 'y') handled = press(document, '[data-testid="faces-confirm"]');
      else if (e.key === 'n') handled = press(document, '[data-testid="faces-reject"]');
      else handled = false;
    } else handled = false;
    if (handled) e.preventDefault();
  });

  document.addEventListener('htmx:afterSettle', (e) => {
    if (e.target && e.target.id === 'face-cards') select(index, false);
  });
  document.addEventListener('DOMContentLoaded', () => select(0, false));
})();
