// The Rollway dashboard in the browser: plain DOM code, no framework. Data arrives over one
// Server-Sent Events stream per page (the namespace's rollouts, and the open rollout's detail);
// actions go to the same JSON API the CLI's actions back. All text is set with textContent.
/* global document, window, EventSource, fetch, setInterval, setTimeout, URLSearchParams */
'use strict';

const state = {
  namespace: '',
  rollouts: [],
  detail: undefined,
  detailMissing: false,
  clockOffset: 0, // server time minus browser time
  stream: undefined,
  route: { name: undefined },
  // what the user's Kubernetes rights allow in this namespace: { actions: bool, reason? }
  rights: { actions: true },
  // the open rollout's Experiments (GET /api/rollouts/NS/NAME/experiments)
  experiments: [],
};

const $ = (id) => document.getElementById(id);

/** h('div', {class: 'x'}, 'text', child...) */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'onclick') el.addEventListener('click', v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const { Node } = window;

const now = () => Date.now() + state.clockOffset;

function pct(v) {
  if (v === undefined || v === null) return '–';
  const r = Math.round(v * 100) / 100;
  return `${r}%`;
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const hrs = Math.floor(m / 60);
  return hrs < 48 ? `${hrs}h${m % 60 ? `${m % 60}m` : ''}` : `${Math.floor(hrs / 24)}d`;
}

/** `#3 (hash)` for the revision a blue-green Service selects. */
const revisionText = (rev) => (rev ? `#${rev.revision ?? '?'} (${rev.hash})` : '-');
const phase = (p) => h('span', { class: `phase ${p}`, 'data-testid': 'phase' }, p);
const tags = (list) => list.flatMap((t) => [' ', h('span', { class: `tag ${t}` }, t)]);

function toast(text, isError) {
  const el = h('div', { class: isError ? 'error' : '' }, text);
  $('toast').append(el);
  setTimeout(() => el.remove(), isError ? 8000 : 4000);
}

// --- routing: #/ (list) or #/NAMESPACE/NAME (detail) --------------------------------------------

function parseRoute() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length >= 2) return { namespace: parts[0], name: parts[1] };
  if (parts.length === 1) return { namespace: parts[0], name: undefined };
  return { namespace: undefined, name: undefined };
}

function go() {
  const route = parseRoute();
  if (route.namespace) state.namespace = route.namespace;
  state.route = route;
  state.detail = undefined;
  state.detailMissing = false;
  $('namespace').value = state.namespace;
  connect();
  render();
  loadRights(state.namespace);
}

/** Asks once per namespace whether the user may act on Rollouts there; buttons follow. */
async function loadRights(namespace) {
  try {
    const rights = await (await fetch(`/api/rights?${new URLSearchParams({ namespace })}`)).json();
    if (namespace !== state.namespace) return;
    state.rights = rights;
  } catch {
    state.rights = { actions: true }; // unknown: let the API server decide on the click
  }
  render();
}

// --- live data ---------------------------------------------------------------------------------

function connect() {
  if (state.stream) state.stream.close();
  state.experiments = [];
  const q = new URLSearchParams({ namespace: state.namespace });
  if (state.route.name) q.set('rollout', state.route.name);
  const es = new EventSource(`/api/stream?${q}`);
  state.stream = es;
  const live = $('live');
  es.addEventListener('open', () => {
    live.textContent = '● live';
    live.className = 'live on';
  });
  es.addEventListener('error', () => {
    live.textContent = '● reconnecting';
    live.className = 'live';
  });
  es.addEventListener('rollouts', (e) => {
    const data = JSON.parse(e.data);
    state.clockOffset = data.now - Date.now();
    state.rollouts = data.rollouts;
    if (!state.route.name) render();
  });
  es.addEventListener('rollout', (e) => {
    const data = JSON.parse(e.data);
    state.clockOffset = data.now - Date.now();
    state.detail = data.rollout || undefined;
    state.detailMissing = !data.rollout;
    if (state.route.name) render();
    void loadExperiments();
  });
}

// The open rollout's Experiments (experiment steps): read with each change of the rollout, and
// every 5 s for their own progress.
async function loadExperiments() {
  const name = state.route.name;
  if (!name) return;
  try {
    const res = await fetch(`/api/rollouts/${encodeURIComponent(state.namespace)}/${encodeURIComponent(name)}/experiments`);
    if (!res.ok || state.route.name !== name) return;
    const { experiments } = await res.json();
    if (JSON.stringify(experiments) === JSON.stringify(state.experiments)) return;
    state.experiments = experiments;
    render();
  } catch {
    // the live stream shows the connection state
  }
}
setInterval(() => void loadExperiments(), 5000);

// --- actions -----------------------------------------------------------------------------------

