// The live wallboard: subscribes to `wallboard` over graphql-transport-ws
// at this server's /query and renders each board. Hand-written rather than
// a client library, so that the page needs no build step and no code from
// elsewhere (the CSP allows scripts from this server only).
//
// Credentials: a token in the URL fragment (#token=...), which browsers
// never send to the server, so it stays out of access logs; a READ API
// token is the right one for a screen. Without one, the websocket upgrade
// carries the session cookie of a signed-in agent. ?group=<ID> picks a
// group; without it the board counts everything in the viewer's reach.

const PROTOCOL = 'graphql-transport-ws';
const SUBSCRIPTION_ID = 'wallboard';
const QUERY = `subscription Wallboard($groupID: ID) {
  wallboard(groupID: $groupID) {
    group { id name }
    new open pending unassigned breached dueSoon solvedToday
    oldestWaitingSince computedAt
    agentsOnline { name }
  }
}`;

// Reconnecting: exponential from 1s, capped at 30s, each delay drawn
// between half and all of it so that many screens that lost the server
// together do not come back together.
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30000;
// The server pings and sends the board at least every 30s; a connection
// silent for longer than this is half-open (a sleeping laptop, a dropped
// NAT entry) and is replaced.
const SILENCE_LIMIT_MS = 90000;
// How often the age of the oldest waiting ticket is redrawn between boards.
const AGE_TICK_MS = 15000;

// Close codes after which trying again would only be refused again: the
// credentials (4403), or a protocol mistake of this page (4400, 4401,
// 4406, 4409). 4429 is not among them: it is also the per-user connection
// limit, which frees up.
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409]);
// Error codes of the operation that a retry cannot fix.
const FATAL_ERROR_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT']);

const board = document.querySelector('.board');
const field = (name) => document.querySelector(`[data-field="${name}"]`);

let socket = null;
let attempts = 0; // failed connections since the last board
let reconnectTimer = 0;
let silenceTimer = 0;
let stopped = false; // a fatal error: wait for the user (reload, new fragment)
// The last board, and when it arrived by this browser's clock, so that
// the oldest ticket's age keeps counting between boards.
let last = null;
let lastReceivedAt = 0;

function credentials() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const group = new URLSearchParams(location.search).get('group');
  return { token: token || '', group: group || null };
}

function setState(state, label) {
  board.dataset.state = state;
  field('state').textContent = label;
}

function showMessage(text) {
  const el = field('message');
  el.textContent = text;
  el.hidden = !text;
}

function connect() {
  clearTimeout(reconnectTimer);
  const { token, group } = credentials();
  const url = new URL('/query', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, PROTOCOL);
  socket = ws;
  const send = (message) => ws.send(JSON.stringify(message));

  ws.addEventListener('open', () => {
    if (ws !== socket) return;
    const init = { type: 'connection_init' };
    if (token) init.payload = { Authorization: `Bearer ${token}` };
    send(init);
    expectTraffic(ws);
  });

  ws.addEventListener('message', (event) => {
    if (ws !== socket) return;
    expectTraffic(ws);
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      ws.close(4400, 'invalid JSON');
      return;
    }
    switch (message.type) {
      case 'connection_ack':
        send({ id: SUBSCRIPTION_ID, type: 'subscribe', payload: { query: QUERY, variables: { groupID: group } } });
        break;
      case 'ping':
        send({ type: 'pong' });
        break;
      case 'next':
        receive(message.payload);
        break;
      case 'error':
        failed(message.payload);
        break;
      case 'complete':
        // The server ended the subscription (shutting down, say): start over.
        ws.close(1000, 'subscription completed');
        break;
    }
  });

  ws.addEventListener('close', (event) => {
    if (ws !== socket) return;
    clearTimeout(silenceTimer);
    socket = null;
    if (stopped) return;
    if (FATAL_CLOSE_CODES.has(event.code)) {
      stop(refusal(event.code, event.reason, token));
      return;
    }
    scheduleReconnect(event.reason ? `connection lost: ${event.reason}` : 'connection lost');
  });
}

function refusal(code, reason, token) {
  if (code === 4403) {
    return token
      ? `The token was refused (${reason || 'forbidden'}). Put a valid API token of an agent or admin in the address: #token=…`
      : 'Not signed in. Sign in as an agent or admin, or open this page with an API token: /wallboard#token=…';
  }
  return `The server refused the connection (${code} ${reason}). Reload the page to try again.`;
}

