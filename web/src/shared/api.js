// The API client every page uses: same origin by default (the local stack serves the pages under
// the API's origin; on AWS /config.json names the API), problem+json errors as ApiError with the
// stable `code`, and one place that notices an expired login (401) so the page can prompt for a
// new one and carry on without a reload.
import { reactive } from 'vue'

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`)
    this.status = status
    this.code = problem?.code || (status === 401 ? 'unauthorized' : `http_${status}`)
    this.problem = problem || {}
  }
}

const TOKEN_KEY = 'lc.token'
export const session = reactive({
  token: null,
  user: null,
  expired: false,         // a call came back 401: the page shows the login prompt
  config: { api: '', stage: '', local: false },
})

let configLoaded = null
export function loadConfig() {
  // /config.json: written next to the pages by the web stack on AWS; served by the local stack.
  configLoaded ||= fetch('/config.json', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : {}))
    .catch(() => ({}))
    .then((cfg) => Object.assign(session.config, cfg))
  return configLoaded
}

export function restoreToken() {
  // A mini-program web-view passes the viewer's token in the URL (?token=): keep it and drop it
  // from the address bar, so it is not shared with a copied link.
  const url = new URL(window.location.href)
  const given = url.searchParams.get('token')
  if (given) {
    url.searchParams.delete('token')
    window.history.replaceState(null, '', url.pathname + url.search + url.hash)
    sessionStorage.setItem(TOKEN_KEY, given)
  }
  session.token = sessionStorage.getItem(TOKEN_KEY)
  return session.token
}

export function setToken(token, user) {
  session.token = token
  session.user = user || null
  session.expired = false
  if (token) sessionStorage.setItem(TOKEN_KEY, token)
  else sessionStorage.removeItem(TOKEN_KEY)
  for (const waiter of loginWaiters.splice(0)) waiter()
}

const loginWaiters = []
/** Resolves once someone logs in again (after an expired token). */
export function whenLoggedIn() {
  return session.token && !session.expired ? Promise.resolve() : new Promise((r) => loginWaiters.push(r))
}

export function newKey() {
  return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).replace(/-/g, '')
}

export async function api(method, path, body, { headers = {}, auth = true, raw = false } = {}) {
  await loadConfig()
  const h = { ...headers }
  if (body !== undefined) h['Content-Type'] = 'application/json'
  if (auth && session.token) h.Authorization = `Bearer ${session.token}`
  let response
  try {
    response = await fetch(`${session.config.api || ''}${path}`, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (err) {
    throw new ApiError(0, { code: 'network', title: 'network', detail: String(err?.message || err) })
  }
  if (raw) return response
  const text = await response.text()
  let data = null
  try { data = text ? JSON.parse(text) : null } catch { data = { detail: text } }
  if (!response.ok) {
    if (response.status === 401 && auth && session.token) session.expired = true
    throw new ApiError(response.status, data)
  }
  return data
}

export async function login(provider, code) {
  const body = await api('POST', '/v1/auth/login', { provider, code }, { auth: false })
  setToken(body.token, body.user)
  return body
}

export async function me() {
  session.user = await api('GET', '/v1/me')
  return session.user
}

/** fen -> "¥12.90" */
export function yuan(fen) {
  if (fen === null || fen === undefined) return '—'
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}
