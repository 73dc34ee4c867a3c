/**
 * The dashboard the daemon serves at `/`: one self-contained page (inline CSS and script, Mermaid's
 * bundle inlined as `keel viz` does) that shows the belief mode and knobs, debt over time, open
 * intents with their state, positions with belief and protection coverage, the kill switch with
 * trip and reset buttons, the journal tail and the selected intent's statechart with its current
 * state highlighted, all updated live from `/v1/stream`.
 * Invariants: the page fetches nothing from elsewhere; the token is taken from the URL fragment
 * (never sent to the server in a URL or logged) or typed in, kept in sessionStorage, and sent as a
 * bearer header, and a refused token sends the person back to the token form (never a reconnect
 * loop); the stream is opened before the snapshots are read, a snapshot never overwrites a newer
 * streamed result, and a reconnect reads the snapshots again, so nothing missed stays stale; every
 * value shown is inserted as text, never as HTML; the page logs to the console only on real errors.
 */
import { mermaidBundle } from '../viz/html.js';

const STYLE = `
:root { --fg:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --green:#15803d; --yellow:#a16207; --orange:#c2410c; --red:#b91c1c; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:16px; align-items:center; padding:10px 16px; background:#fff; border-bottom:1px solid var(--line); flex-wrap:wrap; }
h1 { font-size:18px; margin:0 8px 0 0; }
h2 { font-size:14px; margin:0 0 8px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
h2 button { font-size:12px; padding:1px 8px; margin-left:8px; text-transform:none; letter-spacing:0; }
.badge { padding:2px 10px; border-radius:999px; font-weight:600; color:#fff; background:var(--muted); }
.badge[data-mode=GREEN] { background:var(--green); } .badge[data-mode=YELLOW] { background:var(--yellow); }
.badge[data-mode=ORANGE] { background:var(--orange); } .badge[data-mode=RED] { background:var(--red); }
.kill[data-kill-state=tripped] { background:var(--red); } .kill[data-kill-state=armed] { background:var(--green); }
main { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap:12px; padding:12px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; overflow:auto; }
section.wide { grid-column: 1 / -1; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
tr[data-intent-id] { cursor:pointer; } tr.selected { background:#fef9c3; }
.muted { color:var(--muted); } .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
#journal { max-height:280px; overflow:auto; margin:0; padding:0; list-style:none; }
#journal li { border-bottom:1px solid var(--line); padding:2px 0; }
#statechart { min-height:120px; max-height:80vh; overflow:auto; } #statechart.fit svg { max-width:100%; height:auto; }
#login-message { color:var(--red); min-height:1em; }
input, button { font:inherit; padding:3px 8px; } button { cursor:pointer; }
#login { padding:24px; } .knobs td:first-child { color:var(--muted); }
`;

