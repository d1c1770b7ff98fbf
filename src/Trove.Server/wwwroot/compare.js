// The before/after comparison (/media/{id}/compare). Both images are always shown at the same size and zoom: fit (the
// largest size that fits the window), 100 % or 200 % of the result's pixels (the original is stretched to match).
// Slider mode stacks them, the result clipped at the slider (clip-path inset), "before" on the left; the slider is the
// range input, a drag on the picture, or ←/→ (Shift: finer). Side by side shows them next to each other, scrolled in
// step. s switches the mode; f, 1, 2 zoom.
(function () {
  'use strict';
  const root = document.getElementById('compare');
  if (!root) return;
  const $ = (sel, el) => (el || document).querySelector(sel);
  const $$ = (sel, el) => Array.from((el || document).querySelectorAll(sel));
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  const view = $('#compare-view', root);
  const panes = [$('.compare-frame.before .compare-pane', view), $('.compare-frame.after .compare-pane', view)];
  const stacks = panes.map((p) => $('.compare-stack', p));
  const after = $('#compare-after-img', root);
  const handle = $('#compare-handle', root);
  const range = $('#compare-range', root);
  const width = Number(root.dataset.width) || after.naturalWidth || 1;
  const height = Number(root.dataset.height) || after.naturalHeight || 1;
  const GAP = 12;
  const state = { mode: root.dataset.mode || 'slider', zoom: root.dataset.zoom || 'fit', pos: Number(range.value) || 50, imageWidth: 0 };

  function available() {
    const w = state.mode === 'side' ? (root.clientWidth - GAP) / 2 : root.clientWidth;
    // The picture and the slider under it fit in the window when the page is scrolled to the top.
    const top = view.getBoundingClientRect().top + window.scrollY;
    const h = Math.max(200, window.innerHeight - top - 90);
    return { w: Math.max(50, Math.floor(w)), h: Math.floor(h) };
  }

  // Where the view is centred, as fractions of the picture (kept across zoom changes).
  function centre() {
    const p = panes[1];
    return {
      x: p.scrollWidth > 0 ? (p.scrollLeft + p.clientWidth / 2) / p.scrollWidth : 0.5,
      y: p.scrollHeight > 0 ? (p.scrollTop + p.clientHeight / 2) / p.scrollHeight : 0.5,
    };
  }

  function layout() {
    const c = centre();
    const avail = available();
    const scale = state.zoom === 'fit' ? Math.min(avail.w / width, avail.h / height) : Number(state.zoom);
    const iw = Math.max(1, Math.floor(width * scale));
    const ih = Math.max(1, Math.floor(height * scale));
    state.imageWidth = iw;
    stacks.forEach((s) => { s.style.width = `${iw}px`; s.style.height = `${ih}px`; });
    panes.forEach((p) => { p.style.width = `${Math.min(iw, avail.w)}px`; p.style.height = `${Math.min(ih, avail.h)}px`; });
    root.dataset.mode = state.mode;
    root.dataset.zoom = state.zoom;
    $$('[data-compare-mode]', root).forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.compareMode === state.mode)));
    $$('[data-compare-zoom]', root).forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.compareZoom === state.zoom)));
    range.disabled = state.mode !== 'slider';
    const p = panes[1];
    scrollTo(1, c.x * p.scrollWidth - p.clientWidth / 2, c.y * p.scrollHeight - p.clientHeight / 2);
    scrollTo(0, p.scrollLeft, p.scrollTop);
    clip();
  }

  // Both panes scroll together; a position set here is not taken for the person's own scrolling.
  const expected = [null, null];
  function scrollTo(i, left, top) {
    const p = panes[i];
    p.scrollLeft = left;
    p.scrollTop = top;
    expected[i] = { left: p.scrollLeft, top: p.scrollTop };
  }
  panes.forEach((p, i) => p.addEventListener('scroll', () => {
    const e = expected[i];
    if (e && e.left === p.scrollLeft && e.top === p.scrollTop) { expected[i] = null; clip(); return; }
    expected[i] = null;
    scrollTo(1 - i, p.scrollLeft, p.scrollTop);
    clip();
  }, { passive: true }));

  // The result shows right of the slider; the slider is a position in the visible part of the picture.
  function clip() {
    const p = panes[1];
    if (state.mode !== 'slider') {
      after.style.clipPath = '';
      handle.hidden = true;
      return;
    }
    const x = p.clientWidth * state.pos / 100;
    const inImage = clamp(p.scrollLeft + x, 0, state.imageWidth);
    after.style.clipPath = `inset(0 0 0 ${inImage}px)`;
    handle.hidden = false;
    handle.style.left = `${x}px`;
    handle.style.height = `${p.clientHeight}px`;
  }

  function setPos(value) {
    state.pos = clamp(Number(value) || 0, 0, 100);
    const rounded = Math.round(state.pos);
    range.value = String(rounded);
    range.setAttribute('aria-valuenow', String(rounded));
    range.setAttribute('aria-valuetext', `${rounded} % before, ${100 - rounded} % after`);
    root.dataset.pos = String(rounded);
    clip();
  }

  function setMode(mode) {
    state.mode = mode === 'side' ? 'side' : 'slider';
    layout();
  }

  function setZoom(zoom) {
    state.zoom = ['fit', '1', '2'].includes(zoom) ? zoom : 'fit';
    layout();
  }

  range.addEventListener('input', () => setPos(range.value));
  root.addEventListener('click', (e) => {
    const mode = e.target.closest?.('[data-compare-mode]');
    if (mode) { setMode(mode.dataset.compareMode); return; }
    const zoom = e.target.closest?.('[data-compare-zoom]');
    if (zoom) setZoom(zoom.dataset.compareZoom);
  });

  // Dragging on the picture moves the slider (not on the scrollbars: they scroll).
  let dragging = false;
  function fromPointer(e) {
    const p = panes[1];
    const r = p.getBoundingClientRect();
    setPos(((e.clientX - r.left - p.clientLeft) / p.clientWidth) * 100);
  }
  view.addEventListener('pointerdown', (e) => {
    if (state.mode !== 'slider' || e.button !== 0) return;
    const p = panes[1];
    const r = p.getBoundingClientRect();
    if (e.clientX - r.left > p.clientLeft + p.clientWidth || e.clientY - r.top > p.clientTop + p.clientHeight) return;
    e.preventDefault();
    dragging = true;
    view.setPointerCapture(e.pointerId);
    fromPointer(e);
  });
  view.addEventListener('pointermove', (e) => { if (dragging) fromPointer(e); });
  const stop = () => { dragging = false; };
  view.addEventListener('pointerup', stop);
  view.addEventListener('pointercancel', stop);

  function isTyping(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    return el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit', 'range'].includes(el.type);
  }

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
    switch (e.key) {
      case 'ArrowLeft':
      case 'ArrowRight':
        if (state.mode !== 'slider') return;
        e.preventDefault();
        setPos(Math.round(state.pos) + (e.key === 'ArrowRight' ? 1 : -1) * (e.shiftKey ? 1 : 5));
        return;
      case 's':
      case 'S':
        e.preventDefault();
        setMode(state.mode === 'slider' ? 'side' : 'slider');
        return;
      case 'f': e.preventDefault(); setZoom('fit'); return;
      case '1': e.preventDefault(); setZoom('1'); return;
      case '2': e.preventDefault(); setZoom('2'); return;
      default:
    }
  });

  let resizeTimer = 0;
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(layout, 60); });
  layout();
  setPos(state.pos);
  root.dataset.ready = 'true';
})();
