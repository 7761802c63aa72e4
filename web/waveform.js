// Waveform canvases for the call page: min/max bars per x pixel from
// GET /api/v1/calls/{id}/waveform, drawn with the 2D canvas API at the device's pixel ratio, a
// progress cursor following the <audio> element, click (or arrow keys) to seek.

import {attr, h} from './dom.js';

const kPlayed = '#2457d6';
const kUnplayed = '#9db3e8';
const kFlat = '#b9c2d0';
const kCursor = '#d92d20';

// True when every min/max of the channel is (nearly) 0: a silent channel.
export function isFlat(channel) {
  const quiet = (v) => Math.abs(Number(v) || 0) < 0.001;
  return (channel.min || []).every(quiet) && (channel.max || []).every(quiet);
}

// Draws min/max bars for `points` across a w×h context in `color`.
function drawBars(ctx, w, hgt, channel, color, flat) {
  const mins = channel.min || [];
  const maxs = channel.max || [];
  const n = Math.min(mins.length, maxs.length);
  const mid = hgt / 2;
  const scale = mid * 0.94;
  ctx.fillStyle = flat ? kFlat : color;
  ctx.fillRect(0, Math.floor(mid), w, 1);
  if (flat || n === 0) return;
  for (let x = 0; x < w; x++) {
    const first = Math.floor((x * n) / w);
    const last = Math.max(first + 1, Math.floor(((x + 1) * n) / w));
    let lo = 0;
    let hi = 0;
    for (let i = first; i < last && i < n; i++) {
      const a = Number(mins[i]) || 0;
      const b = Number(maxs[i]) || 0;
      if (a < lo) lo = a;
      if (b > hi) hi = b;
    }
    const top = mid - Math.min(1, hi) * scale;
    const bottom = mid - Math.max(-1, lo) * scale;
    ctx.fillRect(x, Math.floor(top), 1, Math.max(1, Math.ceil(bottom - top)));
  }
}

// One channel's canvas. `player` is the <audio>, `durationS()` its duration in seconds.
export class WaveformView {
  constructor(canvas, channel, player, durationS) {
    this.canvas = canvas;
    this.channel = channel;
    this.player = player;
    this.durationS = durationS;
    this.flat = isFlat(channel);
    this.layers = null;  // {w, h, played, unplayed}: offscreen canvases at the current size
    canvas.addEventListener('click', (event) => {
      const rect = canvas.getBoundingClientRect();
      if (rect.width <= 0) return;
      const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
      seekFraction(player, durationS, fraction);
    });
    canvas.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 5 : event.key === 'ArrowLeft' ? -5 : 0;
      if (!step) return;
      event.preventDefault();
      const d = durationS();
      if (d > 0) player.currentTime = Math.min(d, Math.max(0, player.currentTime + step));
    });
  }

  // Renders the bars into offscreen layers at the canvas's current pixel size.
  layout() {
    const rect = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(rect.width * dpr));
    const hgt = Math.max(1, Math.round(rect.height * dpr));
    if (this.layers && this.layers.w === w && this.layers.h === hgt) return;
    const make = (color) => {
      const c = h('canvas', {width: w, height: hgt});
      drawBars(c.getContext('2d'), w, hgt, this.channel, color, this.flat);
      return c;
    };
    this.canvas.width = w;
    this.canvas.height = hgt;
    this.layers = {w, h: hgt, played: make(kPlayed), unplayed: make(kUnplayed)};
  }

  // Draws the waveform with the part before the playback position highlighted.
  draw() {
    this.layout();
    const {w, h: hgt, played, unplayed} = this.layers;
    const ctx = this.canvas.getContext('2d');
    ctx.clearRect(0, 0, w, hgt);
    ctx.drawImage(unplayed, 0, 0);
    const d = this.durationS();
    const t = this.player.currentTime || 0;
    if (d > 0 && t > 0) {
      const x = Math.min(w, Math.round((t / d) * w));
      if (x > 0) ctx.drawImage(played, 0, 0, x, hgt, 0, 0, x, hgt);
      const dpr = window.devicePixelRatio || 1;
      ctx.fillStyle = kCursor;
      ctx.fillRect(Math.min(w - 1, x), 0, Math.max(1, Math.round(dpr)), hgt);
    }
    if (this.canvas.dataset.drawn !== '1') {
      attr(this.canvas, 'data-drawn', '1');
      if (this.flat) attr(this.canvas, 'data-flat', '1');
    }
  }
}

// Seeks the player to fraction × duration and plays (after the metadata has loaded).
export function seekFraction(player, durationS, fraction) {
  const go = () => {
    const d = durationS();
    if (d > 0) player.currentTime = fraction * d;
    const p = player.play();
    if (p && p.catch) p.catch(() => {});
  };
  if (player.readyState >= 1) {
    go();
  } else {
    player.addEventListener('loadedmetadata', go, {once: true});
    if (player.networkState === 0 || player.networkState === 3) player.load();
  }
}

// Keeps every view's cursor in step with the player: on its events, and every animation frame
// while it plays; redraws at the new size when the element is resized.
export function followPlayer(player, views, onTick) {
  let frame = 0;
  const drawAll = () => {
    for (const v of views) v.draw();
    if (onTick) onTick();
  };
  const loop = () => {
    drawAll();
    frame = player.paused ? 0 : requestAnimationFrame(loop);
  };
  for (const event of ['timeupdate', 'seeked', 'loadedmetadata', 'durationchange', 'pause',
                       'ended']) {
    player.addEventListener(event, drawAll);
  }
  player.addEventListener('play', () => {
    if (!frame) frame = requestAnimationFrame(loop);
  });
  if (window.ResizeObserver && views.length) {
    let pending = 0;
    const observer = new ResizeObserver(() => {
      if (pending) return;
      pending = requestAnimationFrame(() => {
        pending = 0;
        drawAll();
      });
    });
    observer.observe(views[0].canvas);
  }
  drawAll();
}
