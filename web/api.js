// fetch() wrapper for /api/v1: JSON in and out, the session's CSRF token on every unsafe
// request, a 401 sends the browser to /login?next=<this page>, and every error is an ApiError
// carrying the API's stable code and human message ({"error": {"code", "message"}}).

let csrfToken = '';
let redirecting = false;

export function setCsrfToken(token) {
  csrfToken = token || '';
}

export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = extra.retryAfter ?? null;
    this.body = extra.body ?? null;
  }
}

// True once a 401 has sent the browser to the login page: callers should show nothing more.
export function isRedirecting() {
  return redirecting;
}

export function loginUrl() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

// Builds "path?k=v&…" from an object, leaving out undefined, null and '' values.
export function withQuery(path, query) {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue;
    qs.append(key, String(value));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

// api('GET', '/api/v1/calls', {query: {...}}) → parsed JSON (null for 204).
// Options: query (object), body (JSON-serialised), noRedirect (a 401 is thrown, not followed).
export async function api(method, path, options = {}) {
  const headers = {Accept: 'application/json'};
  const init = {method, headers, credentials: 'same-origin', cache: 'no-store'};
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;

  let response;
  try {
    response = await fetch(withQuery(path, options.query), init);
  } catch (e) {
    throw new ApiError(0, 'network', `The server cannot be reached (${e.message}).`);
  }
  if (response.status === 401 && !options.noRedirect) {
    redirecting = true;
    location.assign(loginUrl());
    return new Promise(() => {});  // the page is going away; nothing more to render
  }
  if (response.status === 204) return null;

  const type = response.headers.get('Content-Type') || '';
  let body = null;
  if (type.includes('json')) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const err = body && typeof body.error === 'object' && body.error ? body.error : {};
    const header = Number(response.headers.get('Retry-After'));
    const retryAfter = Number.isFinite(err.retry_after_s) ? err.retry_after_s
                       : (Number.isFinite(header) && header > 0 ? header : null);
    throw new ApiError(response.status, String(err.code || `http_${response.status}`),
                       String(err.message || response.statusText || `HTTP ${response.status}`),
                       {retryAfter, body});
  }
  if (body === null) {
    throw new ApiError(response.status, 'bad_response', 'The server answered without JSON.');
  }
  return body;
}
