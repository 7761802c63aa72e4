// /calls — the call list: every filter of GET /api/v1/calls, sort and order, cursor paging.
// The filters live in the page URL under the API's parameter names; applying them pushes a
// history entry and back/forward (popstate) reload what the URL says.

import {attr, h, replace, setText} from '../dom.js';
import {api} from '../api.js';
import {formatBytes, formatDuration, formatTime, parseApiTime} from '../format.js';
import {fillForm, formParams, pushQuery, readQuery} from '../filters.js';
import {clearError, emptyNote, field, pageHeader, party, setReady, showError, stateBadge,
        table, tagList} from '../ui.js';

// URL and API parameters, in the order they appear in the URL.
const kFilterKeys = ['from', 'to', 'caller', 'callee', 'number', 'participant', 'min_duration',
                     'max_duration', 'tag', 'state', 'q', 'node', 'tenant', 'sort', 'order',
                     'limit'];
const kKeys = [...kFilterKeys, 'cursor'];
const kTimeKeys = ['from', 'to'];
// Filters that phone widths hide behind "More filters" (shown when the URL sets one).
const kMoreKeys = ['number', 'participant', 'min_duration', 'max_duration', 'tag', 'node',
                   'tenant', 'sort', 'order', 'limit'];
// Sort and order always go into the URL once the form is applied (the page shows what was
// chosen); the page size only when it is not the API's default.
const kFormOptions = {keys: kFilterKeys, timeKeys: kTimeKeys,
                      defaults: {sort: 'started', order: 'desc', limit: '50'},
                      omit: {limit: '50'}};

function text(name, placeholder, extra = {}) {
  return h('input', {name, type: 'text', placeholder, autocomplete: 'off', spellcheck: 'false',
                     ...extra});
}

function select(name, options) {
  return h('select', {name}, options.map(([value, label]) => h('option', {value}, label)));
}

// A filter hidden on phone widths until "More filters" is pressed.
function more(label, control) {
  return field(label, control, null, 'field-more');
}

function buildForm(ctx) {
  const tenantScoped = Boolean(ctx.session.user && ctx.session.user.tenant);
  const toggle = h('button', {type: 'button', class: 'button-ghost filter-toggle',
                              'aria-expanded': 'false'}, 'More filters');
  const form = h('form', {id: 'call-filters', class: 'filters', method: 'get', action: '/calls'},
           h('div', {class: 'filter-grid'},
             field('From', h('input', {name: 'from', type: 'datetime-local', step: '1'})),
             field('To', h('input', {name: 'to', type: 'datetime-local', step: '1'})),
             field('Caller', text('caller', 'number or AOR')),
             field('Callee', text('callee', 'number or AOR')),
             more('Any number', text('number', 'either party')),
             more('Participant', text('participant', 'display name')),
             more('Min duration', text('min_duration', 'seconds', {inputmode: 'numeric'})),
             more('Max duration', text('max_duration', 'seconds', {inputmode: 'numeric'})),
             more('Tag', text('tag', 'exact tag')),
             field('State', select('state', [['', 'Any state'], ['active', 'Recording'],
                                             ['completed', 'Completed'],
                                             ['timed_out', 'Timed out'],
                                             ['partial', 'Partial']])),
             field('Text', h('input', {name: 'q', type: 'search', autocomplete: 'off',
                                       placeholder: 'metadata, names, SIP ids'})),
             more('Node', text('node', 'node id')),
             tenantScoped ? null : more('Tenant', text('tenant', 'exact tenant')),
             more('Sort by', select('sort', [['started', 'Start time'],
                                              ['duration', 'Duration']])),
             more('Order', select('order', [['desc', 'Descending'],
                                            ['asc', 'Ascending']])),
             more('Per page', select('limit', [['50', '50'], ['100', '100'], ['200', '200'],
                                                ['500', '500']]))),
           h('div', {class: 'filter-actions'},
             h('button', {id: 'filter-apply', type: 'submit', class: 'button-primary'},
               'Apply filters'),
             h('a', {class: 'button button-ghost', href: '/calls', id: 'filter-reset'},
               'Reset'),
             toggle));
  toggle.addEventListener('click', () => {
    const open = !form.classList.contains('expanded');
    form.classList.toggle('expanded', open);
    attr(toggle, 'aria-expanded', open ? 'true' : 'false');
    setText(toggle, open ? 'Fewer filters' : 'More filters');
  });
  return form;
}

function durationOf(call) {
  if (call.state === 'active') {
    const start = parseApiTime(call.answered || call.started);
    return start ? Date.now() - start.getTime() : null;
  }
  return call.duration_ms;
}

function audioCell(call) {
  if (!call.audio) return h('span', {class: 'muted'}, call.state === 'active' ? '…' : '—');
  return h('span', {class: 'nowrap'},
           h('span', {class: 'audio-format'}, String(call.audio.format || '').toUpperCase()),
           ' ', h('span', {class: 'muted'}, formatBytes(call.audio.bytes)));
}

function callRow(call) {
  const href = `/calls/${encodeURIComponent(call.id)}`;
  return h('tr', {'data-call-id': call.id, class: 'row-link'},
           h('td', {class: 'nowrap'},
             h('a', {href, class: 'call-link', title: `Call ${call.id}`},
               formatTime(call.started))),
           h('td', {class: 'num'}, formatDuration(durationOf(call))),
           h('td', null, party(call.caller)),
           h('td', null, party(call.callee)),
           h('td', null, stateBadge(call.state)),
           h('td', null, tagList(call.tags)),
           h('td', null, audioCell(call)),
           h('td', {class: 'muted nowrap'}, call.node || ''));
}

