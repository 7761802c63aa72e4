// /audit — the audit log, newest first (GET /api/v1/audit?order=desc), filtered by user
// (actor), action, call, target and time; filters and the page position live in the URL like
// the call list. The server shows a user with a tenant only that tenant's entries.

import {h, replace, setText} from '../dom.js';
import {api} from '../api.js';
import {formatTime} from '../format.js';
import {fillForm, formParams, pushQuery, readQuery} from '../filters.js';
import {clearError, emptyNote, field, pageHeader, setReady, showError, table} from '../ui.js';

const kFilterKeys = ['actor', 'action', 'call', 'target', 'from', 'to'];
const kKeys = [...kFilterKeys, 'before_id'];
const kTimeKeys = ['from', 'to'];
const kFormOptions = {keys: kFilterKeys, timeKeys: kTimeKeys};
const kPageSize = 100;
const kActions = ['call.play', 'call.download', 'call.delete', 'call.tag', 'call.untag',
                  'call.hold', 'call.release', 'session.login', 'session.logout', 'login.basic',
                  'login.failed', 'login.locked', 'token.use', 'token.refused', 'user.create',
                  'user.update', 'user.delete', 'token.create', 'token.delete', 'tenant.update',
                  'tenant.delete', 'tenant_key.destroy', 'retention.run', 'node.drain',
                  'node.undrain'];

function detailText(detail) {
  if (detail === null || detail === undefined) return '';
  if (typeof detail === 'string') return detail;
  const s = JSON.stringify(detail);
  return s === '{}' ? '' : s;
}

function targetCell(entry) {
  const target = entry.target || '';
  if (String(entry.action || '').startsWith('call.') && target) {
    return h('a', {href: `/calls/${encodeURIComponent(target)}`, class: 'mono'}, target);
  }
  return h('span', {class: 'mono'}, target);
}

export async function render(ctx) {
  document.title = 'Audit log — callvault';
  const text = (name, placeholder, extra = {}) =>
    h('input', {name, type: 'text', placeholder, autocomplete: 'off', spellcheck: 'false',
                ...extra});
  const form = h('form', {id: 'audit-filters', class: 'filters', method: 'get'},
                 h('div', {class: 'filter-grid'},
                   field('User', text('actor', 'exact user name')),
                   field('Action', text('action', 'e.g. call.play', {list: 'audit-actions'})),
                   field('Call', text('call', 'call id')),
                   field('Target', text('target', 'call id, user name…')),
                   field('From', h('input', {name: 'from', type: 'datetime-local', step: '1'})),
                   field('To', h('input', {name: 'to', type: 'datetime-local', step: '1'}))),
                 h('datalist', {id: 'audit-actions'},
                   kActions.map((a) => h('option', {value: a}))),
                 h('div', {class: 'filter-actions'},
                   h('button', {type: 'submit', id: 'filter-apply', class: 'button-primary'},
                     'Apply filters'),
                   h('a', {class: 'button button-ghost', href: '/audit'}, 'Reset')));
  const count = h('span', {class: 'muted'});
  const {wrap, body} = table({id: 'audit-table', class: 'data-table'},
                             ['Time', 'User', 'Action', 'Target', 'Tenant', 'Detail', 'From']);
  const emptySlot = h('div');
  const firstPage = h('button', {id: 'first-page', type: 'button'}, '« Newest');
  const nextPage = h('button', {id: 'next-page', type: 'button'}, 'Older »');
  replace(ctx.main,
          pageHeader('Audit log', count),
          h('section', {class: 'card'}, form),
          h('section', {class: 'card card-flush'}, wrap, emptySlot,
            h('div', {class: 'pager'}, firstPage, nextPage)));

  let nextBefore = null;
  let sequence = 0;

  const row = (e) => h('tr', {'data-audit-id': e.id,
                              title: e.uid ? `uid ${e.uid} · ${e.origin} #${e.seq}` : null},
                       h('td', {class: 'nowrap'}, formatTime(e.at)),
                       h('td', null, e.actor || ''),
                       h('td', {class: 'nowrap'}, h('span', {class: 'perm'}, e.action || '')),
                       h('td', null, targetCell(e)),
                       h('td', {class: 'muted'}, e.tenant || '—'),
                       h('td', null, h('div', {class: 'audit-detail'}, detailText(e.detail))),
                       h('td', {class: 'muted nowrap'}, e.remote || ''));

  async function load() {
    const mine = ++sequence;
    setReady(false);
    const params = readQuery(kKeys);
    fillForm(form, params, kFormOptions);
    try {
      const answer = await api('GET', '/api/v1/audit',
                               {query: {...params, order: 'desc', limit: kPageSize}});
      if (mine !== sequence) return;
      const entries = answer.entries || [];
      replace(body, entries.map(row));
      replace(emptySlot, entries.length ? null
                         : emptyNote('audit-empty', 'No audit entries match these filters.'));
      nextBefore = answer.next_before_id ?? null;
      nextPage.disabled = nextBefore === null;
      firstPage.disabled = !params.before_id;
      setText(count, `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`);
      clearError();
    } catch (e) {
      if (mine !== sequence) return;
      replace(body);
      replace(emptySlot);
      nextBefore = null;
      nextPage.disabled = true;
      showError(e, 'Cannot read the audit log');
    }
    setReady(true);
  }

  const apply = (params) => {
    pushQuery(params, kKeys);
    load();
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply(formParams(form, kFormOptions));
  });
  nextPage.addEventListener('click', () => {
    if (nextBefore !== null) apply({...readQuery(kFilterKeys), before_id: String(nextBefore)});
  });
  firstPage.addEventListener('click', () => apply(readQuery(kFilterKeys)));
  window.addEventListener('popstate', load);
  await load();
}
