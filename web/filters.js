// Filters kept in the page URL (calls and audit pages): the query string uses the API's own
// parameter names, so /calls?caller=100&sort=duration is exactly GET /api/v1/calls?caller=100&…
// Times are stored in the URL as the API reads them (RFC 3339 with the browser's offset) and
// shown in <input type="datetime-local"> as local wall-clock time.

import {h} from './dom.js';
import {apiToLocalInput, localInputToApi} from './format.js';

// The non-empty values of `keys` in the current URL. A hand-written time offset with a bare
// "+" ("from=2026-11-25T09:00:00+01:00") reads as a space in a query string; it is put back.
export function readQuery(keys, timeKeys = ['from', 'to']) {
  const qs = new URLSearchParams(location.search);
  const params = {};
  for (const key of keys) {
    let value = qs.get(key);
    if (value === null || value === '') continue;
    if (timeKeys.includes(key)) {
      value = value.replace(/(:\d\d(?:\.\d+)?) (\d\d(?::?\d\d)?)$/, '$1+$2');
    }
    params[key] = value;
  }
  return params;
}

// Puts params into the form's controls (missing keys → defaults[key] or '').
export function fillForm(form, params, {keys, timeKeys = [], defaults = {}}) {
  for (const key of keys) {
    const control = form.elements.namedItem(key);
    if (!control || control instanceof RadioNodeList) continue;
    const value = params[key] ?? defaults[key] ?? '';
    if (timeKeys.includes(key)) {
      const local = apiToLocalInput(value);
      control.value = local;
      // Kept so that an untouched input sends the URL's value unchanged.
      control.dataset.apiValue = value;
      control.dataset.shownValue = control.value;
    } else if (control.tagName === 'SELECT' && value !== '' &&
               ![...control.options].some((o) => o.value === value)) {
      control.appendChild(h('option', {value}, value));
      control.value = value;
    } else {
      control.value = value;
    }
  }
}

// The form's values as API parameters: empty values and values equal to omit[key] left out,
// datetime-local values converted to RFC 3339.
export function formParams(form, {keys, timeKeys = [], omit = {}}) {
  const params = {};
  for (const key of keys) {
    const control = form.elements.namedItem(key);
    if (!control || control instanceof RadioNodeList) continue;
    let value = String(control.value).trim();
    if (timeKeys.includes(key) && value !== '') {
      value = control.dataset.shownValue === control.value && control.dataset.apiValue
                  ? control.dataset.apiValue
                  : localInputToApi(value);
    }
    if (value === '' || value === omit[key]) continue;
    params[key] = value;
  }
  return params;
}

// Makes params (in `keys` order) the page URL: a new history entry when it changes.
export function pushQuery(params, keys, state = null) {
  const qs = new URLSearchParams();
  for (const key of keys) {
    if (params[key] !== undefined && params[key] !== null && params[key] !== '') {
      qs.append(key, params[key]);
    }
  }
  const s = qs.toString();
  const url = location.pathname + (s ? `?${s}` : '');
  if (url === location.pathname + location.search) {
    history.replaceState(state, '', url);
  } else {
    history.pushState(state, '', url);
  }
}
