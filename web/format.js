// Formatting for display: times in the browser's local time zone, durations, byte counts, and
// the conversion between <input type="datetime-local"> values (local wall clock, no zone) and
// the API's RFC 3339 times.

function pad(n, width = 2) {
  return String(Math.trunc(Math.abs(n))).padStart(width, '0');
}

// Parses what the API accepts as a time (RFC 3339, a date = midnight UTC, epoch milliseconds);
// null when it is none of them.
export function parseApiTime(value) {
  if (value === null || value === undefined || value === '') return null;
  const s = String(value).trim();
  let d;
  if (/^\d+$/.test(s)) {
    d = new Date(Number(s));
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    d = new Date(`${s}T00:00:00Z`);
  } else {
    d = new Date(s.replace(' ', 'T'));
  }
  return Number.isNaN(d.getTime()) ? null : d;
}

// "25/11/2026, 09:00:00" or whatever the browser's locale writes, in its time zone.
export function formatTime(value) {
  const d = value instanceof Date ? value : parseApiTime(value);
  return d ? d.toLocaleString() : '';
}

// "09:00:00" in local time (for "updated at").
export function formatClock(d) {
  return d.toLocaleTimeString();
}

// Milliseconds → "mm:ss" below an hour, else "h:mm:ss". Negative values count as 0.
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '';
  const total = Math.max(0, Math.floor(Number(ms) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

// 1536 → "1.5 KiB".
export function formatBytes(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// 12345 → "12,345" in the browser's locale.
export function formatCount(n) {
  return Number.isFinite(Number(n)) ? Number(n).toLocaleString() : '';
}

// Seconds → "3 d 4 h", "5 h 2 min", "4 min 10 s", "12 s".
export function formatAge(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

// A Date as RFC 3339 with the browser's UTC offset: "2026-11-25T09:00:00+01:00".
export function toRfc3339Local(d) {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const ms = d.getMilliseconds();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
         `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
         `${ms ? `.${pad(ms, 3)}` : ''}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

// datetime-local value ("2026-11-25T09:00" or with seconds) → RFC 3339 with the local offset;
// '' when empty or invalid.
export function localInputToApi(value) {
  if (!value) return '';
  // Without a zone, ECMAScript reads a date-time form as local time.
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : toRfc3339Local(d);
}

// An API time value → datetime-local value in local time ("2026-11-25T09:00", seconds only
// when not 0); '' if invalid.
export function apiToLocalInput(value) {
  const d = parseApiTime(value);
  if (!d) return '';
  const s = d.getSeconds();
  const ms = d.getMilliseconds();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
         `T${pad(d.getHours())}:${pad(d.getMinutes())}` +
         (s || ms ? `:${pad(s)}` : '') + (ms ? `.${pad(ms, 3)}` : '');
}
