// Boot of every portal page (web/index.html is the one shell): learn who is logged in
// (GET /api/v1/session: user, permissions, CSRF token), draw the navigation, then load the page
// module that location.pathname names (./pages/<name>.js) and let it render into #main.
// /login works without a session. The server enforces each page's access rule; the checks here
// only decide what to show.

import {h, replace, clear} from './dom.js';
import {api, setCsrfToken} from './api.js';
import {setReady, showError} from './ui.js';

const kRoutes = [
  {re: /^\/login\/?$/, page: 'login', public: true},
  {re: /^\/calls\/?$/, page: 'calls', permission: 'calls:read', nav: 'calls'},
  {re: /^\/calls\/([^/]+)\/?$/, page: 'call', permission: 'calls:read', nav: 'calls'},
  {re: /^\/live\/?$/, page: 'live', permission: 'calls:read', nav: 'live'},
  {re: /^\/users\/?$/, page: 'users', permission: 'users:manage', nav: 'users'},
  {re: /^\/roles\/?$/, page: 'roles', permission: 'users:manage', nav: 'roles'},
  {re: /^\/tenants\/?$/, page: 'tenants', permission: 'tenants:manage', nav: 'tenants'},
  {re: /^\/tokens\/?$/, page: 'tokens', permission: null, nav: 'tokens'},
  {re: /^\/audit\/?$/, page: 'audit', permission: 'audit:read', nav: 'audit'},
  {re: /^\/system\/?$/, page: 'system', permission: 'system:read', nav: 'system'},
];

// [data-nav key, label, permission needed (null: any logged-in user)]
const kNav = [
  ['calls', 'Calls', 'calls:read'],
  ['live', 'Live', 'calls:read'],
  ['users', 'Users', 'users:manage'],
  ['roles', 'Roles', 'users:manage'],
  ['tenants', 'Tenants', 'tenants:manage'],
  ['tokens', 'API tokens', null],
  ['audit', 'Audit log', 'audit:read'],
  ['system', 'System', 'system:read'],
];

function findRoute(pathname) {
  for (const route of kRoutes) {
    const m = route.re.exec(pathname);
    if (m) return {route, args: m.slice(1)};
  }
  return null;
}

function decodeArg(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

async function logout(event) {
  event.currentTarget.disabled = true;
  try {
    await api('DELETE', '/api/v1/session', {noRedirect: true});
  } catch (e) {
    // A session that is already gone is logged out too.
    if (e.status !== 401) {
      showError(e, 'Logout failed');
      event.currentTarget.disabled = false;
      return;
    }
  }
  location.assign('/login');
}

function drawNav(session, current) {
  const nav = document.getElementById('nav');
  const perms = new Set(session.permissions || []);
  const links = kNav.filter(([, , perm]) => perm === null || perms.has(perm))
                    .map(([key, label]) => h('a', {
                      href: `/${key}`,
                      'data-nav': key,
                      class: key === current ? 'active' : null,
                      'aria-current': key === current ? 'page' : null,
                    }, label));
  const user = session.user || {};
  replace(nav,
          h('div', {class: 'nav-links'}, links),
          h('div', {class: 'nav-session'},
            h('span', {class: 'nav-who'},
              h('span', {id: 'nav-user'}, user.username || ''),
              h('span', {class: 'nav-role'},
                [user.role, user.tenant].filter(Boolean).join(' · '))),
            h('button', {id: 'logout', type: 'button', class: 'button-ghost',
                         on: {click: logout}}, 'Log out')));
}

function renderMessage(main, title, text, link) {
  replace(main, h('section', {class: 'card message-card'},
                  h('h1', null, title),
                  h('p', null, text),
                  link ? h('p', null, h('a', {class: 'button', href: link[0]}, link[1])) : null));
}

async function boot() {
  const main = document.getElementById('main');
  if (location.pathname === '/') {
    location.replace('/calls');
    return;
  }
  const found = findRoute(location.pathname);
  if (found && found.route.public) {
    document.body.classList.add('public');
    const mod = await import(`./pages/${found.route.page}.js`);
    await mod.render({main, session: null, args: found.args.map(decodeArg)});
    return;
  }

  // The session and the page's module load at the same time (one round trip, not two).
  const pageModule = found ? import(`./pages/${found.route.page}.js`) : null;
  if (pageModule) {
    // A page that can start its first query before the session answers does so (the list).
    pageModule.then((mod) => { if (mod.prefetch) mod.prefetch(); }, () => {});
  }
  let session;
  try {
    session = await api('GET', '/api/v1/session');
  } catch (e) {
    clear(main);
    showError(e, 'Cannot load your session');
    setReady(true);
    return;
  }
  setCsrfToken(session.csrf_token);
  drawNav(session, found ? found.route.nav : null);

  if (!found) {
    renderMessage(main, 'Page not found', 'There is no page at this address.',
                  ['/calls', 'Go to calls']);
    setReady(true);
    return;
  }
  const perms = new Set(session.permissions || []);
  if (found.route.permission && !perms.has(found.route.permission)) {
    renderMessage(main, '403 — Forbidden', 'You do not have access to this page',
                  ['/calls', 'Go to calls']);
    setReady(true);
    return;
  }
  const ctx = {
    main,
    session,
    args: found.args.map(decodeArg),
    can: (perm) => perms.has(perm),
  };
  const mod = await pageModule;
  await mod.render(ctx);
}

boot().catch((e) => {
  showError(e, 'The page failed to load');
  setReady(true);
});