const ACTIONS = {
  promote: { label: 'Promote', text: (r) => `Leave the current pause of ${r.name}, or go on to its next step.` },
  'promote-full': { label: 'Promote full', text: (r) => `Skip every remaining step of ${r.name} and make the new revision stable now.` },
  abort: { label: 'Abort', danger: true, text: (r) => `Send all traffic of ${r.name} back to the stable revision. The rollout becomes Degraded until retried or updated.` },
  retry: { label: 'Retry', text: (r) => `Clear the abort of ${r.name} and run its steps again.` },
  pause: { label: 'Pause', text: (r) => `Hold ${r.name} at its current step (spec.paused).` },
  restart: { label: 'Restart', text: (r) => `Recreate the pods of ${r.name}, a few at a time.` },
  'set-image': { label: 'Set image…', text: (r) => `Change a container image of ${r.name}: this starts an update.` },
  undo: { label: 'Undo…', danger: true, text: (r) => `Roll ${r.name} back to the pod template of an earlier revision.` },
};

function confirmAction(action, r) {
  const spec = ACTIONS[action];
  const dialog = $('confirm');
  $('confirm-title').textContent = `${spec.label.replace('…', '')} ${r.name}?`;
  $('confirm-text').textContent = spec.text(r);
  const fields = $('confirm-fields');
  fields.replaceChildren();
  if (action === 'set-image') {
    const options = [h('option', { value: '*' }, '* (every container)'), ...r.containers.map((c) => h('option', { value: c }, c))];
    const select = h('select', { id: 'field-container' }, options);
    if (r.containers.length === 1) select.value = r.containers[0];
    fields.append(h('label', {}, 'Container', select), h('label', {}, 'Image', h('input', { id: 'field-image', required: true, placeholder: 'registry/app:tag', value: (r.images[r.images.length - 1] || {}).image || '' })));
  }
  if (action === 'undo') {
    const revisions = r.revisions.map((v) => v.revision).filter((n) => !r.revisions.find((v) => v.revision === n && v.replicaSets.some((s) => s.hash === r.currentHash)));
    fields.append(h('label', {}, 'Revision', h('select', { id: 'field-revision' }, [h('option', { value: '' }, 'the previous one'), ...revisions.map((n) => h('option', { value: n }, `revision ${n}`))])));
  }
  $('confirm-ok').className = spec.danger ? 'danger' : 'primary';
  dialog.returnValue = '';
  dialog.onclose = async () => {
    if (dialog.returnValue !== 'ok') return;
    const params = {};
    if (action === 'set-image') {
      params.container = $('field-container').value;
      params.image = $('field-image').value;
    }
    if (action === 'undo') params.revision = $('field-revision').value;
    try {
      const res = await fetch(`/api/rollouts/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}/${action}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(params),
      });
      const body = await res.json();
      if (!res.ok) toast(`${spec.label.replace('…', '')} failed: ${body.error}`, true);
      else toast(body.message);
    } catch (err) {
      toast(`${spec.label.replace('…', '')} failed: ${err}`, true);
    }
  };
  dialog.showModal();
}

// --- pages -------------------------------------------------------------------------------------

function render() {
  const main = $('main');
  const focus = document.activeElement && document.activeElement.id;
  main.replaceChildren(state.route.name ? detailPage() : listPage());
  if (focus && $(focus) && focus !== 'search') $(focus).focus();
}

function matches(r) {
  const q = $('search').value.trim().toLowerCase();
  const p = $('phase-filter').value;
  if (p && r.phase !== p) return false;
  if (!q) return true;
  return [r.name, r.strategy, r.phase, r.message, ...r.images.map((i) => i.image)].some((s) => (s || '').toLowerCase().includes(q));
}

function listPage() {
  const rows = state.rollouts.filter(matches);
  if (state.rollouts.length === 0) return h('div', { class: 'panel empty' }, `No rollouts in namespace ${state.namespace}.`);
  if (rows.length === 0) return h('div', { class: 'panel empty' }, 'No rollout matches the search.');
  return h(
    'div',
    { class: 'panel' },
    h(
      'table',
      { 'data-testid': 'rollout-list' },
      h('thead', {}, h('tr', {}, ['Name', 'Status', 'Strategy', 'Step', 'Set weight', 'Actual weight', 'Ready', 'Images'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { 'data-rollout': r.name },
            h('td', {}, h('a', { href: `#/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}` }, r.name)),
            h('td', {}, phase(r.phase), r.message ? h('div', { class: 'muted' }, r.message) : null),
            h('td', {}, r.strategy),
            h('td', {}, r.step ? `${r.step.index}/${r.step.total}` : '–'),
            h('td', {}, pct(r.setWeight)),
            h('td', {}, pct(r.actualWeight)),
            h('td', {}, `${r.replicas.ready}/${r.replicas.desired}`),
            h('td', { class: 'mono' }, r.images.map((i) => h('div', {}, i.image, tags(i.tags)))),
          ),
        ),
      ),
    ),
  );
}

