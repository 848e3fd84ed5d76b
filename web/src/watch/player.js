// The live player: hls.js on a private IVS channel (the playback token as `?token=`, fetched again
// before it expires), reconnecting with capped exponential backoff after a network drop or a stream
// interruption. The token is only checked when playback starts (IVS checks the multivariant playlist
// only), so a refreshed token matters for the next (re)start.
import Hls from 'hls.js'

export const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000]
export function backoff(attempt) {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]
}

export class LivePlayer {
  /** fetchPlayback(): resolves {playback_url, token, expires_at}; on(event, detail) reports state. */
  constructor(video, fetchPlayback, on) {
    this.video = video
    this.fetchPlayback = fetchPlayback
    this.on = on
    this.hls = null
    this.pass = null
    this.attempt = 0
    this.retryTimer = null
    this.refreshTimer = null
    this.stopped = false
    this.firstFrame = false
  }

  async start() {
    this.stopped = false
    clearTimeout(this.retryTimer)
    try {
      if (!this.pass || Date.parse(this.pass.expires_at) - Date.now() < 30_000) await this.refresh()
    } catch (err) {
      this.on('error', err)
      return this.retry()
    }
    this.load()
  }

  async refresh() {
    clearTimeout(this.refreshTimer)
    this.pass = await this.fetchPlayback()
    const ms = Math.max(5_000, Date.parse(this.pass.expires_at) - Date.now() - 60_000)
    // keep a fresh pass for the next (re)start: a minute before this one expires
    this.refreshTimer = setTimeout(() => this.refresh().catch((err) => this.on('error', err)), ms)
    return this.pass
  }

  load() {
    this.destroyHls()
    // the API's playback_url may already carry a token (its own copy): exactly one, this pass's, is sent
    const url = new URL(this.pass.playback_url, window.location.href)
    url.searchParams.set('token', this.pass.token)
    const src = url.toString()
    const video = this.video
    video.muted = true   // autoplay policy: muted playback may start without a gesture
    const onFrame = () => {
      if (!this.firstFrame) {
        this.firstFrame = true
        this.on('first-frame', performance.now())
      }
      this.attempt = 0
      this.on('playing')
    }
    video.onplaying = onFrame
    if (Hls.isSupported()) {
      const hls = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 2, manifestLoadingMaxRetry: 0,
        levelLoadingMaxRetry: 2, fragLoadingMaxRetry: 2 })
      this.hls = hls
      hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}))
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return
        const status = data.response?.code
        this.on('stalled', { status, type: data.type, details: data.details })
        if (status === 403) this.pass = null           // the pass expired or was refused: fetch a new one
        this.retry()
      })
      hls.loadSource(src)
      hls.attachMedia(video)
    } else {
      video.src = src                                   // Safari / WeChat's web-view: native HLS
      video.onerror = () => { this.on('stalled', {}); this.retry() }
      video.play().catch(() => {})
    }
  }

  retry() {
    if (this.stopped) return
    clearTimeout(this.retryTimer)
    const wait = backoff(this.attempt)
    this.attempt += 1
    this.on('retry', { attempt: this.attempt, wait })
    this.retryTimer = setTimeout(() => this.start(), wait)
  }

  /** Start again now (the stream resumed, the network came back). */
  restartNow() {
    this.attempt = 0
    this.start()
  }

  destroyHls() {
    if (this.hls) { this.hls.destroy(); this.hls = null }
  }

  stop() {
    this.stopped = true
    clearTimeout(this.retryTimer)
    clearTimeout(this.refreshTimer)
    this.destroyHls()
  }
}
