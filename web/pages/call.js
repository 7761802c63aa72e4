// /calls/<id> — one call: player with seek and speed, a waveform per channel (click to seek),
// facts, participants, streams with packet statistics, tags, metadata snapshots as text,
// download, delete, legal hold and the call's audit trail (who played or downloaded it).

import {h, replace, setText} from '../dom.js';
import {api, ApiError} from '../api.js';
import {formatBytes, formatCount, formatDuration, formatTime} from '../format.js';
import {clearError, setReady, showError, stateBadge, table} from '../ui.js';
import {WaveformView, followPlayer} from '../waveform.js';

const kChannelNames = ['Left', 'Right'];

function callPath(id, suffix = '') {
  return `/api/v1/calls/${encodeURIComponent(id)}${suffix}`;
}

function facts(rows) {
  return h('dl', {class: 'facts'},
           rows.filter((r) => r && r[1] !== null && r[1] !== undefined && r[1] !== '')
               .map(([label, value]) => [h('dt', null, label), h('dd', null, value)]));
}

function card(title, attrs, ...content) {
  return h('section', {class: 'card', ...attrs},
           h('h2', {class: 'card-title'}, title), content);
}

function storageText(storage) {
  if (!storage || typeof storage !== 'object') return null;
  const parts = [String(storage.location || '')];
  if (storage.node) parts.push(`node ${storage.node}`);
  if (storage.stored_bytes) parts.push(formatBytes(storage.stored_bytes));
  if (storage.relocated) parts.push(`moved ${formatTime(storage.relocated)}`);
  if (storage.encrypted) parts.push('encrypted');
  return parts.filter(Boolean).join(' · ');
}

function factsCard(call) {
  const audio = call.audio;
  return card('Call', null, facts([
    ['Started', formatTime(call.started)],
    ['Answered', call.answered ? formatTime(call.answered) : null],
    ['Ended', call.ended ? formatTime(call.ended) : null],
    ['Duration', call.state === 'active' ? 'recording…' : formatDuration(call.duration_ms)],
    ['State', h('span', null, stateBadge(call.state),
                call.end_reason ? h('span', {class: 'muted'}, ` ${call.end_reason}`) : null)],
    ['Node', call.node],
    ['Tenant', call.tenant],
    ['SIP Call-ID', call.sip_call_id ? h('span', {class: 'mono'}, call.sip_call_id) : null],
    ['SIPREC session',
     call.siprec_session_id ? h('span', {class: 'mono'}, call.siprec_session_id) : null],
    ['Audio', audio ? `${String(audio.format || '').toUpperCase()} · ${formatBytes(audio.bytes)}`
                    : null],
    ['SHA-256', audio && audio.sha256 ? h('span', {class: 'mono'}, audio.sha256) : null],
    ['Storage', storageText(call.storage)],
    ['Legal hold', call.legal_hold
                       ? `${call.legal_hold.reason || ''} — by ${call.legal_hold.by || '?'}, ` +
                         formatTime(call.legal_hold.since)
                       : null],
  ]));
}

function participantsCard(call) {
  const list = Array.isArray(call.participants) ? call.participants : [];
  const items = list.map((p) => {
    const o = p && typeof p === 'object' ? p : {name: String(p)};
    const channel = Number.isInteger(o.channel) ? kChannelNames[o.channel] || `#${o.channel}`
                                                : null;
    return h('li', {class: 'participant'},
             h('span', {class: 'p-name'}, o.name || '(no name)'),
             h('span', {class: 'p-aor'}, o.aor || ''),
             channel ? h('span', {class: 'p-channel'}, `${channel} channel`) : null);
  });
  return card('Participants', null,
              h('ul', {id: 'participants', class: 'participant-list'}, items),
              items.length ? null : h('p', {class: 'note'}, 'No participants were recorded.'));
}

function lossText(s) {
  const lost = Number(s.lost) || 0;
  const total = (Number(s.packets) || 0) + lost;
  if (!lost) return '0';
  return `${formatCount(lost)} (${total ? ((100 * lost) / total).toFixed(2) : '0'} %)`;
}

function gapsCell(s) {
  if (!Array.isArray(s.gaps)) return h('td', {class: 'num muted'}, '—');
  const gaps = s.gaps;
  if (!gaps.length) return h('td', {class: 'num'}, '0');
  const total = gaps.reduce((sum, g) => sum + (Number(g && g.duration_ms) || 0), 0);
  return h('td', {class: 'num'},
           h('details', null,
             h('summary', null,
               `${formatCount(gaps.length)}${s.gaps_truncated ? '+' : ''} · ${total} ms`),
             h('ul', {class: 'gap-list'},
               gaps.slice(0, 200).map((g) => h('li', null, `at ${formatDuration(g.at_ms)} · ` +
                                                           `${g.duration_ms} ms`)),
               gaps.length > 200 ? h('li', null, `… ${gaps.length - 200} more`) : null)));
}