function detailPage() {
  const r = state.detail;
  if (!r) {
    return h('div', { class: 'panel empty' }, state.detailMissing ? `Rollout ${state.route.name} not found in namespace ${state.namespace}.` : 'Loading…');
  }
  const t = now();
  const current = r.steps.find((s) => s.state === 'current');
  const summary = h(
    'div',
    { class: 'summary' },
    h('div', {}, h('span', {}, 'Strategy'), h('b', {}, r.strategy)),
    r.step ? h('div', {}, h('span', {}, 'Step'), h('b', { 'data-testid': 'step' }, `${r.step.index}/${r.step.total}`)) : null,
    r.setWeight !== undefined ? h('div', {}, h('span', {}, 'Set weight'), h('b', { 'data-testid': 'set-weight' }, pct(r.setWeight))) : null,
    r.actualWeight !== undefined ? h('div', {}, h('span', {}, `Actual weight (${r.actualWeightFrom === 'status' ? (r.routing.length ? 'status' : 'pod counts') : r.actualWeightFrom})`), h('b', { 'data-testid': 'actual-weight' }, pct(r.actualWeight))) : null,
    r.blueGreen ? h('div', {}, h('span', {}, 'Active'), h('b', { 'data-testid': 'active' }, revisionText(r.blueGreen.active))) : null,
    r.blueGreen ? h('div', {}, h('span', {}, 'Preview'), h('b', { 'data-testid': 'preview' }, revisionText(r.blueGreen.preview))) : null,
    h('div', {}, h('span', {}, 'Ready / desired'), h('b', {}, `${r.replicas.ready}/${r.replicas.desired}`)),
    h('div', {}, h('span', {}, 'Updated / available'), h('b', {}, `${r.replicas.updated} / ${r.replicas.available}`)),
  );
  let note = '';
  if (r.pausedBySpec) note = 'paused by spec.paused: Promote resumes it';
  else if (r.blueGreen && r.pause && r.pause.reason === 'BlueGreenPause') note = r.blueGreen.autoPromoteAt ? `auto-promotion in ${duration(r.blueGreen.autoPromoteAt - t)}` : 'waiting for promotion';
  else if (current && current.pauseEndsAt) note = `timed pause, ${duration(current.pauseEndsAt - t)} left`;
  else if (current && current.waitingForPromotion) note = 'waiting for promotion';
  const head = h(
    'div',
    { class: 'panel' },
    h('div', { class: 'muted' }, h('a', { href: `#/${encodeURIComponent(r.namespace)}` }, `← rollouts of ${r.namespace}`)),
    h('div', { class: 'title' }, h('h1', {}, r.name), phase(r.phase)),
    r.message || note ? h('div', { class: 'muted', 'data-testid': 'message' }, [r.message, note].filter(Boolean).join(' · ')) : null,
    summary,
    h('div', { class: 'mono images' }, r.images.map((i) => h('div', {}, i.image, tags(i.tags)))),
    h(
      'div',
      { class: 'actions' },
      Object.entries(ACTIONS).map(([action, spec]) =>
        state.rights.actions
          ? h('button', { class: spec.danger ? 'danger' : '', 'data-action': action, onclick: () => confirmAction(action, r) }, spec.label)
          : h('button', { class: spec.danger ? 'danger' : '', 'data-action': action, disabled: 'disabled', title: state.rights.reason }, spec.label),
      ),
      state.rights.actions ? null : h('div', { class: 'muted', 'data-testid': 'rights' }, `Actions unavailable: ${state.rights.reason}`),
    ),
  );

  const steps = h(
    'div',
    { class: 'panel' },
    h('h2', {}, r.steps.length ? `Steps (${r.step ? r.step.index : 0}/${r.steps.length})` : 'Steps'),
    r.steps.length === 0
      ? h('div', { class: 'muted' }, r.strategy === 'BlueGreen' ? 'A blue-green rollout has no steps: preview, then switch.' : 'No steps: an update goes straight to 100%.')
      : h(
          'ol',
          { class: 'steps', 'data-testid': 'steps' },
          r.steps.map((s) => {
            let extra = null;
            if (s.state === 'current' && s.pauseEndsAt) extra = h('span', { class: 'note' }, `${duration(s.pauseEndsAt - t)} left`);
            else if (s.state === 'current' && s.waitingForPromotion) extra = h('span', { class: 'note' }, 'waiting for promotion');
            else if (s.analysis) extra = h('span', { class: 'note' }, `${s.analysis.name}: ${s.analysis.status}`);
            return h('li', { class: s.state, 'data-step': s.index + 1 }, h('span', { class: 'n' }, s.index + 1), h('span', {}, s.text), extra, h('span', { class: 'w' }, `weight ${pct(s.weight)}`));
          }),
        ),
  );

  const routing = h(
    'div',
    { class: 'panel' },
    h('h2', {}, 'Traffic routing'),
    r.routing.length === 0
      ? h('div', { class: 'muted' }, 'No traffic router: the canary share is the share of canary pods.')
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ['Object', 'Canary weight', 'Ratio'].map((x) => h('th', {}, x)))),
          h('tbody', {}, r.routing.map((o) => h('tr', {}, h('td', {}, `${o.kind}/${o.name}`), h('td', {}, o.error ? h('span', { class: 'phase Degraded' }, o.error) : pct(o.percent), ...(o.extraPercents ?? []).map((e) => h('div', { class: 'muted', 'data-testid': 'experiment-share' }, `${e.service} ${pct(e.percent)}`))), h('td', { class: 'muted' }, o.weight ? `${o.weight.canary} / ${o.weight.total}` : '')))),
        ),
  );

  const revisions = h(
    'div',
    { class: 'panel' },
    h('h2', {}, 'Revisions'),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ['Revision', 'ReplicaSet', 'Status', 'Pods', 'Analysis'].map((x) => h('th', {}, x)))),
      h(
        'tbody',
        {},
        r.revisions.flatMap((rev) =>
          rev.replicaSets.map((rs) =>
            h(
              'tr',
              { 'data-revision': rev.revision },
              h('td', {}, `#${rev.revision}`, tags(rs.tags)),
              h('td', { class: 'mono' }, rs.name, h('div', { class: 'muted' }, rs.images.join(', '))),
              h('td', {}, phase(rs.status), h('div', { class: 'muted' }, `available ${rs.available}/${rs.desired}`), rs.scaleDownAt && rs.scaleDownAt > t && rs.desired > 0 ? h('div', { class: 'muted' }, `scale-down in ${duration(rs.scaleDownAt - t)}`) : null),
              h('td', {}, h('div', { class: 'pods' }, rs.pods.map((p) => h('span', { class: `pod ${p.ok === true ? 'ok' : p.ok === false ? 'bad' : ''}`, title: `${p.status}, ready ${p.ready}, restarts ${p.restarts}` }, `${p.name.slice(rs.name.length + 1) || p.name} ${p.ready}${p.restarts ? ` ↻${p.restarts}` : ''}`)))),
              h(
                'td',
                {},
                rev.analysisRuns.map((a) =>
                  h('div', {}, phase(a.phase), ' ', a.name, h('div', { class: 'muted' }, `✔ ${a.counts.successful} ✖ ${a.counts.failed} ? ${a.counts.inconclusive} ⚠ ${a.counts.error}`), a.metrics.map((m) => h('div', { class: 'muted' }, `${m.name}: ${m.phase} (${m.successful}/${m.failed}/${m.inconclusive}/${m.error})`))),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  const experiments = (state.experiments || []).length === 0
    ? null
    : h(
        'div',
        { class: 'panel', 'data-testid': 'experiments' },
        h('h2', {}, 'Experiments'),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ['Experiment', 'Status', 'Templates', 'Analyses'].map((x) => h('th', {}, x)))),
          h(
            'tbody',
            {},
            state.experiments.map((e) =>
              h(
                'tr',
                {},
                h('td', { class: 'mono' }, e.name, e.timeLeftMs !== undefined ? h('div', { class: 'muted' }, `${duration(e.timeLeftMs)} left`) : null),
                h('td', {}, phase(e.phase), e.message ? h('div', { class: 'muted' }, e.message) : null),
                h('td', {}, e.templates.map((x) => h('div', {}, `${x.name}: ${x.status} (${x.available}/${x.replicas})`))),
                h('td', {}, e.analyses.map((a) => h('div', {}, `${a.name}: ${a.phase}`))),
              ),
            ),
          ),
        ),
      );
  return h('div', {}, head, h('div', { class: 'grid2' }, steps, routing), revisions, experiments);
}

// --- start -------------------------------------------------------------------------------------

async function start() {
  const config = await (await fetch('/api/config')).json();
  state.namespace = config.namespace;
  const select = $('namespace');
  try {
    const { namespaces } = await (await fetch('/api/namespaces')).json();
    const names = namespaces.includes(config.namespace) ? namespaces : [config.namespace, ...namespaces];
    select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
  } catch {
    select.replaceChildren(h('option', { value: config.namespace }, config.namespace));
  }
  select.addEventListener('change', () => {
    window.location.hash = `#/${encodeURIComponent(select.value)}`;
  });
  $('search').addEventListener('input', render);
  $('phase-filter').addEventListener('change', render);
  window.addEventListener('hashchange', go);
  // Countdowns move with the clock between pushes.
  setInterval(() => {
    if (state.route.name && state.detail && !$('confirm').open) render();
  }, 1000);
  go();
}

start();
