// Poll-mode delivery of a room's crowd danmaku (docs/scale.md "Read diffusion for big rooms",
// docs/delivery-switch.md). A big room's batches are not pushed on the danmaku topic: each is a
// numbered page of GET /v1/rooms/{id}/feed?seq=N (the pages after N, in order, `next_seq`, `missed`,
// the like total, `poll_interval_ms`), cached 1 s at the edge. The room's mode comes from
// GET .../realtime (`delivery`, `poll_interval_ms`, `feed_seq`: the latest page when the viewer
// joined) and changes with a `delivery` message on the events topic.
//
// FeedFollower is the page's side of it, free of Vue and of the browser (fetch and timers are
// given), so tests/unit/web/feed_follower.test.mjs drives it with fake ones under `node --test`:
// - push: no request at all; poll: one request at once, then one every poll_interval_ms;
// - each page is handed over once, in order (a page at or below the seq it has is skipped, so an
//   answer arriving after a switch, or the same page from two answers, is never shown twice);
// - a failed request (a network drop, a 5xx, a 4xx) waits 1, 2, 4, 8, 15 s, then carries on from
//   the same seq; `nudge()` (the browser is back online) asks again at once;
// - a full answer (the client is behind) asks again at once instead of waiting;
// - back to push ends the regular requests but drains the feed: one read at once (the pages up to
//   the switch) and one more DRAIN_AFTER_MS later (the pages a server container whose 5 s settings
//   cache still said poll wrote after the switch), each page once (by seq; the page shows each
//   message once by id); `stop()` (the room ended, the page is left) stops it for good;
// - `reconcile(answer, since)`: GET .../realtime read again after an MQTT reconnect or the browser
//   coming back online catches up a `delivery` message missed meanwhile (mode, cadence, seq), unless a
//   `delivery` message arrived after that read was sent (`since` = `version` then), which is newer.

export const DEFAULT_POLL_INTERVAL_MS = 1000
export const MIN_POLL_INTERVAL_MS = 250          // a bad value from the server cannot make it spin
export const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000]
export const PAGE_LIMIT = 25                     // the server's page limit: a full answer means "behind"
// The server's containers cache a room's delivery settings this long (interaction.repository's
// settings cache): after a switch to push one may still write feed pages for that long.
export const SETTINGS_CACHE_MS = 5000
// The last drain read after a switch to push: the cache window, plus a batch slot, a trailing flush
// and the page write (well under a second), plus the edge's 1 s cache of the answer.
export const DRAIN_AFTER_MS = SETTINGS_CACHE_MS + 2000

function interval(value, fallback) {
  const n = Number(value)
  return Number.isFinite(n) && n > 0 ? Math.max(MIN_POLL_INTERVAL_MS, Math.round(n)) : fallback
}

// The mode and cadence from a realtime answer (`delivery` a string, or an object with `mode`) or from
// a `delivery` control message ({type, mode, feed, poll_interval_ms}).
export function deliveryOf(message) {
  if (!message) return { mode: 'push', pollIntervalMs: null }
  const d = message.delivery
  const nested = d && typeof d === 'object' ? d : null
  const mode = (nested ? nested.mode : (typeof d === 'string' ? d : message.mode)) === 'poll' ? 'poll' : 'push'
  const raw = nested?.poll_interval_ms ?? message.poll_interval_ms
  return { mode, pollIntervalMs: raw == null ? null : interval(raw, DEFAULT_POLL_INTERVAL_MS) }
}

export function backoffMs(failures) {
  return BACKOFF_MS[Math.min(Math.max(failures, 1), BACKOFF_MS.length) - 1]
}