function streamsCard(call) {
  const streams = Array.isArray(call.streams) ? call.streams : [];
  const num = (v) => h('td', {class: 'num'}, formatCount(v ?? 0));
  const rows = streams.map((raw) => {
    const s = raw && typeof raw === 'object' ? raw : {};
    const channel = s.channel === null || s.channel === undefined
                        ? 'not recorded'
                        : (s.mixed ? 'both (mixed)' : kChannelNames[s.channel] || s.channel);
    const ssrcs = Array.isArray(s.ssrcs) ? s.ssrcs.join(', ') : '';
    const dtmf = Array.isArray(s.dtmf) ? s.dtmf.map((d) => d.digit).join('') : '';
    return h('tr', {'data-stream': s.id ?? ''},
             h('td', null, s.label ?? s.id ?? ''),
             h('td', null, String(channel)),
             h('td', {class: 'nowrap'}, s.codec || '',
               s.srtp ? h('span', {class: 'badge badge-ok badge-inline'}, 'SRTP') : null),
             h('td', {class: 'mono', title: `SSRC ${ssrcs}`},
               ssrcs.length > 24 ? `${ssrcs.slice(0, 22)}…` : ssrcs),
             num(s.packets),
             h('td', {class: 'num'}, formatBytes(s.bytes ?? 0)),
             h('td', {class: ['num', s.lost ? 'warn-text' : null]}, lossText(s)),
             num(s.duplicates),
             num(s.reordered),
             num(s.late),
             num((Number(s.bad) || 0) + (Number(s.auth_failed) || 0) +
                 (Number(s.unknown_payload) || 0)),
             num(s.receiver_drops),
             gapsCell(s),
             h('td', {class: 'mono'}, dtmf));
  });
  const {wrap} = table({id: 'streams', class: 'data-table'}, [
    'Label', 'Channel', 'Codec', 'SSRC', {label: 'Packets', class: 'num'},
    {label: 'Bytes', class: 'num'}, {label: 'Lost', class: 'num'},
    {label: 'Duplicates', class: 'num'}, {label: 'Reordered', class: 'num'},
    {label: 'Late', class: 'num'}, {label: 'Bad', class: 'num'},
    {label: 'Drops', class: 'num'}, {label: 'Gaps', class: 'num'}, 'DTMF',
  ], rows);
  return h('section', {class: 'card card-flush'},
           h('h2', {class: 'card-title'}, 'Streams',
             h('span', {class: 'card-sub'}, 'lost = missing sequence numbers; late = placed ' +
                                            'over 200 ms before arrival; gaps = filled loss')),
           wrap,
           streams.length ? null : h('p', {class: 'empty'}, 'No streams.'));
}

function metadataCard(call) {
  const snapshots = Array.isArray(call.metadata) ? call.metadata : [];
  const items = snapshots.map((raw, i) => {
    const s = raw && typeof raw === 'object' ? raw : {raw: String(raw)};
    const text = typeof s.raw === 'string' ? s.raw : JSON.stringify(s, null, 2);
    const problems = Array.isArray(s.problems) ? s.problems : [];
    return h('div', {class: 'snapshot'},
             h('div', {class: 'snapshot-head'},
               h('strong', null, `#${i + 1}`),
               s.at ? h('span', null, formatTime(s.at)) : null,
               s.source ? h('span', null, String(s.source)) : null,
               s.content_type ? h('span', {class: 'mono'}, String(s.content_type)) : null,
               s.well_formed === false ? h('span', {class: 'badge badge-bad'}, 'not well-formed')
                                       : null,
               problems.length ? h('span', {class: 'warn-text'}, problems.join('; ')) : null),
             h('pre', {class: 'metadata-snapshot'}, text));
  });
  return card('Metadata', null,
              h('div', {id: 'metadata'}, items,
                items.length ? null : h('p', {class: 'note'}, 'No metadata snapshots.')));
}

