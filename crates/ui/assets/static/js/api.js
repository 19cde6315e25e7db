// The Alertmanager API v2 client. URLs are relative to the page, so the UI works under any --web.route-prefix.

/** An error from the API, carrying the HTTP status and the server's own message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function url(path, params) {
  const u = new URL('api/v2/' + path, document.baseURI);
  for (const [k, v] of Object.entries(params || {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one === undefined || one === null) continue;
      u.searchParams.append(k, String(one));
    }
  }
  return u;
}

/** The server's message: a bare JSON string (handler errors), `{code,message}` (framework errors), or text. */
export function errorText(status, text) {
  if (text) {
    try {
      const v = JSON.parse(text);
      if (typeof v === 'string') return v;
      if (v && typeof v.message === 'string') return v.message;
      if (v && typeof v.error === 'string') return v.error;
    } catch {
      /* not JSON: the text itself */
    }
    return text.trim();
  }
  return `HTTP ${status}`;
}

async function request(method, path, { params, body, signal } = {}) {
  const init = { method, signal, headers: { Accept: 'application/json' }, cache: 'no-store' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let resp;
  try {
    resp = await fetch(url(path, params), init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, e.message || String(e));
  }
  const text = await resp.text();
  if (!resp.ok) throw new ApiError(resp.status, errorText(resp.status, text));
  return text ? JSON.parse(text) : null;
}

export const api = {
  status: (o) => request('GET', 'status', o),
  receivers: (o) => request('GET', 'receivers', o),
  alerts: (params, o = {}) => request('GET', 'alerts', { ...o, params }),
  groups: (params, o = {}) => request('GET', 'alerts/groups', { ...o, params }),
  silences: (params, o = {}) => request('GET', 'silences', { ...o, params }),
  silence: (id, o) => request('GET', 'silence/' + encodeURIComponent(id), o),
  postSilence: (silence) => request('POST', 'silences', { body: silence }),
  expireSilence: (id) => request('DELETE', 'silence/' + encodeURIComponent(id)),
};
