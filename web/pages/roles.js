// /roles — the built-in roles and their permissions (GET /api/v1/roles, users:manage).

import {h, replace, setText} from '../dom.js';
import {api} from '../api.js';
import {pageHeader, setReady, showError, table} from '../ui.js';

export async function render(ctx) {
  document.title = 'Roles — callvault';
  const count = h('span', {class: 'muted'});
  const {wrap, body} = table({id: 'roles-table', class: 'data-table'},
                             ['Role', 'Description', 'Permissions']);
  replace(ctx.main,
          pageHeader('Roles', count),
          h('section', {class: 'card card-flush'}, wrap),
          h('p', {class: 'muted'},
            'Roles are built in. A user has one role; a user with a tenant sees only that ' +
            "tenant's calls."));
  try {
    const answer = await api('GET', '/api/v1/roles');
    const roles = answer.roles || [];
    replace(body, roles.map((role) => h('tr', {'data-role': role.name},
                                        h('td', null, h('strong', null, role.name)),
                                        h('td', null, role.description || ''),
                                        h('td', null, (role.permissions || []).map(
                                                          (p) => h('span', {class: 'perm'}, p))))));
    setText(count, `${roles.length} roles`);
  } catch (e) {
    showError(e, 'Cannot list roles');
  }
  setReady(true);
}
