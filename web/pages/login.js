// /login — POST /api/v1/session with user name and password; on success go to ?next= (a path
// on this site only) or /calls.

import {h, isLocalUrl, replace, setText} from '../dom.js';
import {api, ApiError} from '../api.js';
import {setReady} from '../ui.js';

// Where to go after logging in: ?next= when it is a path on this site, else /calls.
function nextPath() {
  const next = new URLSearchParams(location.search).get('next');
  if (!next || !next.startsWith('/') || !isLocalUrl(next)) return '/calls';
  if (/^\/login(?:[/?#]|$)/.test(next)) return '/calls';
  return next;
}

function errorText(e) {
  if (e instanceof ApiError && e.status === 401) return 'Wrong user name or password.';
  if (e instanceof ApiError && e.status === 429) {
    return e.retryAfter !== null ? `Too many attempts — try again in ${e.retryAfter} s.`
                                 : 'Too many attempts — try again later.';
  }
  return e.message || String(e);
}

export async function render({main}) {
  document.title = 'Sign in — callvault';
  const username = h('input', {id: 'username', name: 'username', type: 'text', required: true,
                               autocomplete: 'username', spellcheck: 'false',
                               autocapitalize: 'none'});
  const password = h('input', {id: 'password', name: 'password', type: 'password',
                               required: true, autocomplete: 'current-password'});
  const submit = h('button', {id: 'login-submit', type: 'submit', class: 'button-primary'},
                   'Sign in');
  const error = h('p', {id: 'login-error', class: 'form-error', role: 'alert', hidden: true});
  const form = h('form', {id: 'login-form', class: 'login-form', method: 'post'},
                 h('div', {class: 'login-brand'},
                   h('span', {class: 'login-logo', 'aria-hidden': 'true'}),
                   h('span', null, 'callvault')),
                 h('h1', null, 'Sign in'),
                 h('label', {class: 'field', for: 'username'},
                   h('span', {class: 'field-label'}, 'User name'), username),
                 h('label', {class: 'field', for: 'password'},
                   h('span', {class: 'field-label'}, 'Password'), password),
                 error,
                 submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    setText(error, '');
    try {
      await api('POST', '/api/v1/session', {
        body: {username: username.value, password: password.value},
        noRedirect: true,
      });
      location.assign(nextPath());
    } catch (e) {
      setText(error, errorText(e));
      error.hidden = false;
      password.select();
      submit.disabled = false;
    }
  });

  replace(main, h('div', {class: 'login-page'}, form));
  username.focus();
  setReady(true);
}
