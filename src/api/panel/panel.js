// The smsc control panel: plain browser JavaScript against the HTTP API, no build step.
// Everything a page shows is put in with textContent (message texts come from strangers).
'use strict';

const TOKEN_KEY = 'smsc.adminToken';
const STATES = ['queued', 'locked', 'submitted', 'delivered', 'undeliverable', 'expired', 'rejected', 'cancelled'];
const SAMPLES = 60;
const POLL_MS = 2000;

const $ = (selector) => document.querySelector(selector);
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let currentTab = 'overview';
let pollTimer;
let nextCursor = null;
let detailTimer;
const FINAL = new Set(['delivered', 'undeliverable', 'expired', 'rejected', 'cancelled']);
const series = { rate: [], backlog: [] };

/** One element with attributes and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'className') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

class ApiFailure extends Error {
  constructor(status, body) {
    super(body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (response.status === 401 || response.status === 403) {
    if (response.status === 401 || (parsed && parsed.error && parsed.error.code === 'MANAGEMENT_DISABLED'))
      signOut(parsed && parsed.error ? parsed.error.message : 'sign in again');
  }
  if (!response.ok && response.status !== 207) throw new ApiFailure(response.status, parsed);
  return parsed;
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString();
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

// ---- sign in ----------------------------------------------------------------------------------

function signOut(message) {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(pollTimer);
  $('main').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
  $('#who').textContent = '';
}

async function signIn(candidate) {
  token = candidate;
  try {
    await api('GET', '/api/v1/nodes');
  } catch (error) {
    signOut(error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#login').hidden = true;
  $('main').hidden = false;
  $('#who').textContent = 'admin';
  showTab(currentTab);
}

$('#login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn($('#token').value.trim());
});

// ---- tabs -------------------------------------------------------------------------------------

function showTab(name) {
  currentTab = name;
  for (const button of document.querySelectorAll('nav button')) button.classList.toggle('active', button.dataset.tab === name);
  for (const section of document.querySelectorAll('section.tab')) section.hidden = section.id !== name;
  clearTimeout(pollTimer);
  if (name === 'overview') void pollOverview();
  if (name === 'routes') void loadRoutes();
}

for (const button of document.querySelectorAll('nav button')) button.addEventListener('click', () => showTab(button.dataset.tab));

// ---- overview ---------------------------------------------------------------------------------

function push(list, value) {
  list.push(value);
  if (list.length > SAMPLES) list.shift();
}

function drawLine(id, values) {
  const max = Math.max(1, ...values);
  const step = 600 / (SAMPLES - 1);
  const offset = SAMPLES - values.length;
  $(id).setAttribute('points', values.map((v, i) => `${((offset + i) * step).toFixed(1)},${(135 - (v / max) * 125).toFixed(1)}`).join(' '));
}

async function pollOverview() {
  if (currentTab !== 'overview' || !token) return;
  try {
    const [queue, connectors, nodes] = await Promise.all([
      api('GET', '/api/v1/queue'),
      api('GET', '/api/v1/connectors'),
      api('GET', '/api/v1/nodes'),
    ]);
    $('#rate').textContent = queue.arrivalsPerSecond.toFixed(1);
    $('#backlog').textContent = String(queue.backlog);
    $('#due').textContent = String(queue.due);
    push(series.rate, queue.arrivalsPerSecond);
    push(series.backlog, queue.backlog);
    drawLine('#chart-rate', series.rate);
    drawLine('#chart-backlog', series.backlog);
    $('#states tbody').replaceChildren(
      ...STATES.map((s) => el('tr', {}, el('td', {}, s), el('td', { 'data-state': s }, String(queue.byState[s] || 0)))),
    );
    $('#connectors tbody').replaceChildren(
      ...connectors.map((c) =>
        el(
          'tr',
          { 'data-connector': c.name },
          el('td', {}, c.name, c.enabled === false ? ' (disabled)' : ''),
          el('td', {}, `${c.host}:${c.port}`),
          el(
            'td',
            { className: 'connector-states' },
            c.states.length ? c.states.map((s) => `${s.state} on ${s.node}`).join(', ') : 'no live session reported',
          ),
        ),
      ),
    );
    $('#nodes tbody').replaceChildren(
      ...nodes.map((n) =>
        el(
          'tr',
          { 'data-node': n.name },
          el('td', {}, n.kind),
          el('td', {}, n.name),
          el('td', {}, String(n.pid)),
          el('td', {}, ago(n.lastSeenAt)),
          el('td', {}, n.live ? '' : 'STALE'),
        ),
      ),
    );
  } catch (error) {
    $('#rate').textContent = '!';
    console.error(error);
  }
  pollTimer = setTimeout(pollOverview, POLL_MS);
}

// ---- messages ---------------------------------------------------------------------------------

const stateSelect = $('#search-form select[name=state]');
for (const s of STATES) stateSelect.append(el('option', { value: s }, s));

function textOf(m) {
  if (m.text !== undefined) return m.text.length > 60 ? `${m.text.slice(0, 57)}...` : m.text;
  return m.data !== undefined ? `(binary, ${atob(m.data).length} octets)` : '';
}

async function search(append) {
  const form = new FormData($('#search-form'));
  const messageId = String(form.get('messageId') || '').trim();
  if (messageId && !append) {
    $('#results tbody').replaceChildren();
    $('#more').hidden = true;
    await showMessage(messageId);
    return;
  }
  const params = new URLSearchParams();
  for (const name of ['to', 'account', 'state']) {
    const value = String(form.get(name) || '').trim();
    if (value) params.set(name, value);
  }
  params.set('limit', '25');
  if (append && nextCursor) params.set('cursor', nextCursor);
  try {
    const page = await api('GET', `/api/v1/messages?${params}`);
    const rows = page.messages.map((m) =>
      el(
        'tr',
        { className: 'clickable', 'data-message-id': m.messageId, onclick: () => void showMessage(m.messageId) },
        el('td', {}, el('code', {}, m.messageId)),
        el('td', {}, fmtTime(m.arrivedAt)),
        el('td', {}, m.account),
        el('td', {}, m.to),
        el('td', { className: `state-${m.state}` }, m.state),
        el('td', {}, textOf(m)),
      ),
    );
    if (append) $('#results tbody').append(...rows);
    else $('#results tbody').replaceChildren(...rows);
    nextCursor = page.nextCursor;
    $('#more').hidden = !nextCursor;
  } catch (error) {
    $('#results tbody').replaceChildren(el('tr', {}, el('td', { colspan: 6, className: 'error' }, error.message)));
  }
}

$('#search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  nextCursor = null;
  void search(false);
});
$('#more').addEventListener('click', () => void search(true));

async function showMessage(messageId) {
  clearTimeout(detailTimer);
  const detail = $('#detail');
  detail.hidden = false;
  $('#detail-id').textContent = messageId;
  $('#cancel-result').textContent = '';
  let m;
  try {
    m = await api('GET', `/api/v1/messages/${encodeURIComponent(messageId)}`);
  } catch (error) {
    $('#detail-fields').replaceChildren(el('dt', {}, 'error'), el('dd', { className: 'error' }, error.message));
    $('#timeline').replaceChildren();
    $('#receipts').replaceChildren();
    $('#cancel').hidden = true;
    return;
  }
  const fields = [
    ['state', el('span', { className: `state-${m.state}`, id: 'detail-state' }, m.state)],
    ['account', m.account],
    ['from', m.from],
    ['to', `${m.to} (${m.destKey})`],
    ['text', m.text !== undefined ? m.text : `(binary) ${m.data || ''}`],
    ['arrived', fmtTime(m.arrivedAt)],
    ['valid until', fmtTime(m.validUntil)],
    ['attempts', String(m.attempts)],
    ['part', m.part ? `${m.part.seq} of ${m.part.total}` : '1 of 1'],
  ];
  if (m.remote) fields.push(['downstream', `${m.remote.connector} as ${m.remote.messageId}`]);
  if (m.finalAt) fields.push(['final at', fmtTime(m.finalAt)]);
  if (m.error && m.error.message) fields.push(['last error', m.error.message]);
  $('#detail-fields').replaceChildren(...fields.flatMap(([name, value]) => [el('dt', {}, name), el('dd', {}, value)]));
  const timeline = [el('li', {}, `${fmtTime(m.arrivedAt)} — stored (arrived)`)];
  for (const h of m.history)
    timeline.push(
      el('li', {}, `${fmtTime(h.at)} — ${h.outcome}${h.connector ? ` via ${h.connector}` : ''}${h.error ? ` (${h.error})` : ''}`),
    );
  if (m.finalAt) timeline.push(el('li', {}, `${fmtTime(m.finalAt)} — ${m.state}`));
  $('#timeline').replaceChildren(...timeline);
  $('#receipts').replaceChildren(
    ...(m.receipts.length
      ? m.receipts.map((r) =>
          el(
            'li',
            { 'data-receipt': r.kind },
            r.kind === 'downstream'
              ? `${fmtTime(r.at)} — ${r.stat} from the downstream${r.connector ? ` (${r.connector})` : ''}${r.messageId ? `, id ${r.messageId}` : ''}${r.err !== undefined ? `, err ${r.err}` : ''}`
              : `${fmtTime(r.at)} — receipt ${r.stat || ''} to the account${r.kind === 'callback' ? ' (HTTP callback)' : ''}: ${r.deliveryState}`,
          ),
        )
      : [el('li', {}, m.registeredDelivery ? 'none yet' : 'none requested')]),
  );
  // Follow a message that is still on its way until it is final.
  if (!FINAL.has(m.state)) {
    detailTimer = setTimeout(() => {
      if (currentTab === 'messages' && $('#detail-id').textContent === messageId) void showMessage(messageId);
    }, POLL_MS);
  }
  const cancel = $('#cancel');
  cancel.hidden = m.state !== 'queued';
  cancel.onclick = async () => {
    try {
      await api('DELETE', `/api/v1/messages/${encodeURIComponent(m.messageId)}`);
      $('#cancel-result').textContent = 'cancelled';
      await showMessage(m.messageId);
    } catch (error) {
      $('#cancel-result').textContent = error.message;
    }
  };
}

// ---- send -------------------------------------------------------------------------------------

$('#send-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = {
    account: String(form.get('account')).trim(),
    from: String(form.get('from')).trim(),
    to: String(form.get('to')).trim(),
    text: String(form.get('text')),
    registeredDelivery: form.get('receipt') ? 1 : 0,
  };
  const result = $('#send-result');
  result.className = '';
  try {
    const answer = await api('POST', '/api/v1/messages', body);
    result.className = 'ok';
    result.replaceChildren(
      `Stored as `,
      el(
        'a',
        {
          href: '#',
          id: 'sent-id',
          onclick: (e) => {
            e.preventDefault();
            showTab('messages');
            void showMessage(answer.messageId);
          },
        },
        answer.messageId,
      ),
      answer.parts > 1 ? ` (${answer.parts} parts)` : '',
    );
  } catch (error) {
    result.className = 'error';
    result.textContent = error.message;
  }
});

// ---- routes -----------------------------------------------------------------------------------

function routeRow(route) {
  const isNew = !route;
  const r = route || { prefix: '', connectors: [], esme: '', priority: 0, weight: 1, enabled: true };
  const input = (name, value, extra) => el('input', { name, value, ...extra });
  const row = el(
    'tr',
    { 'data-route': isNew ? 'new' : r.prefix, 'data-route-id': r.id || '' },
    el('td', {}, input('prefix', r.prefix, { placeholder: '(default)' })),
    el('td', {}, input('connectors', (r.connectors || []).join(', '))),
    el('td', {}, input('esme', r.esme || '')),
    el('td', {}, input('priority', String(r.priority), { type: 'number' })),
    el('td', {}, input('weight', String(r.weight), { type: 'number', min: '0.001', step: 'any' })),
    el('td', {}, el('input', { name: 'enabled', type: 'checkbox', checked: r.enabled !== false })),
    el(
      'td',
      {},
      el('button', { className: 'save', onclick: () => void saveRoute(row, r.id) }, isNew ? 'Add' : 'Save'),
      isNew ? '' : el('button', { className: 'delete', onclick: () => void deleteRoute(r.id) }, 'Delete'),
    ),
  );
  return row;
}

function routeFrom(row) {
  const value = (name) => row.querySelector(`[name=${name}]`).value.trim();
  const body = {
    prefix: value('prefix'),
    connectors: value('connectors')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    priority: Number(value('priority') || 0),
    weight: Number(value('weight') || 1),
    enabled: row.querySelector('[name=enabled]').checked,
  };
  if (value('esme')) body.esme = value('esme');
  return body;
}

async function loadRoutes() {
  try {
    const routes = await api('GET', '/api/v1/routes');
    $('#route-table tbody').replaceChildren(...routes.map(routeRow), routeRow(null));
  } catch (error) {
    $('#route-result').textContent = error.message;
  }
}

async function saveRoute(row, id) {
  const result = $('#route-result');
  try {
    if (id) await api('PATCH', `/api/v1/routes/${id}`, routeFrom(row));
    else await api('POST', '/api/v1/routes', routeFrom(row));
    result.className = 'ok';
    result.textContent = id ? 'route saved' : 'route added';
    await loadRoutes();
  } catch (error) {
    result.className = 'error';
    result.textContent = error.message;
  }
}

async function deleteRoute(id) {
  try {
    await api('DELETE', `/api/v1/routes/${id}`);
    $('#route-result').textContent = 'route removed';
    await loadRoutes();
  } catch (error) {
    $('#route-result').textContent = error.message;
  }
}

$('#simulate-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { to: String(form.get('to')).trim() };
  const account = String(form.get('account') || '').trim();
  if (account) body.account = account;
  const out = $('#simulation');
  try {
    const s = await api('POST', '/api/v1/routes/simulate', body);
    out.replaceChildren(
      el('p', {}, 'Connector: ', el('strong', { id: 'sim-connector' }, s.connector || (s.esme ? `ESME ${s.esme}` : 'none'))),
      el('p', { id: 'sim-reason' }, s.reason),
      el('p', {}, `destination as routed: ${s.destKey}; ${s.candidates.length} matching route(s)`),
    );
  } catch (error) {
    out.replaceChildren(el('p', { className: 'error' }, error.message));
  }
});

// ---- start ------------------------------------------------------------------------------------

if (token) void signIn(token);
else signOut('');