function receive(payload) {
  const errors = payload && payload.errors;
  if (errors && errors.length) {
    failed(errors);
    return;
  }
  const wallboard = payload && payload.data && payload.data.wallboard;
  if (!wallboard) return;
  attempts = 0;
  last = wallboard;
  lastReceivedAt = Date.now();
  showMessage('');
  setState('live', 'live');
  render();
}

// failed handles GraphQL errors of the subscription: refusals stop the
// page; anything else (a passing server fault) is retried.
function failed(errors) {
  const list = Array.isArray(errors) ? errors : [];
  const first = list[0] || {};
  const code = (first.extensions && first.extensions.code) || 'ERROR';
  const text = first.message || 'the wallboard failed';
  if (FATAL_ERROR_CODES.has(code)) {
    const hint = code === 'FORBIDDEN' ? ' Only agents and admins can see the wallboard.' : '';
    stop(`${code}: ${text}.${hint}`);
    return;
  }
  const ws = socket;
  socket = null; // so that its close event does not schedule a second retry
  clearTimeout(silenceTimer);
  if (ws) ws.close(1000, 'retrying after an error');
  scheduleReconnect(`${code}: ${text}`);
}

function stop(message) {
  stopped = true;
  clearTimeout(reconnectTimer);
  clearTimeout(silenceTimer);
  const ws = socket;
  socket = null;
  if (ws) ws.close(1000, 'stopped');
  setState('error', 'error');
  showMessage(message);
}

function scheduleReconnect(reason) {
  clearTimeout(reconnectTimer);
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempts);
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  attempts++;
  setState('reconnecting', 'reconnecting…');
  showMessage(`${reason}; trying again in ${Math.ceil(delay / 1000)}s`);
  reconnectTimer = setTimeout(connect, delay);
}

// expectTraffic (re)arms the watchdog of a connection gone silent.
function expectTraffic(ws) {
  clearTimeout(silenceTimer);
  silenceTimer = setTimeout(() => {
    if (ws === socket) ws.close(4000, 'no traffic');
  }, SILENCE_LIMIT_MS);
}

function render() {
  if (!last) return;
  const b = last;
  field('group').textContent = b.group ? b.group.name : 'All groups';
  document.title = `${b.group ? b.group.name : 'All groups'} · Wallboard`;
  field('waiting').textContent = b.new + b.open + b.pending;
  for (const name of ['new', 'open', 'pending', 'unassigned', 'breached', 'dueSoon', 'solvedToday']) {
    field(name).textContent = b[name];
  }
  field('breached').closest('.tile').dataset.level = b.breached > 0 ? 'alert' : 'none';
  field('dueSoon').closest('.tile').dataset.level = b.dueSoon > 0 ? 'warn' : 'none';
  // null: presence could not be read (the server's Redis is down).
  field('agentsOnline').textContent = b.agentsOnline ? b.agentsOnline.length : '?';
  field('agentNames').textContent = b.agentsOnline ? b.agentsOnline.map((a) => a.name).join(', ') : 'unknown';
  const updated = field('updated');
  updated.dateTime = b.computedAt;
  updated.textContent = new Date(b.computedAt).toLocaleTimeString();
  renderAge();
}

// renderAge shows how long the oldest ticket has waited, measured on the
// server's clock (computedAt) plus the time since the board arrived, so
// that a screen whose clock is off still shows the right age.
function renderAge() {
  if (!last) return;
  const el = field('oldestWaiting');
  if (!last.oldestWaitingSince) {
    el.textContent = '—';
    return;
  }
  const waited = Date.parse(last.computedAt) - Date.parse(last.oldestWaitingSince) + (Date.now() - lastReceivedAt);
  el.textContent = formatAge(waited);
}

function formatAge(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return '<1m';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes % 60}m`;
  return `${minutes}m`;
}

// A new fragment (another token) or the network coming back: start afresh.
function restart() {
  stopped = false;
  attempts = 0;
  const ws = socket;
  socket = null;
  if (ws) ws.close(1000, 'restarting');
  setState('connecting', 'connecting…');
  connect();
}

window.addEventListener('hashchange', restart);
window.addEventListener('online', () => {
  if (!socket && !stopped) restart();
});
setInterval(renderAge, AGE_TICK_MS);
connect();
