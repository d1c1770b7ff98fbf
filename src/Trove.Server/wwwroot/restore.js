// The image page's "Restore / upscale" panel: choosing a model puts its defaults in the form (tile size, overlap, the
// prompt of prompt-driven models); after Run (htmx swaps the panel in with the queued job) the status follows the job
// through GET /api/jobs/{id} — queued, the phase and the tiles done — then opens the comparison of the result, or shows
// the job's error in place and lets the form run again.
(function () {
  'use strict';
  const $ = (sel, root) => (root || document).querySelector(sel);
  const POLL_MS = 400;
  let watching = null;
  let timer = 0;
  let justRan = false;

  // A model's defaults, from its <option>.
  document.addEventListener('change', (e) => {
    const select = e.target.closest?.('#restore-model');
    if (!select) return;
    const o = select.selectedOptions[0];
    const form = select.form;
    if (!o || !form) return;
    const set = (name, value) => { const el = form.elements[name]; if (el) el.value = value ?? ''; };
    set('tileSize', o.dataset.tileSize);
    set('tileOverlap', o.dataset.tileOverlap);
    set('prompt', o.dataset.prompt);
    const local = $('[data-restore-local]', form);
    if (local) local.hidden = o.dataset.remote === 'true';
    const prompt = $('[data-restore-prompt]', form);
    if (prompt) prompt.hidden = o.dataset.acceptsPrompt !== 'true';
  });

  // While the Run request is on its way, the button waits.
  document.addEventListener('htmx:beforeRequest', (e) => {
    const form = e.detail.elt;
    if (form?.matches?.('.restore-form')) { justRan = true; const b = $('[data-testid="restore-run"]', form); if (b) b.disabled = true; }
  });
  document.addEventListener('htmx:afterRequest', (e) => {
    const form = e.detail.elt;
    if (form?.matches?.('.restore-form') && !e.detail.successful) { justRan = false; if (form.isConnected) { const b = $('[data-testid="restore-run"]', form); if (b) b.disabled = false; } }
  });

  function describe(job) {
    switch (job.status) {
      case 'queued':
        return job.error ? `The last attempt failed; it will be tried again. ${job.error}` : 'Queued: waiting for a worker…';
      case 'running':
        return job.total > 0 ? `${job.phase || 'Running'}: ${job.done} / ${job.total} tiles` : `${job.phase || 'Running'}…`;
      case 'succeeded':
        return job.result && job.result.existing ? 'Done: this run had been made before; opening its result…' : 'Done: opening the comparison…';
      case 'cancelled':
        return 'Cancelled.';
      default:
        return 'Failed.';
    }
  }

  function render(status, job) {
    status.dataset.status = job.status;
    const progress = $('progress', status);
    const text = $('[data-testid="restore-text"]', status);
    const failure = $('[data-testid="restore-failure"]', status);
    const failed = job.status === 'failed' || job.status === 'cancelled';
    if (progress) {
      progress.parentElement.hidden = failed;
      if (job.total > 0) {
        progress.max = job.total;
        progress.value = job.done;
        progress.setAttribute('aria-valuenow', String(job.done));
        progress.setAttribute('aria-valuemax', String(job.total));
        progress.textContent = `${job.done} / ${job.total}`;
      } else if (job.status === 'succeeded') {
        progress.max = 1; progress.value = 1;
      } else {
        progress.removeAttribute('value');
      }
    }
    if (text) text.textContent = describe(job);
    if (failure) {
      failure.textContent = job.status === 'failed' ? (job.error || 'The job failed without saying why (see the Jobs page).') : '';
      failure.hidden = job.status !== 'failed';
    }
  }

  function setRunning(panel, running) {
    const button = panel && $('[data-testid="restore-run"]', panel);
    if (button) button.disabled = running;
  }

  async function poll(status, id) {
    if (watching !== id || !status.isConnected) return;
    let job;
    try {
      job = await window.Trove.api('GET', `/api/jobs/${encodeURIComponent(id)}`);
    } catch (err) {
      const text = $('[data-testid="restore-text"]', status);
      if (text) text.textContent = `Could not read the job (${err.message}); trying again…`;
      timer = setTimeout(() => poll(status, id), POLL_MS * 5);
      return;
    }
    if (watching !== id || !status.isConnected) return;
    render(status, job);
    const panel = status.closest('#restore-panel');
    if (job.status === 'succeeded') {
      const result = job.result && job.result.result;
      if (result) {
        status.dataset.result = result;
        window.location.assign(`/media/${encodeURIComponent(result)}/compare`);
      }
      return;
    }
    if (job.status === 'failed' || job.status === 'cancelled') {
      watching = null;
      setRunning(panel, false);
      return;
    }
    setRunning(panel, true);
    timer = setTimeout(() => poll(status, id), POLL_MS);
  }

  // justRun: the panel came back from Run (htmx), so a run that is already done opens its comparison at once; on a page
  // load (?job=ID) a finished run is only shown, with its Compare link.
  function watch(justRun) {
    const status = $('#restore-status[data-job]');
    if (!status) { watching = null; return; }
    const id = status.dataset.job;
    if (watching === id) return;
    if (status.dataset.status === 'succeeded') {
      if (justRun && status.dataset.result) window.location.assign(`/media/${encodeURIComponent(status.dataset.result)}/compare`);
      return;
    }
    if (status.dataset.status === 'failed' || status.dataset.status === 'cancelled') return;
    clearTimeout(timer);
    watching = id;
    poll(status, id);
  }

  document.addEventListener('htmx:afterSettle', () => { const run = justRan; justRan = false; watch(run); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => watch(false)); else watch(false);
})();