export class FeedFollower {
  // fetchPage(seq) -> Promise of the feed answer; onPage(page) per new page ({seq, at, items, dropped});
  // onAnswer(body) per answer (the like total); onStatus('polling' | 'retrying' | 'stopped', detail).
  constructor({ fetchPage, onPage, onAnswer, onStatus, timers }) {
    this.fetchPage = fetchPage
    this.onPage = onPage
    this.onAnswer = onAnswer || (() => {})
    this.onStatus = onStatus || (() => {})
    this.timers = timers || { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t) }
    this.seq = 0
    this.mode = 'push'
    this.intervalMs = DEFAULT_POLL_INTERVAL_MS
    this.failures = 0
    this.missed = 0
    this.requests = 0
    this.timer = null
    this.inflight = false
    this.stopped = false
    this.version = 0          // one more for every mode set (a message, a realtime answer)
    this.drain = null         // after a switch to push: { now, due, last, timer }
  }

  get polling() { return this.mode === 'poll' && !this.stopped }
  get draining() { return this.drain != null && !this.stopped }
  get _active() { return this.polling || this.draining }

  // Where to start (the realtime answer's feed_seq): only forward, and not while polling or draining
  // (the follower's own seq is then the truth: moving it would skip pages).
  startAt(seq) {
    const n = Number(seq)
    if (!this._active && Number.isFinite(n) && n > this.seq) this.seq = Math.floor(n)
  }

  // GET .../realtime read again (after an MQTT reconnect, the browser back online): follow its mode,
  // cadence and seq as on joining, unless the mode was set since the read was sent (`since`: `version`
  // then; a `delivery` message that arrived meanwhile is newer than the answer). True when followed.
  reconcile(answer, since = null) {
    if (this.stopped || !answer) return false
    if (since != null && since !== this.version) return false
    this.startAt(answer.feed_seq)
    this.follow(answer)
    return true
  }

  // A realtime answer or a `delivery` message: follow its mode (and cadence).
  follow(message) {
    const { mode, pollIntervalMs } = deliveryOf(message)
    this.setMode(mode, pollIntervalMs)
  }

  setMode(mode, pollIntervalMs = null) {
    if (this.stopped) return
    this.version += 1
    if (pollIntervalMs != null) this.intervalMs = interval(pollIntervalMs, this.intervalMs)
    const was = this.mode
    this.mode = mode === 'poll' ? 'poll' : 'push'
    if (this.mode === 'push') {
      if (was === 'poll') this._startDrain()
      return
    }
    if (was !== 'poll') {
      this._endDrain()
      this.failures = 0
      this.onStatus('polling', { seq: this.seq })
      if (!this.inflight) this._schedule(0)
    }
    // already polling: only the cadence changed, the next request keeps its turn
  }

  // The browser is back online (or the page wants news now): ask at once instead of waiting out a backoff.
  nudge() {
    if (this._active && !this.inflight) this._schedule(0)
  }

  stop() {
    if (this.stopped) return
    this.stopped = true
    this._clear()
    this._endDrain()
    this.onStatus('stopped', { reason: 'stop' })
  }

  // Back to push: no more regular requests, but the feed is read once at once (pages written up to
  // the switch that the last poll did not have yet) and once after DRAIN_AFTER_MS (pages a container
  // with the old mode cached wrote after it). A full answer asks again at once; errors back off.
  _startDrain() {
    this._endDrain()
    const drain = { now: true, due: false, last: false, timer: null }
    drain.timer = this.timers.setTimeout(() => {
      drain.timer = null
      drain.due = true
      if (this.drain === drain && !this.inflight && this.timer == null) this._schedule(0)
    }, DRAIN_AFTER_MS)
    this.drain = drain
    this.onStatus('draining', { seq: this.seq })
    if (!this.inflight) this._schedule(0)
    else this._clear()
  }

  _endDrain() {
    if (this.drain?.timer != null) this.timers.clearTimeout(this.drain.timer)
    this.drain = null
  }

  _clear() {
    if (this.timer != null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }

  _schedule(ms) {
    this._clear()
    this.timer = this.timers.setTimeout(() => { this.timer = null; this._tick() }, ms)
  }

  async _tick() {
    if (!this._active || this.inflight) return
    this.inflight = true
    this.requests += 1
    const drain = this.polling ? null : this.drain
    if (drain) { drain.now = false; if (drain.due) drain.last = true }
    let body
    try {
      body = await this.fetchPage(this.seq)
    } catch (err) {
      this.inflight = false
      if (!this._active) return
      this.failures += 1
      const wait = backoffMs(this.failures)
      this.onStatus('retrying', { wait, attempt: this.failures, error: err })
      if (this.timer == null) this._schedule(wait)
      return
    }
    this.inflight = false
    if (this.stopped) return
    const full = this._accept(body)
    if (this.draining) {
      this.failures = 0
      const d = this.drain
      if (this.timer != null) return
      if (full || d.now || (d.due && !d.last)) this._schedule(0)   // behind; sent before the switch; the last read
      else if (d.last) { this._endDrain(); this.onStatus('stopped', { reason: 'push' }) }
      return                                                        // else the drain timer asks the last time
    }
    if (!this.polling) return
    if (this.failures) this.onStatus('polling', { seq: this.seq })
    this.failures = 0
    if (this.timer == null) this._schedule(full ? 0 : this.intervalMs)
  }

  // Hands over the pages after the follower's seq, once each, in order; true when the answer was full.
  _accept(body) {
    const pages = Array.isArray(body?.pages) ? [...body.pages].sort((a, b) => a.seq - b.seq) : []
    for (const page of pages) {
      if (!(page.seq > this.seq)) continue
      this.seq = page.seq
      this.onPage(page)
    }
    const next = Number(body?.next_seq)
    if (Number.isFinite(next) && next > this.seq) this.seq = next
    this.missed += Math.max(0, Number(body?.missed) || 0)
    if (body?.poll_interval_ms != null) this.intervalMs = interval(body.poll_interval_ms, this.intervalMs)
    this.onAnswer(body || {})
    return pages.length >= PAGE_LIMIT
  }
}
