// /tokens — the logged-in user's API tokens: list, create (the secret is shown once, as text)
// and delete (/api/v1/tokens).

import {h, replace, setText} from '../dom.js';
import {api} from '../api.js';
import {formatTime} from '../format.js';
import {clearError, field, onSubmit, pageHeader, setReady, showError, showNotice,
        table} from '../ui.js';

export async function render(ctx) {
  document.title = 'API tokens — callvault';
  const count = h('span', {class: 'muted'});
  const name = h('input', {name: 'name', type: 'text', required: true, maxlength: '64',
                           autocomplete: 'off', placeholder: 'e.g. nightly export'});
  const days = h('input', {name: 'expires_days', type: 'number', min: '1', max: '3660',
                           step: '1', placeholder: 'never', inputmode: 'numeric'});
  const form = h('form', {id: 'token-form', class: 'inline-form'},
                 field('Name', name),
                 field('Expires in (days)', days),
                 h('button', {type: 'submit', id: 'token-create', class: 'button-primary'},
                   'Create token'));
  const secretSlot = h('div');
  const {wrap, body} = table({id: 'tokens-table', class: 'data-table'},
                             ['Name', 'Created', 'Expires', 'Last used',
                              {label: '', class: 'num'}]);
  const emptySlot = h('div');
  replace(ctx.main,
          pageHeader('API tokens', count),
          h('section', {class: 'card'},
            h('h2', {class: 'card-title'}, 'Create a token',
              h('span', {class: 'card-sub'},
                `for ${ctx.session.user ? ctx.session.user.username : ''}; send it as ` +
                '"Authorization: Bearer …"')),
            form),
          secretSlot,
          h('section', {class: 'card card-flush'}, wrap, emptySlot));

  function showSecret(token) {
    const secret = h('code', {id: 'new-token'}, token.token);
    const copy = h('button', {type: 'button', class: 'button-small'}, 'Copy');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(token.token);
        setText(copy, 'Copied');
      } catch {
        window.getSelection().selectAllChildren(secret);
      }
    });
    replace(secretSlot,
            h('section', {class: 'card', id: 'new-token-box'},
              h('h2', {class: 'card-title'}, `New token “${token.name}”`),
              h('p', {class: 'note'},
                'Copy it now: it is shown only once and cannot be read again.'),
              secret, copy));
  }

  onSubmit(form, async () => {
    const bodyJson = {name: name.value.trim()};
    const d = Number(days.value);
    if (days.value !== '' && Number.isFinite(d) && d > 0) {
      bodyJson.expires_in_s = Math.round(d * 86400);
    }
    try {
      const token = await api('POST', '/api/v1/tokens', {body: bodyJson});
      form.reset();
      clearError();
      showSecret(token);
      await load();
    } catch (e) {
      showError(e, 'The token was not created');
    }
  });

  function row(t) {
    const del = h('button', {type: 'button', class: 'button-small button-danger',
                             'data-action': 'delete'}, 'Delete');
    del.addEventListener('click', async () => {
      if (!confirm(`Delete the token “${t.name}”? Programs using it lose access at once.`)) {
        return;
      }
      del.disabled = true;
      try {
        await api('DELETE', `/api/v1/tokens/${encodeURIComponent(t.id)}`);
        clearError();
        showNotice(`Token ${t.name} deleted.`);
        await load();
      } catch (e) {
        showError(e, 'The token was not deleted');
        del.disabled = false;
      }
    });
    const expired = t.expires && Date.parse(t.expires) < Date.now();
    return h('tr', {'data-token-id': t.id},
             h('td', null, h('strong', null, t.name), h('div', {class: 'mono muted'}, t.id)),
             h('td', {class: 'nowrap'}, formatTime(t.created)),
             h('td', {class: 'nowrap'}, t.expires ? formatTime(t.expires) : 'never',
               expired ? h('span', {class: 'badge badge-bad badge-inline'}, 'expired') : null),
             h('td', {class: 'nowrap'}, t.last_used ? formatTime(t.last_used)
                                                    : h('span', {class: 'muted'}, 'never')),
             h('td', {class: 'actions'}, del));
  }

  async function load() {
    setReady(false);
    try {
      const answer = await api('GET', '/api/v1/tokens');
      const tokens = answer.tokens || [];
      replace(body, tokens.map(row));
      replace(emptySlot, tokens.length ? null : h('p', {class: 'empty'}, 'No API tokens.'));
      setText(count, `${tokens.length} ${tokens.length === 1 ? 'token' : 'tokens'}`);
    } catch (e) {
      showError(e, 'Cannot list tokens');
    }
    setReady(true);
  }
  await load();
}
