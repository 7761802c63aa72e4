// Call detail media (issue 16, Acceptance bullets 3–5): play with seek for a WAV and an Opus call,
// download (SHA-256 of the file = the detail's audio.sha256), waveforms (both channels drawn, a
// silent channel flat).
//
// Seeking runs on a link throttled to 128 KB/s (about 1 Mbit/s), on long calls (30 s WAV ≈ 940 KB,
// 150 s Opus ≈ 470 KB): on loopback Chromium reads a small file whole in its first request — an
// Ogg one even for its duration, which needs the last page — and then seeks in its cache without
// asking the server. Throttled, like a remote user, the click at 60 % is a `Range: bytes=N-`
// request (measured with Chromium 156: unthrottled, a 150 s Opus file never is).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { before, describe, test } from 'node:test';
import { newContext } from './browser.mjs';
import { PASSWORDS } from './fixture.mjs';
import { waitFor } from './harness.mjs';
import { apiLogin, open } from './pages.mjs';

const THROTTLE_BYTES_PER_S = 128 * 1024;

async function detailPage(fx, server, api, callId, { throttle = false } = {}) {
  const { context, guards } = await newContext(fx.browser);
  await apiLogin(context, server.base, 'admin', PASSWORDS.admin);
  const page = await context.newPage();
  if (throttle) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 20, downloadThroughput: THROTTLE_BYTES_PER_S, uploadThroughput: -1 });
  }
  const audio = [];  // {range, status} of every request for this call's audio
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === `/api/v1/calls/${callId}/audio`) {
      audio.push({ range: r.request().headers().range || null, status: r.status(), at: Date.now() });
    }
  });
  await open(page, server.base, `/calls/${callId}`);
  assert.equal((await page.textContent('#call-id')).trim(), callId);
  const detail = (await api.get(`/api/v1/calls/${callId}`)).json;
  return { context, guards, page, audio, detail };
}

async function waveforms(page) {
  await page.waitForSelector('canvas.waveform[data-drawn="1"]', { timeout: 15000 });
  return page.$$eval('canvas.waveform', (cs) => cs.map((c) => ({
    channel: c.getAttribute('data-channel'), drawn: c.getAttribute('data-drawn'), flat: c.getAttribute('data-flat'),
    width: c.width, height: c.height,
  })));
}

// Play + seek: click the first waveform at 60 % of its width.
async function playWithSeek(fx, server, api, callId, what) {
  const { context, guards, page, audio } = await detailPage(fx, server, api, callId, { throttle: true });
  try {
    await waveforms(page);
    const duration = await waitFor(() => page.evaluate(() => {
      const p = document.querySelector('audio#player');
      return p && Number.isFinite(p.duration) && p.duration > 0 ? p.duration : 0;
    }), 15000, 100);
    assert.ok(duration > 5, `${what}: player duration ${duration}`);
    assert.equal(await page.getAttribute('audio#player', 'src'), `/api/v1/calls/${callId}/audio`);
    const canvas = await page.$('canvas.waveform[data-channel="0"]');
    const box = await canvas.boundingBox();
    const clickedAt = Date.now();
    await canvas.click({ position: { x: Math.ceil(box.width * 0.6) + 1, y: box.height / 2 } });
    const ranged = await waitFor(() => audio.find((r) => r.at >= clickedAt && r.status === 206 &&
      /^bytes=([1-9]\d*)-$/.test(r.range || '')), 15000, 50);
    assert.ok(ranged, `${what}: no "Range: bytes=N-" (N > 0) request answered 206 after the click; ` +
      `audio requests: ${JSON.stringify(audio)}`);
    const t1 = await waitFor(() => page.evaluate((d) => {
      const p = document.querySelector('audio#player');
      return !p.paused && p.currentTime >= 0.6 * d ? p.currentTime : 0;
    }, duration), 15000, 100);
    assert.ok(t1 >= 0.6 * duration, `${what}: currentTime ${t1} after the click (duration ${duration}), playing`);
    const t2 = await waitFor(async () => {
      const t = await page.evaluate(() => document.querySelector('audio#player').currentTime);
      return t > t1 + 0.2 ? t : 0;
    }, 10000, 200);
    assert.ok(t2 > t1, `${what}: currentTime does not advance from ${t1}`);
    // Speed.
    await page.selectOption('select#speed', '2');
    assert.equal(await page.evaluate(() => document.querySelector('audio#player').playbackRate), 2);
    assert.deepEqual(guards.dialogs, []);
    assert.deepEqual(guards.pageErrors, []);
  } finally {
    await context.close();
  }
}

