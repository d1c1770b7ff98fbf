// The caption review queue (/review/captions): keyboard-driven decisions on the current caption. a approves it with the
// text as it is in its box (edited or not), p approves it as the primary caption, x rejects it, e puts the caret in its
// box (Esc leaves the box again, Ctrl+Enter approves from it: app.js), j/→ next caption, k/← previous. After a decision
// htmx re-renders #caption-cards: the caption at the same position (the next one) becomes current.
(function () {
  'use strict';
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  let index = 0;

  function items() { return $$('[data-testid="caption-item"]'); }

  function select(i, scroll) {
    const all = items();
    if (all.length === 0) return null;
    index = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((item, k) => item.classList.toggle('current', k === index));
    const item = all[index];
    $$('[data-testid="caption-card"]').forEach((card) => card.classList.toggle('current', card.contains(item)));
    if (scroll) item.closest('[data-testid="caption-card"]').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    return item;
  }

  function current() { return items()[index] || select(0, false); }

  function isTyping(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    return el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit', 'range'].includes(el.type);
  }

  function decide(item, decision) {
    const button = item && item.querySelector(`button[data-review="${decision}"]`);
    if (button && !button.disabled) button.click();
  }

  function edit(item) {
    const text = item && item.querySelector('textarea');
    if (!text) return;
    text.focus();
    text.setSelectionRange(text.value.length, text.value.length);
  }

  document.addEventListener('click', (e) => {
    const action = e.target.closest?.('button[data-review="next"], button[data-review="edit"]');
    const item = e.target.closest?.('[data-testid="caption-item"]');
    if (item) { const k = items().indexOf(item); if (k >= 0 && k !== index) select(k, false); }
    if (!action) return;
    e.preventDefault();
    if (action.dataset.review === 'next') select(index + 1, true); else edit(item);
  });

  // Typing in a caption's box makes it the current one.
  document.addEventListener('focusin', (e) => {
    const item = e.target.closest?.('[data-testid="caption-item"]');
    if (item) { const k = items().indexOf(item); if (k >= 0 && k !== index) select(k, false); }
  });

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (!document.getElementById('caption-cards')) return;
    // Esc leaves a caption's box (keeping what was typed) so that the keys decide again.
    if (e.key === 'Escape' && e.target.matches?.('[data-testid="caption-item"] textarea')) {
      e.preventDefault();
      e.target.closest('[data-testid="caption-item"]').focus();
      return;
    }
    if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
    const item = current();
    if (!item) return;
    let handled = true;
    if (e.key === 'a') decide(item, 'approve');
    else if (e.key === 'p') decide(item, 'primary');
    else if (e.key === 'x') decide(item, 'reject');
    else if (e.key === 'e') edit(item);
    else if (e.key === 'j' || e.key === 'ArrowRight') select(index + 1, true);
    else if (e.key === 'k' || e.key === 'ArrowLeft') select(index - 1, true);
    else handled = false;
    if (handled) e.preventDefault();
  });

  // After a decision the cards are new: keep the same position (the decided caption is gone, the next took its place).
  document.addEventListener('htmx:afterSettle', (e) => {
    if (e.target && e.target.id === 'caption-cards') select(index, false);
  });
  document.addEventListener('DOMContentLoaded', () => select(0, false));
})();