function tagsCard(ctx, call) {
  const canTag = ctx.can('calls:tag');
  const box = h('div', {id: 'tags', class: 'tag-editor'});
  let tags = Array.isArray(call.tags) ? call.tags.slice() : [];

  const input = h('input', {id: 'tag-input', type: 'text', placeholder: 'new tag',
                            autocomplete: 'off', spellcheck: 'false', maxlength: '64',
                            pattern: '[A-Za-z0-9_.:\\- ,]+',
                            title: 'letters, digits and _ . : - (several separated by spaces)'});
  const add = h('button', {id: 'tag-add', type: 'submit'}, 'Add tag');
  const form = h('form', {class: 'tag-add-form'}, input, add);

  const draw = () => {
    const chips = tags.map((t) => h('span', {class: 'tag'}, t,
                                     canTag ? h('button', {type: 'button', class: 'tag-remove',
                                                           'data-remove-tag': t,
                                                           title: `Remove tag ${t}`,
                                                           'aria-label': `Remove tag ${t}`},
                                                '×')
                                            : null));
    replace(box,
            h('span', {class: 'tags'}, chips),
            tags.length ? null : h('span', {class: 'muted'}, 'No tags.'),
            canTag ? form : null);
  };

  const update = async (fn) => {
    setReady(false);
    try {
      const result = await fn();
      if (result && Array.isArray(result.tags)) tags = result.tags;
      clearError();
      draw();
    } catch (e) {
      showError(e, 'Tags not changed');
    }
    setReady(true);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const wanted = input.value.split(/[\s,]+/).filter(Boolean);
    if (!wanted.length) return;
    update(async () => {
      const result = await api('POST', callPath(call.id, '/tags'), {body: {tags: wanted}});
      input.value = '';
      return result;
    });
  });
  box.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-remove-tag]');
    if (!button) return;
    const tag = button.dataset.removeTag;
    update(async () => {
      const result = await api('DELETE', callPath(call.id, `/tags/${encodeURIComponent(tag)}`));
      return result || {tags: tags.filter((t) => t !== tag)};
    });
  });
  draw();
  return card('Tags', null, box);
}

// The player card: <audio>, speed, one canvas per channel.
function playerCard(ctx, call) {
  const body = h('div');
  const section = card('Recording', null, body);
  if (!ctx.can('audio:read')) {
    replace(body, h('p', {class: 'note'}, 'Your role cannot listen to recordings.'));
    return {section, start: () => {}};
  }
  if (call.state === 'active') {
    replace(body, h('p', {class: 'note'},
                    'The call is still recording; its audio can be played once it has ended.'));
    return {section, start: () => {}};
  }
  if (!call.audio) {
    replace(body, h('p', {class: 'note'}, 'This call has no audio.'));
    return {section, start: () => {}};
  }

  const player = h('audio', {id: 'player', controls: true, preload: 'metadata',
                             src: callPath(call.id, '/audio')});
  const speed = h('select', {id: 'speed', value: '1', 'aria-label': 'Playback speed'},
                  ['0.5', '1', '1.5', '2'].map((v) => h('option', {value: v}, `${v}×`)));
  speed.addEventListener('change', () => {
    player.playbackRate = Number(speed.value) || 1;
  });
  // A new source resets playbackRate to the default; keep the chosen speed.
  player.addEventListener('loadedmetadata', () => {
    player.playbackRate = Number(speed.value) || 1;
  });
  const clock = h('div', {class: 'wave-time'});
  const waves = h('div', {class: 'waveforms'},
                  h('div', {class: 'wave-row'},
                    h('div', {class: 'wave-label'}),
                    h('div', {class: 'wave-box'}, h('p', {class: 'note'}, 'Loading waveform…'))));
  const audioNote = h('p', {class: 'note warn-text', hidden: true});
  player.addEventListener('error', () => {
    setText(audioNote, 'The audio cannot be played (the server refused it or the file is ' +
                       'unreadable); see the waveform note or try Download.');
    audioNote.hidden = false;
  });
  replace(body,
          h('div', {class: 'player-bar'}, player,
            h('label', {class: 'speed'}, h('span', {class: 'muted'}, 'Speed'), speed)),
          audioNote, waves, clock);

  let waveDuration = 0;
  const durationS = () => (Number.isFinite(player.duration) && player.duration > 0
                               ? player.duration : waveDuration);
  const tick = () => {
    const d = durationS();
    setText(clock, d > 0 ? `${formatDuration((player.currentTime || 0) * 1000)} / ` +
                           `${formatDuration(d * 1000)}` : '');
  };

  const participantOf = (channel) => {
    const p = (call.participants || []).find((x) => x && x.channel === channel);
    return p ? p.name || p.aor || '' : '';
  };

  async function start() {
    const probe = waves.querySelector('.wave-box');
    const dpr = window.devicePixelRatio || 1;
    // A few fixed resolutions, not the exact pixel width: the server caches peaks by points, and
    // computing an hour of Opus takes seconds — every screen of about the same size shares one.
    const pixels = Math.round((probe.clientWidth || 800) * dpr);
    const points = pixels <= 1024 ? 1024 : pixels <= 2048 ? 2048 : 4096;
    try {
      const wf = await api('GET', callPath(call.id, '/waveform'), {query: {points}});
      waveDuration = (Number(wf.duration_ms) || 0) / 1000;
      const views = [];
      const rows = (wf.channels || []).map((ch) => {
        const canvas = h('canvas', {class: 'waveform', 'data-channel': ch.channel,
                                    tabindex: '0',
                                    'aria-label': `Waveform, ${kChannelNames[ch.channel] ||
                                                  `channel ${ch.channel}`} channel; ` +
                                                  'click to play from there'});
        views.push(new WaveformView(canvas, ch, player, durationS));
        const who = participantOf(ch.channel);
        return h('div', {class: 'wave-row'},
                 h('div', {class: 'wave-label'},
                   h('strong', null, kChannelNames[ch.channel] || `Ch ${ch.channel}`),
                   // Network text goes into the title only after a fixed prefix.
                   who ? h('span', {title: `${kChannelNames[ch.channel] || 'Channel'}: ${who}`},
                           who)
                       : null),
                 h('div', {class: 'wave-box'}, canvas));
      });
      replace(waves, rows);
      followPlayer(player, views, tick);
    } catch (e) {
      const text = e instanceof ApiError ? `No waveform: ${e.message} (${e.code})`
                                         : `No waveform: ${e.message}`;
      replace(waves, h('p', {class: 'note'}, text));
      player.addEventListener('timeupdate', tick);
      player.addEventListener('loadedmetadata', tick);
    }
  }
  return {section, start};
}

