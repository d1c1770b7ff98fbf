// The review queue (/review): keyboard-driven decisions on the current card. a approves the checked tags (the others
// are rejected), x rejects all shown, j/→ next card, k/← previous, 1–9 check or uncheck a tag. The threshold slider
// shows its value and dims the tags below it. After a decision htmx re-renders #review-cards; the first card is current.
(function () {
  'use strict';
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  let index = 0;

  function cards() { return $$('[data-testid="review-card"]'); }

  function select(i, scroll) {
    const all = cards();
    if (all.length === 0) return null;
    index = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((c, k) => c.classList.toggle('current', k === index));
    const card = all[index];
    if (scroll) card.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    return card;
  }

  function current() { return cards()[index] || select(0, false); }

  function isTyping(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    return el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit', 'range'].includes(el.type);
  }

  function decide(card, decision) {
    const button = card && card.querySelector(`button[data-review="${decision}"]`);
    if (button && !button.disabled) button.click();
  }

  function threshold() {
    const slider = document.querySelector('[data-review-threshold]');
    if (!slider) return;
    const value = parseFloat(slider.value);
    const out = document.querySelector('[data-review-threshold-value]');
    if (out) out.textContent = value.toFixed(2);
    $$('[data-testid="review-tag"]').forEach((li) => {
      const c = parseFloat(li.querySelector('.confidence-value')?.textContent || '0');
      li.classList.toggle('below', c < value);
    });
  }

  document.addEventListener('input', (e) => { if (e.target.matches?.('[data-review-threshold]')) threshold(); });

  document.addEventListener('click', (e) => {
    const next = e.target.closest?.('[data-review="next"]');
    if (next) { e.preventDefault(); select(index + 1, true); return; }
    const card = e.target.closest?.('[data-testid="review-card"]');
    if (card) { const k = cards().indexOf(card); if (k >= 0 && k !== index) select(k, false); }
  });

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
    if (!document.getElementById('review-cards')) return;
    const card = current();
    if (!card) return;
    let handled = true;
    if (e.key === 'a') decide(card, 'approve');
    else if (e.key === 'x') decide(card, 'reject');
    else if (e.key === 'j' || e.key === 'ArrowRight') select(index + 1, true);
    else if (e.key === 'k' || e.key === 'ArrowLeft') select(index - 1, true);
    else if (/^[1-9]$/.test(e.key)) {
      const box = card.querySelector(`input[type="checkbox"][data-key="${e.key}"]`);
      if (box) box.checked = !box.checked; else handled = false;
    } else handled = false;
    if (handled) e.preventDefault();
  });

  // After a decision the cards are new: keep the same position (the decided card is gone, the next one took its place).
  document.addEventListener('htmx:afterSettle', (e) => {
    if (e.target && e.target.id === 'review-cards') { select(index, false); threshold(); }
  });
  document.addEventListener('DOMContentLoaded', () => { select(0, false); threshold(); });
})();
