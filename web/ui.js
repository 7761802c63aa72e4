// Shared pieces of every page: the ready flag the browser tests wait for, the error banner,
// page headings, tables in a horizontally scrolling wrapper, form fields and badges.
// Everything is built with dom.js.

import {h, replace, clear} from './dom.js';
import {isRedirecting} from './api.js';

// body[data-ready="1"] once a page's data has been rendered; "0" while a reload is in flight.
export function setReady(ready) {
  document.body.dataset.ready = ready ? '1' : '0';
}

function errorRegion() {
  return document.getElementById('error');
}

// Shows an error (an ApiError or any Error) as text in the #error banner.
export function showError(err, context) {
  if (isRedirecting()) return;
  const region = errorRegion();
  if (!region) return;
  const message = err && err.message ? err.message : String(err);
  const code = err && err.code ? err.code : null;
  replace(region,
          h('div', {class: 'error-text'},
            context ? h('strong', null, `${context}: `) : null,
            h('span', {class: 'error-message'}, message),
            code ? h('code', {class: 'error-code'}, code) : null),
          h('button', {type: 'button', class: 'error-close', title: 'Dismiss',
                       'aria-label': 'Dismiss', on: {click: clearError}}, '×'));
  region.hidden = false;
  if (!(err && err.name === 'ApiError')) console.error(err);
}

export function clearError() {
  const region = errorRegion();
  if (!region) return;
  clear(region);
  region.hidden = true;
}

// A short confirmation ("Saved.") in the #notice area, gone after a few seconds.
let noticeTimer = null;
export function showNotice(text) {
  const region = document.getElementById('notice');
  if (!region) return;
  replace(region, text);
  region.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    region.hidden = true;
    clear(region);
  }, 4000);
}

// Page heading with optional side content (counts, buttons).
export function pageHeader(title, ...side) {
  return h('div', {class: 'page-head'},
           h('h1', null, title),
           side.length ? h('div', {class: 'page-head-side'}, side) : null);
}

export function section(title, ...content) {
  return h('section', {class: 'card'},
           title ? h('h2', {class: 'card-title'}, title) : null,
           content);
}

// A table inside a wrapper that scrolls horizontally on narrow screens.
// columns: [{label, class?, sort?}] or strings.
export function table(attrs, columns, rows) {
  const head = h('thead', null,
                 h('tr', null, columns.map((c) => {
                   const col = typeof c === 'string' ? {label: c} : c;
                   return h('th', {scope: 'col', class: col.class}, col.node || col.label);
                 })));
  const body = h('tbody', null, rows || []);
  return {wrap: h('div', {class: 'table-wrap'}, h('table', attrs, head, body)), body};
}

// A labelled form field: field('Caller', h('input', {...})).
export function field(label, control, hint, extraClass) {
  return h('label', {class: ['field', extraClass]},
           h('span', {class: 'field-label'}, label),
           control,
           hint ? h('span', {class: 'field-hint'}, hint) : null);
}

// A labelled checkbox.
export function checkField(label, control) {
  return h('label', {class: 'field field-check'}, control, h('span', null, label));
}

const kStateLabels = {
  active: 'Recording',
  completed: 'Completed',
  timed_out: 'Timed out',
  partial: 'Partial',
};

export function stateBadge(state) {
  const s = String(state || '');
  return h('span', {class: ['badge', `state-${s.replace(/[^a-z_]/g, '')}`]},
           kStateLabels[s] || s || '—');
}

export function boolBadge(ok, yes = 'OK', no = 'Failing') {
  return h('span', {class: ['badge', ok ? 'badge-ok' : 'badge-bad']}, ok ? yes : no);
}

// A party {name, aor, number} as "Name" over "number or AOR".
export function party(p) {
  const name = p && p.name ? String(p.name) : '';
  const addr = p ? String(p.number || p.aor || '') : '';
  return h('div', {class: 'party'},
           h('span', {class: 'party-name'}, name || addr || '—'),
           name && addr ? h('span', {class: 'party-addr'}, addr) : null);
}

export function tagList(tags) {
  return h('span', {class: 'tags'},
           (tags || []).map((t) => h('span', {class: 'tag'}, String(t))));
}

// A muted message inside a table or card ("No calls match these filters.").
export function emptyNote(id, text) {
  return h('p', {id, class: 'empty'}, text);
}

// Runs fn(event) for a form's submit without the browser's own navigation, disabling the
// submit buttons meanwhile.
export function onSubmit(form, fn) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll('button[type="submit"]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await fn(event);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}