// Starts the list query for the URL's filters before the page is drawn (app.js calls it while
// GET /api/v1/session is in flight); load() takes the answer when the filters still match.
let prefetched = null;
export function prefetch() {
  const params = readQuery(kKeys);
  const promise = api('GET', '/api/v1/calls', {query: params});
  promise.catch(() => {});  // load() reports errors when it takes the promise
  prefetched = {key: JSON.stringify(params), promise};
}

function takePrefetched(params) {
  const found = prefetched;
  prefetched = null;
  return found && found.key === JSON.stringify(params) ? found.promise : null;
}

export async function render(ctx) {
  document.title = 'Calls — callvault';
  const form = buildForm(ctx);
  const count = h('span', {class: 'muted', id: 'calls-count'});
  const sortButtons = {};
  const sortHeader = (key, label) => {
    sortButtons[key] = h('button', {type: 'button', class: 'sort-button', 'data-sort': key},
                         label, h('span', {class: 'sort-mark', 'aria-hidden': 'true'}));
    return {node: sortButtons[key], class: key === 'duration' ? 'num' : null};
  };
  const {wrap, body} = table({id: 'calls-table', class: 'data-table'}, [
    sortHeader('started', 'Started'), sortHeader('duration', 'Duration'), 'Caller', 'Callee',
    'State', 'Tags', 'Audio', 'Node',
  ]);
  const emptySlot = h('div');
  const firstPage = h('button', {id: 'first-page', type: 'button'}, '« First page');
  const nextPage = h('button', {id: 'next-page', type: 'button'}, 'Next page »');
  const pageInfo = h('span', {class: 'muted'});
  replace(ctx.main,
          pageHeader('Calls', count),
          h('section', {class: 'card'}, form),
          h('section', {class: 'card card-flush'}, wrap, emptySlot,
            h('div', {class: 'pager'}, firstPage, pageInfo, nextPage)));

  let nextCursor = null;
  let sequence = 0;

  async function load() {
    const mine = ++sequence;
    setReady(false);
    const params = readQuery(kKeys);
    fillForm(form, params, kFormOptions);
    if (kMoreKeys.some((key) => key in params)) {
      form.classList.add('expanded');
      attr(form.querySelector('.filter-toggle'), 'aria-expanded', 'true');
      setText(form.querySelector('.filter-toggle'), 'Fewer filters');
    }
    const sort = params.sort || 'started';
    const order = params.order || 'desc';
    for (const [key, button] of Object.entries(sortButtons)) {
      const th = button.parentElement;
      attr(th, 'aria-sort', key === sort ? (order === 'asc' ? 'ascending' : 'descending')
                                         : 'none');
      setText(button.querySelector('.sort-mark'), key === sort ? (order === 'asc' ? '▲' : '▼')
                                                              : '');
    }
    try {
      const page = await (takePrefetched(params) || api('GET', '/api/v1/calls', {query: params}));
      if (mine !== sequence) return;
      const calls = page.calls || [];
      replace(body, calls.map(callRow));
      replace(emptySlot, calls.length ? null
                         : emptyNote('calls-empty', params.cursor
                                                        ? 'No more calls.'
                                                        : 'No calls match these filters.'));
      nextCursor = page.next_cursor || null;
      nextPage.disabled = !nextCursor;
      firstPage.disabled = !params.cursor;
      setText(count, `${calls.length} ${calls.length === 1 ? 'call' : 'calls'} on this page`);
      setText(pageInfo, params.cursor ? 'Later page' : 'First page');
      clearError();
    } catch (e) {
      if (mine !== sequence) return;
      replace(body);
      replace(emptySlot);
      nextCursor = null;
      nextPage.disabled = true;
      firstPage.disabled = !params.cursor;
      setText(count, '');
      showError(e, 'Cannot list calls');
    }
    setReady(true);
  }

  function apply(params) {
    pushQuery(params, kKeys);
    load();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply(formParams(form, kFormOptions));
  });
  for (const [key, button] of Object.entries(sortButtons)) {
    button.addEventListener('click', () => {
      const params = formParams(form, kFormOptions);
      const current = params.sort || 'started';
      const order = params.order || 'desc';
      params.sort = key;
      params.order = current === key ? (order === 'desc' ? 'asc' : 'desc') : 'desc';
      apply(params);
    });
  }
  nextPage.addEventListener('click', () => {
    if (!nextCursor) return;
    apply({...readQuery(kFilterKeys), cursor: nextCursor});
  });
  firstPage.addEventListener('click', () => apply(readQuery(kFilterKeys)));
  // A click anywhere on a row opens the call (the first cell is the real link).
  body.addEventListener('click', (event) => {
    if (event.target.closest('a, button, input, select')) return;
    if (String(window.getSelection() || '') !== '') return;
    const row = event.target.closest('tr[data-call-id]');
    if (row) location.assign(`/calls/${encodeURIComponent(row.dataset.callId)}`);
  });
  window.addEventListener('popstate', load);

  await load();
}
