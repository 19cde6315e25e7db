// Hash routes: #/alerts, #/silences, #/silences/new, #/silences/:id, #/silences/:id/edit, #/status.
// Query parameters live after the path inside the hash (#/alerts?filter=...), as in Alertmanager's UI.

/** Splits a location hash into `{ path, segments, params }`. */
export function parseHash(hash) {
  let s = (hash || '').replace(/^#/, '');
  if (!s.startsWith('/')) s = '/' + s;
  const q = s.indexOf('?');
  const path = q >= 0 ? s.slice(0, q) : s;
  const params = new URLSearchParams(q >= 0 ? s.slice(q + 1) : '');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, segments, params };
}

/** Builds a hash from a path and a params object (arrays repeat; empty values are dropped). */
export function hashFor(path, params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one === undefined || one === null || one === '') continue;
      sp.append(k, String(one));
    }
  }
  const qs = sp.toString();
  return '#' + path + (qs ? '?' + qs : '');
}

/** Rewrites the hash without triggering navigation (state kept in the URL so it can be shared and reloaded). */
export function replaceHash(path, params) {
  const h = hashFor(path, params);
  if (location.hash !== h) history.replaceState(null, '', h);
}
