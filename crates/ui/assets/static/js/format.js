// Times and durations, in the page's language. Wall time comes from the browser; the server's times are RFC 3339.
import { lang } from './i18n.js';

const UNITS = { y: 365 * 86400e3, w: 7 * 86400e3, d: 86400e3, h: 3600e3, m: 60e3, s: 1e3, ms: 1 };

/** Prometheus duration syntax (`1h30m`, `2d`, `90s`) to milliseconds; null when malformed or zero. */
export function parseDuration(s) {
  const str = (s || '').trim();
  if (!str) return null;
  const re = /(\d+)(ms|y|w|d|h|m|s)/gy;
  let total = 0;
  let m;
  let consumed = 0;
  while ((m = re.exec(str)) !== null) {
    total += Number(m[1]) * UNITS[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed !== str.length || total <= 0) return null;
  return total;
}

/** Milliseconds as a compact Prometheus duration (`1d2h3m`); seconds only below ten minutes. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  // above ten minutes, seconds are noise (a silence's server-side start is a moment after the form's)
  let rest = ms >= 600e3 ? Math.round(ms / 60e3) * 60 : Math.round(ms / 1000);
  const parts = [];
  for (const [u, secs] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    const n = Math.floor(rest / secs);
    if (n > 0) parts.push(n + u);
    rest -= n * secs;
  }
  return parts.join('') || '0s';
}

/** "3 minutes ago" / "in 2 hours". */
export function relTime(date, now = Date.now()) {
  const d = date instanceof Date ? date : new Date(date);
  const diff = (d.getTime() - now) / 1000;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(lang(), { numeric: 'auto' });
  if (abs < 45) return rtf.format(Math.round(diff), 'second');
  if (abs < 2700) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 64800) return rtf.format(Math.round(diff / 3600), 'hour');
  if (abs < 86400 * 45) return rtf.format(Math.round(diff / 86400), 'day');
  return rtf.format(Math.round(diff / (86400 * 30)), 'month');
}

/** A full local date and time. */
export function absTime(date) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return String(date);
  return d.toLocaleString(lang(), { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A <time> element: relative text, absolute local time and UTC as the tooltip. */
export function timeEl(h, iso) {
  const d = new Date(iso);
  return h('time', { datetime: iso, title: absTime(d) + ' (' + d.toISOString() + ')' }, relTime(d));
}

const pad = (n) => String(n).padStart(2, '0');

/** A Date as the value of <input type="datetime-local"> (local time, minutes). */
export function toLocalInput(date) {
  const d = date instanceof Date ? date : new Date(date);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The value of <input type="datetime-local"> as a Date (null when empty or invalid). */
export function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}
