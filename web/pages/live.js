// /live — the calls recording on this node now (GET /api/v1/live), polled every 2 s; each
// duration ticks every second from `answered` (or `started`) to the browser's clock corrected
// by the server's `now`.

import {h, replace, setText} from '../dom.js';
import {api} from '../api.js';
import {formatClock, formatDuration, formatTime, parseApiTime} from '../format.js';
import {clearError, emptyNote, pageHeader, party, setReady, showError, table,
        tagList} from '../ui.js';

const kPollMs = 2000;

export async function render(ctx) {
  document.title = 'Live calls — callvault';
  const nodeName = h('span', {class: 'muted'});
  const updated = h('span', {class: 'muted', id: 'live-updated'});
  const count = h('span', {class: 'badge state-active', id: 'live-count'}, '0 recording');
  const {wrap, body} = table({id: 'live-table', class: 'data-table'}, [
    'Started', {label: 'Duration', class: 'num'}, 'Caller', 'Callee', 'Tags', 'Tenant',
  ]);
  const emptySlot = h('div');
  replace(ctx.main,
          pageHeader('Live calls', nodeName, count, updated),
          h('section', {class: 'card card-flush'}, wrap, emptySlot));

  let offsetMs = 0;  // server clock − browser clock
  const now = () => Date.now() + offsetMs;

  const tick = () => {
    for (const cell of body.querySelectorAll('td.duration')) {
      setText(cell, formatDuration(now() - Number(cell.dataset.since)));
    }
  };

  const row = (call) => {
    const since = parseApiTime(call.answered || call.started);
    const sinceMs = since ? since.getTime() : now();
    return h('tr', {'data-call-id': call.id, class: 'row-link'},
             h('td', {class: 'nowrap'},
               h('a', {href: `/calls/${encodeURIComponent(call.id)}`, class: 'call-link'},
                 formatTime(call.started))),
             h('td', {class: 'num duration', 'data-since': sinceMs},
               formatDuration(now() - sinceMs)),
             h('td', null, party(call.caller)),
             h('td', null, party(call.callee)),
             h('td', null, tagList(call.tags)),
             h('td', {class: 'muted'}, call.tenant || ''));
  };

  let timer = 0;
  async function poll() {
    clearTimeout(timer);
    setReady(false);
    try {
      const data = await api('GET', '/api/v1/live');
      const serverNow = parseApiTime(data.now);
      if (serverNow) offsetMs = serverNow.getTime() - Date.now();
      const calls = Array.isArray(data.calls) ? data.calls : [];
      replace(body, calls.map(row));
      replace(emptySlot, calls.length ? null
                         : emptyNote('live-empty', 'No calls are being recorded on this node ' +
                                                   'right now.'));
      setText(nodeName, data.node ? `node ${data.node}` : '');
      setText(count, `${calls.length} recording`);
      setText(updated, `updated ${formatClock(new Date())}`);
      clearError();
    } catch (e) {
      showError(e, 'Cannot load the live calls');
    }
    setReady(true);
    timer = setTimeout(poll, kPollMs);
  }

  body.addEventListener('click', (event) => {
    if (event.target.closest('a, button')) return;
    const tr = event.target.closest('tr[data-call-id]');
    if (tr) location.assign(`/calls/${encodeURIComponent(tr.dataset.callId)}`);
  });
  setInterval(tick, 1000);
  await poll();
}