export async function render(ctx) {
  const id = ctx.args[0];
  document.title = 'Call — callvault';
  let call;
  try {
    call = await api('GET', callPath(id));
  } catch (e) {
    replace(ctx.main,
            h('div', {class: 'page-head'},
              h('div', null, h('a', {href: '/calls', class: 'back-link'}, '← Calls'),
                h('h1', null, 'Call'), h('div', {id: 'call-id', class: 'mono'}, id))));
    showError(e, e.status === 404 ? 'Call not found' : 'Cannot load the call');
    setReady(true);
    return;
  }
  const caller = call.caller || {};
  const callee = call.callee || {};
  const who = (p) => p.name || p.number || p.aor || '?';
  document.title = `${who(caller)} → ${who(callee)} — callvault`;

  const actions = [];
  if (ctx.can('audio:read') && call.audio && call.state !== 'active') {
    // ?download=1: served as an attachment and audited as call.download (the player's
    // requests are call.play).
    actions.push(h('a', {id: 'download', class: 'button',
                         href: `${callPath(call.id, '/audio')}?download=1`, download: true},
                   'Download'));
  }
  if (ctx.can('audit:read')) {
    actions.push(h('a', {id: 'call-audit', class: 'button button-ghost',
                         href: `/audit?call=${encodeURIComponent(call.id)}`}, 'Audit trail'));
  }
  if (ctx.can('calls:hold')) {
    const held = Boolean(call.legal_hold);
    const hold = h('button', {type: 'button', id: 'hold-call'},
                   held ? 'Release hold' : 'Legal hold');
    hold.addEventListener('click', async () => {
      try {
        if (held) {
          if (!confirm('Release the legal hold on this call?')) return;
          await api('DELETE', callPath(call.id, '/hold'));
        } else {
          const reason = prompt('Reason for the legal hold (e.g. a case number):');
          if (reason === null) return;
          await api('PUT', callPath(call.id, '/hold'), {body: {reason}});
        }
        location.reload();
      } catch (e) {
        showError(e, 'Legal hold not changed');
      }
    });
    actions.push(hold);
  }
  if (ctx.can('calls:delete')) {
    const del = h('button', {type: 'button', id: 'delete-call', class: 'button-danger'},
                  'Delete');
    del.addEventListener('click', async () => {
      if (!confirm('Delete this call and its recording? This cannot be undone.')) return;
      del.disabled = true;
      try {
        await api('DELETE', callPath(call.id));
        location.assign('/calls');
      } catch (e) {
        showError(e, 'The call was not deleted');
        del.disabled = false;
      }
    });
    actions.push(del);
  }

  const player = playerCard(ctx, call);
  replace(ctx.main,
          h('div', {class: 'page-head call-head'},
            h('div', {class: 'call-title-block'},
              h('a', {href: '/calls', class: 'back-link'}, '← Calls'),
              h('div', {class: 'call-title'},
                h('h1', null, `${who(caller)} → ${who(callee)}`), stateBadge(call.state),
                call.legal_hold ? h('span', {class: 'badge badge-warn'}, 'Legal hold') : null),
              h('div', {id: 'call-id', class: 'mono'}, call.id)),
            h('div', {class: 'page-head-side'}, actions)),
          player.section,
          h('div', {class: 'grid-2'}, factsCard(call), participantsCard(call)),
          tagsCard(ctx, call),
          streamsCard(call),
          metadataCard(call));
  clearError();
  await player.start();
  setReady(true);
}