const SCRIPT = `
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment) { sessionStorage.setItem('keel-token', fromFragment); history.replaceState(null, '', location.pathname); }
  let token = sessionStorage.getItem('keel-token');
  const state = { intents: new Map(), selected: null, debt: [], journal: [] };

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }
  // A refused token is not an error in the page: the person is asked for the token again.
  class Unauthorized extends Error {}
  async function api(path, options) {
    const response = await fetch(path, { ...(options || {}), headers: { authorization: 'Bearer ' + token, ...(options && options.body ? { 'content-type': 'application/json' } : {}) } });
    if (response.status === 401) { askForToken('The daemon refused this token.'); throw new Unauthorized('unauthorized'); }
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
    return body;
  }
  function askForToken(message) {
    token = null; sessionStorage.removeItem('keel-token'); started = false; closeStream();
    $('login-message').textContent = message; $('login').hidden = false; $('app').hidden = true;
    document.body.dataset.ready = 'false';
  }

  function showBelief(belief, seedDebt) {
    const mode = $('mode'); mode.textContent = belief.mode; mode.dataset.mode = belief.mode; document.body.dataset.mode = belief.mode;
    const view = belief.killSwitch.view; const kill = $('kill-state');
    kill.dataset.killState = view.tripped ? 'tripped' : 'armed'; document.body.dataset.killState = kill.dataset.killState;
    kill.textContent = view.tripped ? 'kill switch TRIPPED (' + view.trigger + ')' : 'kill switch armed';
    $('kill-detail').textContent = view.tripped && belief.killSwitch.trip ? belief.killSwitch.trip.reason + ' — ' + (belief.killSwitch.trip.by || '') : '';
    const knobs = $('knobs'); knobs.replaceChildren();
    for (const [key, value] of Object.entries(belief.knobs)) { const row = el('tr'); row.append(el('td', key), el('td', value)); knobs.append(row); }
    $('debt').textContent = 'debt ' + belief.debt_score.toFixed(3) + ' · ' + belief.belief_debt_symbols + ' symbols · ' + belief.belief_debt_sec.toFixed(0) + ' s · streak ' + belief.mismatch_streak + ' · confidence ' + belief.belief_confidence.toFixed(2);
    if (seedDebt) addDebtPoint(Date.now(), belief.debt_score); else drawDebt();
  }
  function addDebtPoint(at, score) {
    state.debt.push({ at, score }); if (state.debt.length > 300) state.debt.shift();
    drawDebt();
  }
  function drawDebt() {
    if (state.debt.length === 0) return;
    // The last sample still holds until the next one: the line runs on to now, so one sample is a line too.
    const last = state.debt[state.debt.length - 1];
    const points = [...state.debt, { at: Math.max(last.at + 1, Date.now()), score: last.score }];
    const max = Math.max(1, ...points.map((p) => p.score));
    const first = points[0].at; const span = points[points.length - 1].at - first;
    const line = points.map((p) => ((p.at - first) / span * 600).toFixed(1) + ',' + (116 - p.score / max * 104).toFixed(1)).join(' ');
    $('debt-line').setAttribute('points', line);
    $('debt-max').textContent = 'max ' + max.toFixed(2);
    $('debt-span').textContent = 'last ' + Math.max(1, Math.round(span / 1000)) + ' s';
  }

  const seqOf = (result) => Number(/\\.(\\d+)$/.exec(result.event_id || '')?.[1] ?? 0);
  function keepResult(result) {
    const known = state.intents.get(result.intent_id);
    if (known && (known.ts > result.ts || (known.ts === result.ts && seqOf(known) > seqOf(result)))) return false;
    state.intents.set(result.intent_id, result);
    return true;
  }
  function renderIntents() {
    const body = $('intents'); body.replaceChildren();
    const rows = [...state.intents.values()].sort((a, b) => b.ts - a.ts).slice(0, 100);
    for (const intent of rows) {
      const row = el('tr', undefined, { 'data-intent-id': intent.intent_id, 'data-intent-status': intent.status, 'data-intent-state': intent.state });
      if (intent.intent_id === state.selected) row.classList.add('selected');
      row.append(el('td', intent.intent_id, { class: 'mono' }), el('td', intent.status), el('td', intent.order_status || ''), el('td', intent.state, { class: 'mono' }), el('td', intent.tag || ''), el('td', intent.filled_qty));
      row.addEventListener('click', () => { state.selected = intent.intent_id; renderIntents(); showStatechart().catch(report); });
      body.append(row);
    }
    $('intent-count').textContent = rows.filter((i) => i.status === 'CREATED' || i.status === 'SENT_TO_BROKER').length + ' open';
  }

  async function showPositions() {
    const answer = await api('/v1/positions');
    const body = $('positions'); body.replaceChildren();
    const stops = new Map(answer.protection.map((p) => [p.symbol, p]));
    const symbols = new Set([...Object.keys(answer.positions), ...answer.beliefs.map((b) => b.symbol)]);
    for (const symbol of [...symbols].sort()) {
      const booked = answer.positions[symbol]; const belief = answer.beliefs.find((b) => b.symbol === symbol); const stop = stops.get(symbol);
      const row = el('tr', undefined, { 'data-symbol': symbol });
      row.append(el('td', symbol), el('td', booked ? booked.side + ' ' + booked.qty + ' @ ' + booked.entryPrice : 'flat'),
        el('td', belief ? belief.state : '—'), el('td', belief ? belief.protection + (belief.gap ? (belief.gap.critical ? ' (gap past TTL)' : ' (gap)') : '') : '—'),
        el('td', stop && stop.stop ? stop.stop.qty + ' @ ' + stop.stopPrice : '—'));
      body.append(row);
    }
  }

  let chartVersion = 0;
  async function showStatechart() {
    if (!state.selected) return;
    const version = ++chartVersion; const id = state.selected;
    const chart = await api('/v1/intents/' + encodeURIComponent(id) + '/statechart');
    if (version !== chartVersion) return;
    const { svg } = await mermaid.render('keel-statechart-' + version, chart.source);
    if (version !== chartVersion) return;
    const box = $('statechart'); box.innerHTML = svg; box.dataset.intentId = id; box.dataset.highlight = chart.state;
    $('statechart-title').textContent = id + ': ' + chart.state;
  }

  function addJournal(event) {
    state.journal.unshift(event); if (state.journal.length > 50) state.journal.pop();
    const list = $('journal'); list.replaceChildren();
    for (const e of state.journal) list.append(el('li', new Date(e.ts).toISOString().slice(11, 23) + '  ' + e.type + '  ' + e.stage + '  ' + (e.to || '') + '  ' + e.correlationId, { class: 'mono' }));
  }

  let positionsTimer = null;
  function refreshPositionsSoon() { clearTimeout(positionsTimer); positionsTimer = setTimeout(() => showPositions().catch(report), 300); }
  function report(error) {
    if (error instanceof Unauthorized) return;
    $('status').textContent = String(error && error.message ? error.message : error);
  }

  let socket = null;
  let reconnectTimer = null;
  function closeStream() {
    clearTimeout(reconnectTimer);
    if (socket) { const closing = socket; socket = null; closing.close(); }
  }
  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new Promise((resolve) => {
      const current = new WebSocket(scheme + '//' + location.host + '/v1/stream?token=' + encodeURIComponent(token));
      socket = current;
      current.addEventListener('open', () => { $('status').textContent = 'live'; document.body.dataset.stream = 'open'; resolve(); });
      current.addEventListener('close', () => {
        resolve();
        if (socket !== current) return;
        socket = null; document.body.dataset.stream = 'closed'; $('status').textContent = 'stream closed; reconnecting';
        scheduleReconnect();
      });
      current.addEventListener('message', onMessage);
    });
  }
  function scheduleReconnect() { clearTimeout(reconnectTimer); reconnectTimer = setTimeout(() => reconnect().catch(report), 2000); }
  async function reconnect() {
    // The token is checked first: a daemon restarted with a new token asks for it instead of looping.
    try { await api('/v1/belief'); } catch (error) {
      if (!(error instanceof Unauthorized)) { report(error); scheduleReconnect(); }
      return;
    }
    await connect();
    // What happened while the stream was down is read again once it is back.
    if (socket !== null) await loadSnapshots();
  }
  function onMessage(message) {
    const data = JSON.parse(message.data);
    if (data.kind === 'journal') {
      const event = data.event; addJournal(event);
      if (event.type === 'execution.belief_state' || event.type.startsWith('kill_switch.')) api('/v1/belief').then(showBelief).catch(report);
      if (event.type === 'execution.belief_state' && typeof event.data.debt_score === 'number') addDebtPoint(event.ts, event.data.debt_score);
      if (event.type === 'venue.order.filled' || event.type === 'reconcile.summary' || event.type.startsWith('belief.') || event.type.startsWith('protection.')) refreshPositionsSoon();
    } else if (data.kind === 'result') {
      if (keepResult(data.result)) renderIntents();
      if (data.result.intent_id === state.selected) showStatechart().catch(report);
    } else if (data.kind === 'alert') {
      const list = $('alerts'); list.prepend(el('li', data.alert.severity + ' ' + data.alert.code + ': ' + data.alert.text));
      while (list.children.length > 20) list.lastChild.remove();
    } else if (data.kind === 'health') {
      $('health').textContent = data.stage + ' ' + data.level;
    }
  }

  async function kill(path) {
    const reason = $('kill-reason').value.trim() || (path === '/v1/kill' ? 'tripped from the dashboard' : 'reset from the dashboard');
    try { const killSwitch = await api(path, { method: 'POST', body: JSON.stringify({ reason, by: 'dashboard' }) }); showBelief({ ...(await api('/v1/belief')), killSwitch }); }
    catch (error) { report(error); }
  }

  async function loadSnapshots() {
    showBelief(await api('/v1/belief'), true);
    for (const intent of (await api('/v1/intents?limit=100')).intents) keepResult(intent);
    renderIntents(); await showPositions();
    if (state.selected) await showStatechart();
  }

  let started = false;
  async function start() {
    if (started) return;
    started = true;
    $('login').hidden = true; $('app').hidden = false;
    try {
      // The token is checked before the stream is opened, so a refused one never loops on reconnects.
      await api('/v1/belief');
      await connect();
      await loadSnapshots();
      document.body.dataset.ready = 'true';
    } catch (error) { report(error); }
  }

  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', state: { useMaxWidth: false } });
  $('trip').addEventListener('click', () => kill('/v1/kill'));
  $('reset').addEventListener('click', () => kill('/v1/kill/reset'));
  $('chart-fit').addEventListener('click', () => {
    const fitted = $('statechart').classList.toggle('fit');
    $('chart-fit').textContent = fitted ? 'Actual size' : 'Fit to width';
  });
  $('login-form').addEventListener('submit', (event) => { event.preventDefault(); token = $('token').value.trim(); sessionStorage.setItem('keel-token', token); start(); });
  if (token) start();
})();
`;

