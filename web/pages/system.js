// /system — this node: version, uptime, readiness per role, queue backlogs, disks
// (GET /api/v1/system, system:read).

import {h, replace} from '../dom.js';
import {api} from '../api.js';
import {formatAge, formatBytes, formatCount, formatTime, parseApiTime} from '../format.js';
import {boolBadge, clearError, pageHeader, setReady, showError, table} from '../ui.js';

function stat(label, value, attrs = {}) {
  return h('div', {class: 'stat'},
           h('div', {class: 'stat-label'}, label),
           h('div', {class: 'stat-value', ...attrs}, value));
}

function ageOf(time, now) {
  const d = parseApiTime(time);
  return d ? formatAge((now - d.getTime()) / 1000) : '';
}

export async function render(ctx) {
  document.title = 'System — callvault';
  const refresh = h('button', {type: 'button', id: 'system-refresh'}, 'Refresh');
  const content = h('div');
  replace(ctx.main, pageHeader('System', refresh), content);

  async function load() {
    setReady(false);
    refresh.disabled = true;
    try {
      const s = await api('GET', '/api/v1/system');
      const serverNow = parseApiTime(s.now);
      const now = serverNow ? serverNow.getTime() : Date.now();
      const readiness = Array.isArray(s.readiness) ? s.readiness : [];
      const failing = readiness.filter((c) => !c.ok).length;

      const ready = table({id: 'readiness', class: 'data-table'},
                          ['Check', 'Role', 'Status', 'Message'],
                          readiness.map((c) => h('tr', {'data-ok': c.ok ? '1' : '0',
                                                        'data-check': c.name},
                                                 h('td', null, h('strong', null, c.name)),
                                                 h('td', {class: 'muted'}, c.role || ''),
                                                 h('td', null, boolBadge(c.ok)),
                                                 h('td', null, c.message || ''))));
      const backlog = table({id: 'backlog', class: 'data-table'},
                            ['Queue', {label: 'Entries', class: 'num'}, 'Oldest entry', 'Age'],
                            (s.backlog || []).map((b) => h('tr', {'data-queue': b.queue},
                                                           h('td', {class: 'mono'}, b.queue),
                                                           h('td', {class: 'num'},
                                                             formatCount(b.entries)),
                                                           h('td', {class: 'nowrap'},
                                                             b.oldest ? formatTime(b.oldest)
                                                                      : '—'),
                                                           h('td', {class: 'nowrap'},
                                                             b.oldest ? ageOf(b.oldest, now)
                                                                      : ''))));
      const disk = table({id: 'disk', class: 'data-table'},
                         ['Name', 'Path', {label: 'Size', class: 'num'},
                          {label: 'Free', class: 'num'}, 'Used'],
                         (s.disk || []).map((d) => {
                           const total = Number(d.total_bytes) || 0;
                           const used = total ? 1 - (Number(d.free_bytes) || 0) / total : 0;
                           return h('tr', {'data-disk': d.name},
                                    h('td', null, h('strong', null, d.name)),
                                    h('td', {class: 'mono'}, d.path || ''),
                                    h('td', {class: 'num'}, formatBytes(total)),
                                    h('td', {class: 'num'}, formatBytes(d.free_bytes)),
                                    h('td', {class: 'nowrap'},
                                      h('meter', {min: '0', max: '1', low: '0.8', high: '0.9',
                                                  optimum: '0', value: used.toFixed(4)}),
                                      ` ${(used * 100).toFixed(1)} %`));
                         }));
      const started = parseApiTime(s.started);
      replace(content,
              h('section', {class: 'stat-grid card'},
                stat('Version', s.version || '', {id: 'version'}),
                stat('Node', s.node || ''),
                stat('Up since', started ? formatTime(started) : '', {
                  title: started ? `up ${formatAge((now - started.getTime()) / 1000)}` : null,
                }),
                stat('Uptime', started ? formatAge((now - started.getTime()) / 1000) : ''),
                stat('Calls recording', formatCount(s.active_calls ?? 0)),
                stat('Readiness', failing ? `${failing} failing` : 'all checks pass',
                     {class: ['stat-value', failing ? 'stat-bad' : 'stat-ok']})),
              h('section', {class: 'card card-flush'},
                h('h2', {class: 'card-title'}, 'Readiness',
                  h('span', {class: 'card-sub'}, '/readyz per role')),
                ready.wrap),
              h('div', {class: 'grid-2'},
                h('section', {class: 'card card-flush'},
                  h('h2', {class: 'card-title'}, 'Backlog',
                    h('span', {class: 'card-sub'}, 'ingest, upload and replication queues')),
                  backlog.wrap),
                h('section', {class: 'card card-flush'},
                  h('h2', {class: 'card-title'}, 'Disk'), disk.wrap)));
      clearError();
    } catch (e) {
      showError(e, 'Cannot read the system status');
    }
    refresh.disabled = false;
    setReady(true);
  }
  refresh.addEventListener('click', load);
  await load();
}
