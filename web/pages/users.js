// /users — list, create, edit (role, tenant, disabled, password) and delete users
// (/api/v1/users, users:manage). Roles come from GET /api/v1/roles.

import {h, replace, setText} from '../dom.js';
import {api} from '../api.js';
import {formatTime} from '../format.js';
import {checkField, clearError, field, onSubmit, pageHeader, setReady, showError, showNotice,
        table} from '../ui.js';

function roleSelect(roles, value, attrs = {}) {
  const names = roles.map((r) => r.name);
  if (value && !names.includes(value)) names.push(value);
  return h('select', {name: 'role', value: value || names[0] || '', ...attrs},
           names.map((n) => h('option', {value: n}, n)));
}

export async function render(ctx) {
  document.title = 'Users — callvault';
  const me = ctx.session.user ? ctx.session.user.username : '';
  const count = h('span', {class: 'muted'});
  const tenantList = h('datalist', {id: 'tenant-names'});
  const formSlot = h('div');
  const {wrap, body} = table({id: 'users-table', class: 'data-table'}, [
    'User', 'Role', 'Tenant', 'Disabled', 'New password', 'Created', {label: '', class: 'num'},
  ]);
  replace(ctx.main,
          pageHeader('Users', count),
          h('section', {class: 'card'}, h('h2', {class: 'card-title'}, 'Add a user'), formSlot),
          h('section', {class: 'card card-flush'}, wrap),
          tenantList);

  let roles = [];

  function buildForm() {
    const form = h('form', {id: 'user-form', class: 'inline-form', autocomplete: 'off'},
                   field('User name', h('input', {name: 'username', type: 'text', required: true,
                                                  maxlength: '64', spellcheck: 'false',
                                                  autocapitalize: 'none',
                                                  pattern: '[A-Za-z0-9_.@\\-]{1,64}',
                                                  title: 'letters, digits and _ . @ -'})),
                   field('Password', h('input', {name: 'password', type: 'password',
                                                 required: true, minlength: '8',
                                                 autocomplete: 'new-password'}),
                         null),
                   field('Role', roleSelect(roles, 'viewer')),
                   field('Tenant', h('input', {name: 'tenant', type: 'text', list: 'tenant-names',
                                               placeholder: 'none'})),
                   checkField('Disabled', h('input', {name: 'disabled', type: 'checkbox'})),
                   h('button', {type: 'submit', id: 'user-add', class: 'button-primary'},
                     'Add user'));
    onSubmit(form, async () => {
      const get = (n) => form.elements.namedItem(n);
      const bodyJson = {
        username: get('username').value.trim(),
        password: get('password').value,
        role: get('role').value,
        disabled: get('disabled').checked,
      };
      if (get('tenant').value.trim()) bodyJson.tenant = get('tenant').value.trim();
      try {
        await api('POST', '/api/v1/users', {body: bodyJson});
        form.reset();
        clearError();
        showNotice(`User ${bodyJson.username} added.`);
        await load();
      } catch (e) {
        showError(e, 'The user was not added');
      }
    });
    replace(formSlot, form);
  }

  function userRow(user) {
    const role = roleSelect(roles, user.role, {'aria-label': `Role of ${user.username}`});
    const tenant = h('input', {name: 'tenant', type: 'text', value: user.tenant || '',
                               list: 'tenant-names', placeholder: 'none',
                               'aria-label': `Tenant of ${user.username}`});
    const disabled = h('input', {name: 'disabled', type: 'checkbox', checked: !!user.disabled,
                                 'aria-label': `${user.username} disabled`});
    const password = h('input', {name: 'password', type: 'password', placeholder: 'unchanged',
                                 autocomplete: 'new-password', minlength: '8',
                                 'aria-label': `New password for ${user.username}`});
    const save = h('button', {type: 'button', class: 'button-small user-save',
                              'data-action': 'save'}, 'Save');
    const del = h('button', {type: 'button', class: 'button-small button-danger user-delete',
                             'data-action': 'delete', disabled: user.username === me,
                             title: user.username === me ? 'You cannot delete yourself' : null},
                  'Delete');
    save.addEventListener('click', async () => {
      const patch = {};
      if (role.value !== user.role) patch.role = role.value;
      if (tenant.value.trim() !== (user.tenant || '')) patch.tenant = tenant.value.trim();
      if (disabled.checked !== !!user.disabled) patch.disabled = disabled.checked;
      if (password.value) patch.password = password.value;
      if (!Object.keys(patch).length) {
        showNotice('Nothing changed.');
        return;
      }
      save.disabled = true;
      try {
        await api('PATCH', `/api/v1/users/${encodeURIComponent(user.username)}`, {body: patch});
        clearError();
        showNotice(`User ${user.username} saved.`);
        await load();
      } catch (e) {
        showError(e, `User ${user.username} not saved`);
        save.disabled = false;
      }
    });
    del.addEventListener('click', async () => {
      if (!confirm(`Delete user ${user.username} and its API tokens?`)) return;
      del.disabled = true;
      try {
        await api('DELETE', `/api/v1/users/${encodeURIComponent(user.username)}`);
        clearError();
        showNotice(`User ${user.username} deleted.`);
        await load();
      } catch (e) {
        showError(e, `User ${user.username} not deleted`);
        del.disabled = false;
      }
    });
    return h('tr', {'data-username': user.username, class: user.disabled ? 'row-disabled' : null},
             h('td', null, h('strong', null, user.username),
               user.username === me ? h('span', {class: 'badge badge-inline'}, 'you') : null),
             h('td', null, role),
             h('td', null, tenant),
             h('td', null, disabled),
             h('td', null, password),
             h('td', {class: 'nowrap muted'}, formatTime(user.created)),
             h('td', {class: 'actions'}, save, del));
  }

  async function load() {
    setReady(false);
    try {
      const [usersAnswer, rolesAnswer, tenantsAnswer] = await Promise.all([
        api('GET', '/api/v1/users'),
        api('GET', '/api/v1/roles').catch(() => ({roles: []})),
        ctx.can('tenants:manage') ? api('GET', '/api/v1/tenants').catch(() => ({tenants: []}))
                                  : Promise.resolve({tenants: []}),
      ]);
      const firstLoad = !roles.length;
      roles = rolesAnswer.roles && rolesAnswer.roles.length
                  ? rolesAnswer.roles
                  : [{name: 'admin'}, {name: 'supervisor'}, {name: 'viewer'}];
      if (firstLoad) buildForm();
      replace(tenantList, (tenantsAnswer.tenants || []).map((t) => h('option', {value: t.name},
                                                                     t.display_name || t.name)));
      const users = usersAnswer.users || [];
      replace(body, users.map(userRow));
      setText(count, `${users.length} ${users.length === 1 ? 'user' : 'users'}`);
    } catch (e) {
      showError(e, 'Cannot list users');
    }
    setReady(true);
  }
  await load();
}