async function download(fx, server, api, callId, what) {
  const { context, page, detail } = await detailPage(fx, server, api, callId);
  try {
    assert.match(detail.audio?.sha256 || '', /^[0-9a-f]{64}$/, `${what}: detail audio.sha256`);
    assert.equal(await page.getAttribute('a#download', 'href'), `/api/v1/calls/${callId}/audio?download=1`);
    assert.notEqual(await page.getAttribute('a#download', 'download'), null, 'a#download has a download attribute');
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), page.click('a#download')]);
    const file = await dl.path();
    assert.equal(await dl.failure(), null);
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.length, detail.audio.bytes, `${what}: downloaded size`);
    assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), detail.audio.sha256, `${what}: SHA-256`);
  } finally {
    await context.close();
  }
}

export function mediaSuite(fx) {
  describe('call detail: player, download, waveform (WAV)', () => {
    test('WAV: play, click the waveform at 60 % → Range request, 206, currentTime ≥ 0.6 × duration and advancing',
      { timeout: 90000 }, () => playWithSeek(fx, fx.server, fx.api, fx.calls.wav, 'WAV'));
    test('WAV: download, SHA-256 = audio.sha256', { timeout: 60000 },
      () => download(fx, fx.server, fx.api, fx.calls.wav, 'WAV'));
    test('waveform: both channels drawn (two tones, none flat)', async () => {
      const { context, page } = await detailPage(fx, fx.server, fx.api, fx.calls.wav);
      try {
        const w = await waveforms(page);
        await page.waitForFunction(() => document.querySelectorAll('canvas.waveform[data-drawn="1"]').length === 2);
        const drawn = await waveforms(page);
        assert.deepEqual(drawn.map((c) => [c.channel, c.drawn, c.flat]), [['0', '1', null], ['1', '1', null]],
          JSON.stringify(w));
        // Drawn means pixels: each canvas has more than one colour.
        const colours = await page.$$eval('canvas.waveform', (cs) => cs.map((c) => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const seen = new Set();
          for (let i = 0; i < d.length && seen.size < 3; i += 4 * 7) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]},${d[i + 3]}`);
          return seen.size;
        }));
        assert.ok(colours.every((n) => n > 1), `canvas colours ${colours}`);
      } finally {
        await context.close();
      }
    });
    test('waveform: the silent channel is flat, the other is not', async () => {
      const { context, page } = await detailPage(fx, fx.server, fx.api, fx.calls.silent);
      try {
        await page.waitForFunction(() => document.querySelectorAll('canvas.waveform[data-drawn="1"]').length === 2);
        const drawn = await waveforms(page);
        assert.deepEqual(drawn.map((c) => [c.channel, c.drawn, c.flat]), [['0', '1', null], ['1', '1', '1']]);
      } finally {
        await context.close();
      }
    });
  });
}

export function opusSuite(fx) {
  describe('call detail: player, download, waveform (Opus)', () => {
    let opusId;
    before(async () => { opusId = await fx.opusReady; }, { timeout: 300000 });
    test('Opus: play, click the waveform at 60 % → Range request, 206, currentTime ≥ 0.6 × duration and advancing',
      { timeout: 90000 }, () => playWithSeek(fx, fx.opusServer, fx.opusApi, opusId, 'Opus'));
    test('Opus: download, SHA-256 = audio.sha256', { timeout: 60000 },
      () => download(fx, fx.opusServer, fx.opusApi, opusId, 'Opus'));
    test('Opus: both channels drawn', async () => {
      const { context, page, detail } = await detailPage(fx, fx.opusServer, fx.opusApi, opusId);
      try {
        assert.equal(detail.audio.format, 'opus');
        await page.waitForFunction(() => document.querySelectorAll('canvas.waveform[data-drawn="1"]').length === 2);
        const drawn = await waveforms(page);
        assert.deepEqual(drawn.map((c) => [c.channel, c.drawn, c.flat]), [['0', '1', null], ['1', '1', null]]);
      } finally {
        await context.close();
      }
    });
  });
}
