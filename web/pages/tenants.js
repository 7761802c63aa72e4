// /tenants — list, add or rename (PUT /api/v1/tenants/{name}), disable or enable (new calls are
// not recorded under a disabled tenant; config tenants.unknown decides what happens to them) and
// delete tenants (tenants:manage).

import {h, replace, setText} from '../dom.js';
import {api} from '../api.js';
import {formatTime} from '../format.js';
import {clearError, field, onSubmit, pageHeader, setReady, showError, showNotice,
        table} from '../ui.js';

export async function render(ctx) {
  document.title = 'Tenants — callvault';
  const count = h('span', {class: 'muted'});
  const name = h('input', {name: 'name', type: 'text', required: true, maxlength: '64',
                           spellcheck: 'false', autocapitalize: 'none', autocomplete: 'off'});
  const displayName = h('input', {name: 'display_name', type: 'text', autocomplete: 'off'});
  const form = h('form', {id: 'tenant-form', class: 'inline-form'},
                 field('Tenant', name),
                 field('Display name', displayName),
                 h('button', {type: 'submit', id: 'tenant-save', class: 'button-primary'},
                   'Save tenant'));
  const {wrap, body} = table({id: 'tenants-table', class: 'data-table'},
                             ['Tenant', 'Display name', 'Status', 'Created',
                              {label: '', class: 'num'}]);
  replace(ctx.main,
          pageHeader('Tenants', count),
          h('section', {class: 'card'},
            h('h2', {class: 'card-title'}, 'Add or rename a tenant'), form),
          h('section', {class: 'card card-flush'}, wrap));

  onSubmit(form, async () => {
    const tenant = name.value.trim();
    try {
      await api('PUT', `/api/v1/tenants/${encodeURIComponent(tenant)}`,
                {body: {display_name: displayName.value.trim()}});
      form.reset();
      clearError();
      showNotice(`Tenant ${tenant} saved.`);
      await load();
    } catch (e) {
      showError(e, `Tenant ${tenant} not saved`);
    }
  });

  function row(t) {
    const edit = h('button', {type: 'button', class: 'button-small', 'data-action': 'edit'},
                   'Edit');
    const del = h('button', {type: 'button', class: 'button-small button-danger',
                             'data-action': 'delete'}, 'Delete');
    edit.addEventListener('click', () => {
      name.value = t.name;
      displayName.value = t.display_name || '';
      displayName.focus();
    });
    const toggle = h('button', {type: 'button', class: 'button-small', 'data-action': 'toggle'},
                     t.disabled ? 'Enable' : 'Disable');
    toggle.addEventListener('click', async () => {
      // No confirmation: Enable undoes it, and nothing recorded is touched.
      const disable = !t.disabled;
      toggle.disabled = true;
      try {
        await api('PUT', `/api/v1/tenants/${encodeURIComponent(t.name)}`,
                  {body: {disabled: disable}});
        clearError();
        showNotice(`Tenant ${t.name} ${disable ? 'disabled' : 'enabled'}.`);
        await load();
      } catch (e) {
        showError(e, `Tenant ${t.name} not ${disable ? 'disabled' : 'enabled'}`);
        toggle.disabled = false;
      }
    });
    del.addEventListener('click', async () => {
      if (!confirm(`Delete tenant ${t.name}?`)) return;
      del.disabled = true;
      try {
        await api('DELETE', `/api/v1/tenants/${encodeURIComponent(t.name)}`);
        clearError();
        showNotice(`Tenant ${t.name} deleted.`);
        await load();
      } catch (e) {
        showError(e, `Tenant ${t.name} not deleted`);
        del.disabled = false;
      }
    });
    return h('tr', {'data-tenant': t.name},
             h('td', null, h('strong', {class: 'mono'}, t.name)),
             h('td', null, t.display_name || ''),
             h('td', {'data-field': 'status'},
               h('span', {class: t.disabled ? 'badge badge-bad' : 'badge badge-ok'},
                 t.disabled ? 'disabled' : 'active')),
             h('td', {class: 'nowrap muted'}, formatTime(t.created)),
             h('td', {class: 'actions'}, edit, toggle, del));
  }

  async function load() {
    setReady(false);
    try {
      const answer = await api('GET', '/api/v1/tenants');
      const tenants = answer.tenants || [];
      replace(body, tenants.map(row));
      setText(count, `${tenants.length} ${tenants.length === 1 ? 'tenant' : 'tenants'}`);
    } catch (e) {
      showError(e, 'Cannot list tenants');
    }
    setReady(true);
  }
  await load();
}