let cached: string | undefined;

/**
 * The dashboard page (built once).
 *
 * @example
 * app.get('/', (_request, reply) => reply.type('text/html').send(renderDashboard()));
 */
export function renderDashboard(): string {
  if (cached !== undefined) return cached;
  const bundle = mermaidBundle();
  cached = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keel</title>
<style>${STYLE}</style>
</head>
<body>
<div id="login"><form id="login-form"><h1>keel</h1><p class="muted">Paste the API token (in <code>.keel/data/api-token</code>, or <code>KEEL_API_TOKEN</code>), or open this page as <code>/#token=…</code>.</p><p id="login-message" role="alert"></p><input id="token" type="password" autocomplete="off" size="48"> <button type="submit">Open</button></form></div>
<div id="app" hidden>
<header>
<h1>keel</h1>
<span id="mode" class="badge" data-mode="">…</span>
<span id="kill-state" class="badge kill" data-kill-state="">…</span>
<span id="kill-detail" class="muted"></span>
<input id="kill-reason" placeholder="reason" size="24">
<button id="trip" type="button">Trip kill switch</button>
<button id="reset" type="button">Reset</button>
<span id="status" class="muted"></span>
<span id="health" class="muted"></span>
</header>
<main>
<section><h2>Belief</h2><p id="debt" class="mono"></p>
<svg id="debt-chart" viewBox="0 0 600 120" width="100%" height="120" role="img" aria-label="debt score over time"><polyline id="debt-line" fill="none" stroke="#b45309" stroke-width="2" points=""/><text id="debt-max" x="4" y="12" font-size="10" fill="#64748b"></text><text id="debt-span" x="596" y="12" font-size="10" fill="#64748b" text-anchor="end"></text></svg>
<table class="knobs"><tbody id="knobs"></tbody></table></section>
<section><h2>Positions</h2><table><thead><tr><th>symbol</th><th>booked</th><th>belief</th><th>protection</th><th>stop</th></tr></thead><tbody id="positions"></tbody></table></section>
<section class="wide"><h2>Intents <span id="intent-count" class="muted"></span></h2><table><thead><tr><th>intent</th><th>status</th><th>order</th><th>state</th><th>tag</th><th>filled</th></tr></thead><tbody id="intents"></tbody></table></section>
<section class="wide"><h2>Statechart <span id="statechart-title" class="muted">select an intent</span> <button id="chart-fit" type="button">Actual size</button></h2><div id="statechart" class="fit"></div></section>
<section><h2>Journal</h2><ul id="journal"></ul></section>
<section><h2>Alerts</h2><ul id="alerts"></ul></section>
</main>
</div>
<script>${bundle.script}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
  return cached;
}
