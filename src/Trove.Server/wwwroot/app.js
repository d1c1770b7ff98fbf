// Trove web UI: small, dependency-free helpers shared by every page (htmx does the page fragments), plus the
// interactive parts of the core pages: tag autocomplete, keyboard shortcuts, the gallery's keyboard navigation,
// crop drawing and mask overlays on the image page, and uploads with per-file progress.
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
    toastTimer = setTimeout(() => { el.className = ''; }, kind === 'error' ? 6000 : 3500);
  }

  window.Trove = Object.assign(window.Trove || {}, { api, toast, csrf });

  document.addEventListener('htmx:responseError', (e) => {
    let msg = `${e.detail.xhr.status} ${e.detail.xhr.statusText}`;
    try { const p = JSON.parse(e.detail.xhr.responseText); msg = p.detail || msg; } catch { /* not JSON */ }
    toast(msg, 'error');
  });
  document.addEventListener('htmx:sendError', () => toast('The server could not be reached. Check the connection and try again.', 'error'));
  // Handlers answer with HX-Trigger: {"trove:toast": "…"} to say what they did.
  document.addEventListener('trove:toast', (e) => {
    const d = e.detail;
    const msg = typeof d === 'string' ? d : (d && (d.value ?? d.message));
    if (msg) toast(String(msg));
  });

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const fmt = new Intl.NumberFormat('en');

  /** True when a key press belongs to a field (shortcuts stay out of the way while people type). */
  function isTyping(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    const tag = el.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
    if (tag !== 'INPUT') return false;
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'range', 'color'].includes(el.type);
  }

  function compact(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1).replace(/\.0$/, '') + 'M';
    if (n >= 1e4) return Math.round(n / 1e3) + 'k';
    if (n >= 1e3) return (n / 1e3).toFixed(1).replace(/\.0$/, '') + 'k';
    return String(n);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Tag autocomplete (ARIA combobox). Any input with data-autocomplete="query" (search box: completes the word at the
  // caret, keeps '-' and '(' in front, leaves metatags alone) or "tags" (tag editors: words separated by spaces or
  // commas, '-' removes). The list is the input's aria-controls listbox.
  // ---------------------------------------------------------------------------------------------------------------
  const ac = { input: null, list: null, items: [], active: -1, token: null, timer: 0, seq: 0, abort: null, cache: new Map() };
  const CATEGORIES = ['general', 'character', 'copyright', 'artist', 'meta', 'rating'];

  function acToken(input) {
    const mode = input.dataset.autocomplete;
    const v = input.value;
    const caret = input.selectionStart ?? v.length;
    const sep = mode === 'tags' ? /[\s,]/ : /\s/;
    let start = caret;
    while (start > 0 && !sep.test(v[start - 1])) start--;
    let end = caret;
    while (end < v.length && !sep.test(v[end])) end++;
    const word = v.slice(start, end);
    const lead = (mode === 'tags' ? /^-?/ : /^[-(]*/).exec(word)[0];
    let prefix = word.slice(lead.length);
    if (mode === 'query') {
      if (prefix.includes(':') || /^(or|and)$/i.test(prefix)) return null;
      prefix = prefix.replace(/\)+$/, '');
    }
    if (!prefix || prefix.includes('*')) return null;
    return { start: start + lead.length, end: start + lead.length + prefix.length, prefix };
  }

  function acClose() {
    if (!ac.input) return;
    ac.input.setAttribute('aria-expanded', 'false');
    ac.input.removeAttribute('aria-activedescendant');
    if (ac.list) { ac.list.hidden = true; ac.list.replaceChildren(); }
    ac.items = []; ac.active = -1;
  }

  function acSetActive(i) {
    const opts = $$('[role="option"]', ac.list);
    if (!opts.length) return;
    ac.active = (i + opts.length) % opts.length;
    opts.forEach((o, k) => o.setAttribute('aria-selected', k === ac.active ? 'true' : 'false'));
    const el = opts[ac.active];
    ac.input.setAttribute('aria-activedescendant', el.id);
    el.scrollIntoView({ block: 'nearest' });
  }

  function acRender(items, token) {
    const list = ac.list;
    if (!list) return;
    ac.items = items; ac.token = token; ac.active = -1;
    list.replaceChildren();
    if (!items.length) { acClose(); return; }
    items.forEach((t, i) => {
      const li = document.createElement('li');
      const cat = CATEGORIES.includes(t.category) ? t.category : 'other';
      li.id = `${list.id}-opt-${i}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      li.className = `ac-item cat-${cat}`;
      li.dataset.value = t.name;
      const dot = document.createElement('span'); dot.className = 'ac-dot'; dot.setAttribute('aria-hidden', 'true');
      const name = document.createElement('span'); name.className = 'ac-name';
      const p = token.prefix.toLowerCase().replace(/ /g, '_');
      const at = t.name.indexOf(p);
      if (at >= 0 && p) {
        name.append(t.name.slice(0, at));
        const m = document.createElement('mark'); m.textContent = t.name.slice(at, at + p.length); name.append(m);
        name.append(t.name.slice(at + p.length));
      } else name.textContent = t.name;
      li.append(dot, name);
      if (t.alias) { const a = document.createElement('span'); a.className = 'ac-alias'; a.textContent = `← ${t.alias}`; li.append(a); }
      const c = document.createElement('span'); c.className = 'ac-cat'; c.textContent = t.category; li.append(c);
      const n = document.createElement('span'); n.className = 'ac-count'; n.textContent = compact(t.count || 0);
      n.title = `${fmt.format(t.count || 0)} media`; li.append(n);
      list.append(li);
    });
    list.hidden = false;
    ac.input.setAttribute('aria-expanded', 'true');
  }

  async function acFetch(input) {
    const token = acToken(input);
    if (!token) { acClose(); return; }
    const key = token.prefix.toLowerCase();
    const seq = ++ac.seq;
    let items = ac.cache.get(key);
    if (!items) {
      if (ac.abort) ac.abort.abort();
      ac.abort = new AbortController();
      try {
        const res = await fetch(`/api/tags/autocomplete?q=${encodeURIComponent(token.prefix)}&limit=10`,
          { headers: { Accept: 'application/json' }, credentials: 'same-origin', signal: ac.abort.signal });
        if (!res.ok) return;
        items = await res.json();
        if (!Array.isArray(items)) items = items.items || [];
        ac.cache.set(key, items);
        if (ac.cache.size > 200) ac.cache.delete(ac.cache.keys().next().value);
      } catch { return; }
    }
    if (seq !== ac.seq || ac.input !== input || document.activeElement !== input) return;
    acRender(items, token);
  }

  function acPick(i) {
    const input = ac.input, item = ac.items[i], token = ac.token;
    if (!input || !item || !token) return;
    const v = input.value;
    let after = v.slice(token.end);
    const addSpace = !/^\s/.test(after);
    const insert = item.name + (addSpace ? ' ' : '');
    input.value = v.slice(0, token.start) + insert + after;
    const caret = token.start + insert.length + (addSpace ? 0 : 1);
    input.setSelectionRange(caret, caret);
    acClose();
    ac.cache.clear();
    input.dispatchEvent(new CustomEvent('trove:picked', { bubbles: true, detail: item }));
  }

  function acAttach(input) {
    if (ac.input !== input) acClose();
    ac.input = input;
    ac.list = document.getElementById(input.getAttribute('aria-controls'));
  }

  document.addEventListener('input', (e) => {
    const input = e.target.closest?.('[data-autocomplete]');
    if (!input) return;
    acAttach(input);
    clearTimeout(ac.timer);
    ac.timer = setTimeout(() => acFetch(input), 90);
  });
  document.addEventListener('focusin', (e) => {
    const input = e.target.closest?.('[data-autocomplete]');
    if (input) acAttach(input);
  });
  document.addEventListener('focusout', (e) => {
    if (e.target === ac.input) setTimeout(() => { if (document.activeElement !== ac.input) acClose(); }, 120);
  });
  document.addEventListener('mousedown', (e) => {
    if (e.target.closest?.('.ac-list')) e.preventDefault(); // keep focus in the input
  });
  document.addEventListener('click', (e) => {
    const opt = e.target.closest?.('.ac-list [role="option"]');
    if (!opt || !ac.list || !ac.list.contains(opt)) return;
    acPick($$('[role="option"]', ac.list).indexOf(opt));
    ac.input?.focus();
  });
  document.addEventListener('keydown', (e) => {
    const input = e.target.closest?.('[data-autocomplete]');
    if (!input) return;
    acAttach(input);
    const open = ac.list && !ac.list.hidden && ac.items.length > 0;
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        if (open) acSetActive(ac.active + 1); else acFetch(input);
        break;
      case 'ArrowUp':
        if (open) { e.preventDefault(); acSetActive(ac.active < 0 ? -1 : ac.active - 1); }
        break;
      case 'Enter':
        if (open && ac.active >= 0) { e.preventDefault(); acPick(ac.active); } else acClose();
        break;
      case 'Tab':
        if (open && !e.shiftKey) { e.preventDefault(); acPick(ac.active >= 0 ? ac.active : 0); }
        break;
      case 'Escape':
        if (open) { e.preventDefault(); e.stopPropagation(); acClose(); }
        break;
      default:
        break;
    }
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Dialogs, copy buttons, small form conveniences.
  // ---------------------------------------------------------------------------------------------------------------
  function openDialog(id) {
    const d = document.getElementById(id);
    if (d && !d.open) d.showModal();
  }

  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); } catch {
      const ta = document.createElement('textarea');
      ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.append(ta); ta.select(); document.execCommand('copy'); ta.remove();
    }
    toast('Copied to the clipboard.');
  }

  document.addEventListener('click', (e) => {
    const opener = e.target.closest?.('[data-open-dialog]');
    if (opener) { openDialog(opener.dataset.openDialog); return; }
    const copy = e.target.closest?.('[data-copy]');
    if (copy) { copyText(copy.dataset.copy); }
  });

  // Sort menu: submit with whatever is in the search box now.
  document.addEventListener('change', (e) => {
    const sel = e.target.closest?.('select[data-autosubmit]');
    if (!sel) return;
    const form = sel.form;
    const mirror = $('[data-mirror]', form);
    const source = mirror && document.getElementById(mirror.dataset.mirror);
    if (mirror && source) mirror.value = source.value;
    form.submit();
  });

  // Ctrl/Cmd+Enter submits a textarea's form (captions) with its default button, when it names one (clicked, so that
  // htmx sends the button's decision).
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && e.target.tagName === 'TEXTAREA' && e.target.form) {
      e.preventDefault();
      const button = e.target.form.querySelector('[data-default-submit]');
      if (button) button.click(); else e.target.form.requestSubmit();
    }
  });

  // Generated captions on the image page: Edit opens the caption's text box in place (its link does the same without
  // JavaScript, ?edit=N); Cancel or Esc puts the model's text back and closes it.
  const Captions = {
    edit(item, on) {
      const box = item && $('.caption-edit', item);
      if (!box) return;
      const text = $('textarea', box);
      box.hidden = !on;
      text.disabled = !on;
      item.classList.toggle('editing', on);
      if (on) {
        text.focus();
        text.setSelectionRange(text.value.length, text.value.length);
      } else {
        text.value = text.defaultValue;
        $('[data-action="caption-edit"]', item)?.focus();
      }
    },
  };
  document.addEventListener('click', (e) => {
    const link = e.target.closest?.('[data-action="caption-edit"], [data-action="caption-edit-cancel"]');
    if (!link) return;
    e.preventDefault();
    Captions.edit(link.closest('[data-testid="caption"]'), link.dataset.action === 'caption-edit');
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && e.target.closest?.('.caption-edit')) { e.preventDefault(); Captions.edit(e.target.closest('[data-testid="caption"]'), false); }
  });

  // After a successful htmx form post that re-renders its panel, keep the keyboard where it was.
  document.addEventListener('htmx:afterSettle', () => { if (Media.page) Media.syncMasks(); });

  const Tags = { refocus: -1 };
  // The add-tag form stays in place while the tag list is re-rendered: clear what was sent at once (people keep
  // typing while the request runs) and put it back if the server refused it.
  document.addEventListener('htmx:beforeRequest', (e) => {
    const form = e.detail.elt;
    if (form?.matches?.('form.tag-add')) {
      const input = form.querySelector('input[name="tags"]');
      form.dataset.sent = input.value;
      input.value = '';
    }
    const remove = e.detail.elt?.closest?.('.tag-remove');
    if (remove) {
      const all = $$('#tags-panel .tag-remove');
      Tags.refocus = all.indexOf(remove);
    }
  });
  document.addEventListener('htmx:afterRequest', (e) => {
    const form = e.detail.elt;
    if (form?.matches?.('form.tag-add') && !e.detail.successful) {
      const input = form.querySelector('input[name="tags"]');
      input.value = `${form.dataset.sent || ''} ${input.value}`.trim();
    }
  });
  // After removing a tag with the keyboard, focus the next remove button (or the tag input) instead of losing focus.
  document.addEventListener('htmx:afterSettle', () => {
    if (Tags.refocus < 0 || !$('#tags-panel')) return;
    const all = $$('#tags-panel .tag-remove');
    const next = all[Math.min(Tags.refocus, all.length - 1)] || $('#tag-input');
    Tags.refocus = -1;
    if (next && (document.activeElement === document.body || !document.activeElement)) next.focus();
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Gallery: keyboard navigation between tiles.
  // ---------------------------------------------------------------------------------------------------------------
  const Gallery = {
    tiles: () => $$('#grid [data-testid="tile"]'),
    columns(tiles) {
      if (tiles.length < 2) return 1;
      const top = tiles[0].offsetTop;
      let n = 0;
      while (n < tiles.length && tiles[n].offsetTop === top) n++;
      return Math.max(1, n);
    },
    move(delta, byRow) {
      const tiles = Gallery.tiles();
      if (!tiles.length) return false;
      const current = tiles.indexOf(document.activeElement);
      const step = byRow ? delta * Gallery.columns(tiles) : delta;
      const next = current < 0 ? 0 : clamp(current + step, 0, tiles.length - 1);
      tiles[next].focus({ preventScroll: true });
      tiles[next].scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      return true;
    },
    key(e) {
      if (!$('#grid')) return false;
      const onTile = document.activeElement?.matches?.('#grid [data-testid="tile"]');
      switch (e.key) {
        case 'j': return Gallery.move(1, false);
        case 'k': return Gallery.move(-1, false);
        case 'ArrowRight': return onTile && Gallery.move(1, false);
        case 'ArrowLeft': return onTile && Gallery.move(-1, false);
        case 'ArrowDown': return onTile && Gallery.move(1, true);
        case 'ArrowUp': return onTile && Gallery.move(-1, true);
        default: return false;
      }
    },
  };

  // ---------------------------------------------------------------------------------------------------------------
  // Image page: crop drawing (mouse, pen and touch through pointer events), mask overlays, mask upload.
  // Rectangles are kept in fractions of the picture (0–1) and converted to ORIGINAL pixels for the API: the preview
  // is a scaled thumbnail.
  // ---------------------------------------------------------------------------------------------------------------
  const Media = {
    page: null, stage: null, img: null, rect: null, label: null, outline: null, form: null,
    ow: 0, oh: 0, canEdit: false, cropping: false, sel: null, drag: null, suppressClick: false, masksOn: false,

    init() {
      const page = $('.media-page');
      if (!page) return;
      Media.page = page;
      Media.id = page.dataset.mediaId;
      Media.ow = Number(page.dataset.width) || 0;
      Media.oh = Number(page.dataset.height) || 0;
      Media.canEdit = page.dataset.canEdit === 'true' && Media.ow > 0 && Media.oh > 0;
      Media.stage = $('#stage');
      Media.img = $('#preview');
      Media.rect = $('#crop-rect');
      Media.label = $('#crop-label');
      Media.outline = $('#crop-outline');
      Media.form = $('#crop-form');
      const st = Media.stage;
      if (Media.canEdit && st) {
        st.addEventListener('pointerdown', Media.down);
        st.addEventListener('pointermove', Media.moveTo);
        st.addEventListener('pointerup', Media.up);
        st.addEventListener('pointercancel', Media.up);
      }
      st?.addEventListener('click', (e) => {
        if (Media.suppressClick || Media.cropping) { e.preventDefault(); e.stopPropagation(); }
        Media.suppressClick = false;
      }, true);
      st?.addEventListener('dragstart', (e) => e.preventDefault());
      if (Media.img && 'ResizeObserver' in window) new ResizeObserver(() => { Media.render(); Media.layoutMasks(); }).observe(Media.img);
      Media.form?.addEventListener('submit', Media.save);
      Media.form?.addEventListener('input', (e) => { if (e.target.type === 'number') Media.fromInputs(); });
      document.addEventListener('click', (e) => {
        const t = e.target.closest?.('[data-action]');
        if (!t) return;
        switch (t.dataset.action) {
          case 'crop-mode': Media.toggleCropMode(e.detail === 0); break;
          case 'crop-cancel': Media.cancel(); break;
          case 'edit-crop': Media.editCrop(t.closest('[data-crop]')); break;
          case 'toggle-masks': if (t.tagName !== 'INPUT') Media.toggleMasks(); break;
          case 'toggle-faces': Media.toggleFaces(); break;
          default: break;
        }
      });
      document.addEventListener('change', (e) => { if (e.target.id === 'mask-toggle') Media.toggleMasks(e.target.checked); });
      document.addEventListener('submit', (e) => { if (e.target.matches('.mask-upload')) Media.uploadMask(e); });
      // Outline a saved crop on the picture while its list entry is hovered or focused.
      const show = (e) => { const li = e.target.closest?.('#crops-panel [data-crop]'); if (li) Media.showOutline(li); };
      const hide = (e) => { if (e.target.closest?.('#crops-panel [data-crop]')) Media.showOutline(null); };
      document.addEventListener('mouseover', show); document.addEventListener('focusin', show);
      document.addEventListener('mouseout', hide); document.addEventListener('focusout', hide);
      Media.syncMasks();
    },

    point(e) {
      const r = Media.img.getBoundingClientRect();
      return { x: clamp((e.clientX - r.left) / r.width, 0, 1), y: clamp((e.clientY - r.top) / r.height, 0, 1) };
    },

    down(e) {
      if (e.button !== 0) return;
      Media.suppressClick = false;
      const p = Media.point(e);
      const handle = e.target.closest('[data-handle]');
      if (handle && Media.sel) {
        const s = Media.sel, h = handle.dataset.handle;
        Media.drag = { kind: 'resize', anchor: { x: h.includes('w') ? s.x + s.w : s.x, y: h.includes('n') ? s.y + s.h : s.y } };
      } else if (e.target.closest('#crop-rect') && Media.sel) {
        Media.drag = { kind: 'move', start: p, orig: { ...Media.sel } };
      } else if (e.pointerType !== 'touch' || Media.cropping) {
        // Not captured yet: a plain click still reaches the link to the original.
        Media.drag = { kind: 'pending', start: p, sx: e.clientX, sy: e.clientY };
        e.preventDefault();
        return;
      } else return;
      Media.stage.setPointerCapture(e.pointerId);
      e.preventDefault();
    },

    moveTo(e) {
      const d = Media.drag;
      if (!d) return;
      const p = Media.point(e);
      if (d.kind === 'pending') {
        if (Math.hypot(e.clientX - d.sx, e.clientY - d.sy) < 5) return;
        Media.drag = { kind: 'resize', anchor: d.start };
        Media.stage.setPointerCapture(e.pointerId);
        Media.setCropMode(true);
      }
      if (Media.drag.kind === 'resize') {
        const a = Media.drag.anchor;
        Media.sel = { x: Math.min(a.x, p.x), y: Math.min(a.y, p.y), w: Math.abs(p.x - a.x), h: Math.abs(p.y - a.y) };
      } else if (Media.drag.kind === 'move') {
        const o = Media.drag.orig;
        Media.sel = { ...o, x: clamp(o.x + p.x - Media.drag.start.x, 0, 1 - o.w), y: clamp(o.y + p.y - Media.drag.start.y, 0, 1 - o.h) };
      }
      Media.render();
    },

    up(e) {
      const d = Media.drag;
      if (!d) return;
      Media.drag = null;
      if (Media.stage.hasPointerCapture?.(e.pointerId)) Media.stage.releasePointerCapture(e.pointerId);
      if (d.kind === 'pending') { if (Media.cropping) Media.suppressClick = true; return; }
      Media.suppressClick = true;
      const px = Media.pixels();
      if (!px || px.w < 2 || px.h < 2) { Media.clearSelection(); return; }
      Media.openForm(Media.form.hidden);
    },

    /** The selection in original pixels, clamped to the image. */
    pixels() {
      const s = Media.sel;
      if (!s) return null;
      const x = clamp(Math.round(s.x * Media.ow), 0, Media.ow - 1);
      const y = clamp(Math.round(s.y * Media.oh), 0, Media.oh - 1);
      const w = clamp(Math.round((s.x + s.w) * Media.ow) - x, 1, Media.ow - x);
      const h = clamp(Math.round((s.y + s.h) * Media.oh) - y, 1, Media.oh - y);
      return { x, y, w, h };
    },

    place(el, s) {
      const img = Media.img;
      el.style.left = `${img.offsetLeft + s.x * img.clientWidth}px`;
      el.style.top = `${img.offsetTop + s.y * img.clientHeight}px`;
      el.style.width = `${s.w * img.clientWidth}px`;
      el.style.height = `${s.h * img.clientHeight}px`;
    },

    render() {
      if (!Media.rect || !Media.img) return;
      if (!Media.sel) { Media.rect.hidden = true; return; }
      Media.place(Media.rect, Media.sel);
      Media.rect.hidden = false;
      const px = Media.pixels();
      Media.label.textContent = `${px.w} × ${px.h}`;
      if (Media.form) {
        for (const k of ['x', 'y', 'w', 'h']) {
          const input = Media.form.elements[k];
          if (document.activeElement !== input) input.value = px[k];
        }
      }
    },

    fromInputs() {
      const f = Media.form.elements;
      const x = clamp(Number(f.x.value) || 0, 0, Media.ow - 1), y = clamp(Number(f.y.value) || 0, 0, Media.oh - 1);
      const w = clamp(Number(f.w.value) || 1, 1, Media.ow - x), h = clamp(Number(f.h.value) || 1, 1, Media.oh - y);
      Media.sel = { x: x / Media.ow, y: y / Media.oh, w: w / Media.ow, h: h / Media.oh };
      Media.render();
    },

    openForm(focusName) {
      if (!Media.form) return;
      Media.form.hidden = false;
      Media.render();
      const name = Media.form.elements.name;
      if (focusName && !name.value) name.focus({ preventScroll: true });
    },

    setCropMode(on) {
      Media.cropping = on;
      Media.stage?.classList.toggle('cropping', on);
      $$('[data-action="crop-mode"]').forEach((b) => b.setAttribute('aria-pressed', on ? 'true' : 'false'));
    },

    /** Crop mode: drag on the picture (touch too), or type the rectangle into the form (keyboard). */
    toggleCropMode(fromKeyboard) {
      if (!Media.canEdit) return;
      if (Media.cropping) { Media.cancel(); return; }
      Media.setCropMode(true);
      if (Media.form) Media.form.hidden = false;
      Media.stage.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      if (fromKeyboard) Media.form?.elements.name.focus({ preventScroll: true });
      toast('Drag on the picture to draw a crop (or type X, Y, W, H); Esc cancels.');
    },

    clearSelection() {
      Media.sel = null;
      Media.render();
    },

    cancel() {
      Media.clearSelection();
      Media.setCropMode(false);
      if (Media.form) { Media.form.hidden = true; Media.form.reset(); }
    },

    editCrop(li) {
      if (!li || !Media.canEdit) return;
      const n = (k) => Number(li.dataset[k]);
      Media.sel = { x: n('x') / Media.ow, y: n('y') / Media.oh, w: n('w') / Media.ow, h: n('h') / Media.oh };
      Media.setCropMode(true);
      Media.form.elements.name.value = li.dataset.crop;
      Media.openForm(false);
      Media.stage.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      Media.form.elements.name.focus({ preventScroll: true });
    },

    async save(e) {
      e.preventDefault();
      const px = Media.pixels();
      const nameInput = Media.form.elements.name;
      const name = nameInput.value.trim().toLowerCase().replace(/\s+/g, '_');
      if (!px) { toast('Draw a rectangle on the picture first.', 'error'); return; }
      if (!name) { nameInput.focus(); toast('Give the crop a name.', 'error'); return; }
      const exists = $$('#crops-panel [data-crop]').some((li) => li.dataset.crop === name);
      if (exists && !window.confirm(`Replace the crop '${name}'?`)) return;
      const button = Media.form.querySelector('[type="submit"]');
      button.disabled = true;
      try {
        await api('PUT', `/api/media/${Media.id}/crops/${encodeURIComponent(name)}`, px);
        toast(`Saved crop '${name}' (${px.w} × ${px.h}).`);
        Media.cancel();
        await Media.refresh('Crops', '#crops-panel');
      } catch (err) {
        toast(err.message, 'error');
      } finally {
        button.disabled = false;
      }
    },

    refresh(handler, target) {
      if (window.htmx) return window.htmx.ajax('GET', `/media/${Media.id}?handler=${handler}`, { target, swap: 'outerHTML' });
      window.location.reload();
      return Promise.resolve();
    },

    showOutline(li) {
      const o = Media.outline;
      if (!o || !Media.img || !Media.ow) return;
      if (!li) { o.hidden = true; return; }
      const n = (k) => Number(li.dataset[k]);
      Media.place(o, { x: n('x') / Media.ow, y: n('y') / Media.oh, w: n('w') / Media.ow, h: n('h') / Media.oh });
      o.dataset.name = li.dataset.crop;
      o.hidden = false;
    },

    // Masks: each mask is drawn as a coloured layer where the mask is white (luminance mask), or as a faint image.
    syncMasks() {
      const masks = $$('#masks-panel [data-mask-id]');
      $$('[data-action="toggle-masks"]').forEach((b) => {
        if (b.tagName === 'BUTTON') b.hidden = masks.length === 0;
      });
      if (Media.masksOn) Media.buildMasks();
      const box = $('#mask-toggle');
      if (box) box.checked = Media.masksOn;
    },

    buildMasks() {
      const layer = $('#mask-layer');
      if (!layer) return;
      const luminance = window.CSS && CSS.supports('mask-mode', 'luminance');
      layer.replaceChildren(...$$('#masks-panel [data-mask-id]').map((m) => {
        const el = document.createElement('div');
        el.className = 'mask-overlay';
        el.dataset.maskId = m.dataset.maskId;
        if (luminance) {
          const url = `url("${m.dataset.maskUrl}")`;
          el.style.maskImage = url;
          el.style.maskMode = 'luminance';
          el.style.background = m.dataset.color;
        } else {
          const img = document.createElement('img');
          img.src = m.dataset.maskUrl; img.alt = '';
          el.classList.add('plain'); el.append(img);
        }
        return el;
      }));
      Media.layoutMasks();
    },

    layoutMasks() {
      const layer = $('#mask-layer');
      if (!layer || layer.hidden || !Media.img) return;
      Media.place(layer, { x: 0, y: 0, w: 1, h: 1 });
    },

    toggleMasks(force) {
      const on = typeof force === 'boolean' ? force : !Media.masksOn;
      const layer = $('#mask-layer');
      if (!layer || !$('#masks-panel [data-mask-id]')) { if (on) toast('This image has no masks.'); return; }
      Media.masksOn = on;
      if (on) Media.buildMasks();
      layer.hidden = !on;
      Media.layoutMasks();
      $$('[data-action="toggle-masks"]').forEach((b) => {
        if (b.tagName === 'BUTTON') b.setAttribute('aria-pressed', on ? 'true' : 'false');
        else b.checked = on;
      });
    },

    async uploadMask(e) {
      e.preventDefault();
      const form = e.target;
      const button = form.querySelector('[type="submit"]');
      button.disabled = true;
      try {
        const data = await api('POST', `/api/media/${form.dataset.mediaId}/masks`, new FormData(form));
        toast(data && data.status === 'duplicate' ? 'That mask was already in the library; it is linked now.' : 'Mask uploaded.');
        await Media.refresh('Masks', '#masks-panel');
        Media.toggleMasks(true);
      } catch (err) {
        toast(err.message, 'error');
      } finally {
        button.disabled = false;
      }
    },

    // Face boxes with names over the picture (shown until turned off).
    toggleFaces() {
      const layer = $('#face-layer');
      if (!layer) return false;
      layer.hidden = !layer.hidden;
      $$('[data-action="toggle-faces"]').forEach((b) => b.setAttribute('aria-pressed', String(!layer.hidden)));
      return true;
    },

    key(e) {
      if (!Media.page) return false;
      switch (e.key) {
        case 'ArrowLeft': case 'ArrowRight': {
          const link = $(e.key === 'ArrowLeft' ? '.media-nav a[rel="prev"]' : '.media-nav a[rel="next"]');
          if (link) window.location.href = link.href;
          return true;
        }
        case 't': return Media.focusField('#tag-input');
        case 'e': return Media.focusField('#caption-text');
        case 'c': Media.toggleCropMode(true); return Media.canEdit;
        case 'm': Media.toggleMasks(); return true;
        case 'f': return Media.toggleFaces();
        case 'Delete': { const b = $('#delete-media'); if (b) b.click(); return !!b; }
        case 'Escape':
          if (Media.cropping || Media.sel) { Media.cancel(); return true; }
          { const back = $('.media-nav a[data-shortcut="back"]'); if (back) window.location.href = back.href; return !!back; }
        default: return false;
      }
    },

    focusField(sel) {
      const el = $(sel);
      if (!el) return false;
      el.scrollIntoView({ block: 'center', behavior: 'smooth' });
      el.focus({ preventScroll: true });
      return true;
    },
  };

  // Escape inside the crop form cancels the crop.
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && e.target.closest?.('#crop-form')) { e.preventDefault(); Media.cancel(); }
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Global keyboard shortcuts (never while typing or with a dialog open).
  // ---------------------------------------------------------------------------------------------------------------
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
    if (e.key === '?') { e.preventDefault(); openDialog('shortcuts'); return; }
    if (e.key === '/' && $('#q')) { e.preventDefault(); const q = $('#q'); q.focus(); q.select(); return; }
    if (Gallery.key(e) || Media.key(e)) e.preventDefault();
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Upload: one request per file (three at a time), each with its own progress bar and result.
  // ---------------------------------------------------------------------------------------------------------------
  const Upload = {
    queue: [], running: 0, max: 3, counts: { imported: 0, duplicate: 0, failed: 0 },

    init() {
      const form = $('#upload-form');
      if (!form) return;
      const input = $('#upload-input');
      const zone = $('#dropzone');
      input.addEventListener('change', () => { Upload.add(input.files); input.value = ''; });
      form.addEventListener('submit', (e) => e.preventDefault());
      let depth = 0;
      const hasFiles = (e) => Array.from(e.dataTransfer?.types || []).includes('Files');
      document.addEventListener('dragenter', (e) => { if (hasFiles(e)) { depth++; zone.classList.add('over'); } });
      document.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) zone.classList.remove('over'); });
      document.addEventListener('dragover', (e) => { if (hasFiles(e)) { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; } });
      document.addEventListener('drop', (e) => {
        if (!hasFiles(e)) return;
        e.preventDefault(); depth = 0; zone.classList.remove('over');
        Upload.add(e.dataTransfer.files);
      });
      document.addEventListener('paste', (e) => {
        const files = Array.from(e.clipboardData?.files || []);
        if (files.length) { e.preventDefault(); Upload.add(files); }
      });
      zone.addEventListener('click', (e) => { if (e.target === zone) input.click(); });
      document.addEventListener('click', (e) => {
        if (e.target.closest?.('[data-action="upload-clear"]')) {
          $$('#upload-list [data-status]').forEach((row) => { if (row.dataset.status !== 'uploading' && row.dataset.status !== 'queued') row.remove(); });
        }
      });
    },

    add(fileList) {
      const files = Array.from(fileList || []);
      if (!files.length) return;
      const tags = ($('#upload-tags')?.value || '').split(/[\s,]+/).filter(Boolean).join(',');
      const collection = ($('#upload-collection')?.value || '').trim();
      $('#upload-summary').hidden = false;
      for (const file of files) Upload.queue.push({ file, tags, collection, row: Upload.row(file) });
      Upload.pump();
    },

    row(file) {
      const li = document.createElement('li');
      li.className = 'upload-row';
      li.setAttribute('data-testid', 'upload-result');
      li.dataset.status = 'queued';
      const thumb = document.createElement('div');
      thumb.className = 'upload-thumb';
      if (file.type.startsWith('image/') && file.size < 64 * 1024 * 1024) {
        const img = document.createElement('img');
        const url = URL.createObjectURL(file);
        img.src = url; img.alt = ''; img.width = 56; img.height = 56;
        img.onload = img.onerror = () => URL.revokeObjectURL(url);
        thumb.append(img);
      }
      const body = document.createElement('div');
      body.className = 'upload-body';
      const name = document.createElement('div');
      name.className = 'upload-name';
      name.textContent = file.name || 'pasted image';
      const size = document.createElement('span');
      size.className = 'muted'; size.textContent = ` ${Upload.bytes(file.size)}`;
      name.append(size);
      const bar = document.createElement('progress');
      bar.max = 100; bar.value = 0;
      bar.setAttribute('aria-label', `Upload of ${file.name}`);
      const status = document.createElement('div');
      status.className = 'upload-status';
      status.textContent = 'Waiting…';
      body.append(name, bar, status);
      li.append(thumb, body);
      $('#upload-list').prepend(li);
      return li;
    },

    bytes(n) {
      if (n < 1024) return `${n} B`;
      if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
      return `${(n / 1024 / 1024).toFixed(1)} MB`;
    },

    pump() {
      while (Upload.running < Upload.max && Upload.queue.length) Upload.send(Upload.queue.shift());
    },

    send(job) {
      Upload.running++;
      const { row } = job;
      const bar = $('progress', row), status = $('.upload-status', row);
      row.dataset.status = 'uploading';
      status.textContent = 'Uploading…';
      const fd = new FormData();
      fd.append('files', job.file, job.file.name || 'pasted.png');
      if (job.tags) fd.append('tags', job.tags);
      if (job.collection) fd.append('collection', job.collection);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/media');
      xhr.setRequestHeader('X-CSRF-TOKEN', csrf());
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        bar.value = Math.round((e.loaded / e.total) * 100);
        if (e.loaded >= e.total) status.textContent = 'Processing…';
      };
      const done = (state, message, id) => {
        Upload.running--;
        Upload.finish(row, state, message, id);
        Upload.pump();
      };
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300 && data) {
          const item = (data.items || [])[0] || {};
          done(item.status || (data.imported ? 'imported' : data.duplicates ? 'duplicate' : 'failed'), item.error, item.id || (data.media || [])[0]);
        } else {
          done('failed', (data && (data.detail || data.title)) || `${xhr.status} ${xhr.statusText}`);
        }
      };
      xhr.onerror = () => done('failed', 'The upload was interrupted (network error).');
      xhr.send(fd);
    },

    finish(row, state, message, id) {
      const bar = $('progress', row), status = $('.upload-status', row);
      row.dataset.status = state;
      if (state in Upload.counts) Upload.counts[state]++;
      bar.value = 100;
      status.replaceChildren();
      const link = (text) => {
        if (!id) return document.createTextNode('');
        const a = document.createElement('a'); a.href = `/media/${id}`; a.textContent = text; return a;
      };
      if (state === 'imported') status.append('Imported · ', link('open'));
      else if (state === 'duplicate') status.append('Already in the library · ', link('see the existing one'));
      else status.append(message || 'Failed.');
      if (state === 'failed') row.setAttribute('role', 'alert');
      for (const [k, v] of Object.entries(Upload.counts)) {
        const el = $(`#upload-summary [data-count="${k}"]`);
        if (el) el.textContent = fmt.format(v);
      }
    },
  };

  // Opening a tile remembers the place in the gallery's address, so Back (and Esc on the image) returns to it even
  // after many pages were loaded by scrolling.
  document.addEventListener('click', (e) => {
    const tile = e.target.closest?.('#grid [data-testid="tile"]');
    if (!tile || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    Gallery.remember(tile);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && e.target.matches?.('#grid [data-testid="tile"]')) Gallery.remember(e.target);
  }, true);
  Gallery.remember = (tile) => {
    const i = Number(tile.dataset.index);
    const size = Number($('#grid')?.dataset.pageSize) || 60;
    const url = new URL(window.location.href);
    url.searchParams.delete('cursor');
    const start = Math.floor(i / size) * size;
    if (start > 0) url.searchParams.set('start', String(start)); else url.searchParams.delete('start');
    url.hash = `t${i}`;
    history.replaceState(history.state, '', url);
  };
  Gallery.restore = () => {
    const m = /^#t(\d+)$/.exec(window.location.hash);
    const tile = m && document.getElementById(`t${m[1]}`);
    if (!tile) return;
    tile.focus({ preventScroll: true });
    const center = () => tile.scrollIntoView({ block: 'center' });
    center();
    // The browser scrolls to the #fragment itself once the page has loaded; centre the tile after that.
    if (document.readyState !== 'complete') window.addEventListener('load', () => requestAnimationFrame(center), { once: true });
  };

  function init() {
    Gallery.restore();
    Media.init();
    Upload.init();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
