// The viewer page's poll-mode delivery (web/src/watch/feed.js), with fake timers and a fake feed,
// under Node's own test runner (run by tests/unit/web/test_feed_follower_js.py, so `make test` runs it).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FeedFollower, deliveryOf, backoffMs, PAGE_LIMIT, DRAIN_AFTER_MS, SETTINGS_CACHE_MS } from '../../../web/src/watch/feed.js'

// Timers the test advances by hand: the follower schedules, the test fires what is due.
function fakeTimers() {
  let now = 0
  let nextId = 1
  const due = new Map()
  return {
    setTimeout(fn, ms) { const id = nextId++; due.set(id, { at: now + ms, fn }); return id },
    clearTimeout(id) { due.delete(id) },
    pending() { return [...due.values()].map((d) => d.at - now) },
    async advance(ms) {
      const until = now + ms
      for (;;) {
        const next = [...due.entries()].filter(([, d]) => d.at <= until).sort((a, b) => a[1].at - b[1].at)[0]
        if (!next) break
        due.delete(next[0])
        now = next[1].at
        next[1].fn()
        await settle()
      }
      now = until
      await settle()
    },
  }
}
async function settle() { for (let i = 0; i < 5; i++) await Promise.resolve() }

// A room's feed as the server keeps it: pages 1..n; answers the pages after seq (at most 25).
function fakeRoom() {
  const room = { pages: [], likes: 0, interval: 1000, fail: 0, asked: [], hold: null }
  room.add = (text) => { const seq = room.pages.length + 1; room.pages.push({ seq, at: seq, items: [{ id: `m${seq}`, text }], dropped: seq % 3 }); return seq }
  room.fetch = async (seq) => {
    room.asked.push(seq)
    if (room.hold) await room.hold
    if (room.fail > 0) { room.fail -= 1; throw new Error('network down') }
    const pages = room.pages.filter((p) => p.seq > seq).slice(0, PAGE_LIMIT)
    return { delivery: 'poll', pages, next_seq: pages.length ? pages[pages.length - 1].seq : seq, missed: 0,
      likes_total: room.likes, poll_interval_ms: room.interval }
  }
  return room
}

function follower(room, timers) {
  const shown = []
  const likes = []
  const statuses = []
  const f = new FeedFollower({ fetchPage: room.fetch, onPage: (p) => shown.push(p.seq),
    onAnswer: (b) => likes.push(b.likes_total), onStatus: (s) => statuses.push(s), timers })
  return { f, shown, likes, statuses }
}

test('deliveryOf reads the realtime answer and the control message', () => {
  assert.deepEqual(deliveryOf({ delivery: 'poll', poll_interval_ms: 2000 }), { mode: 'poll', pollIntervalMs: 2000 })
  assert.deepEqual(deliveryOf({ delivery: 'push' }), { mode: 'push', pollIntervalMs: null })
  assert.deepEqual(deliveryOf({ type: 'delivery', mode: 'poll', feed: '/v1/rooms/R/feed', poll_interval_ms: 1000 }),
    { mode: 'poll', pollIntervalMs: 1000 })
  assert.deepEqual(deliveryOf({ delivery: { mode: 'poll', poll_interval_ms: 1500 } }), { mode: 'poll', pollIntervalMs: 1500 })
  assert.equal(deliveryOf({ delivery: 'carrier-pigeon' }).mode, 'push')
  assert.equal(deliveryOf({ mode: 'poll', poll_interval_ms: 1 }).pollIntervalMs, 250)        // never spins
  assert.equal(deliveryOf({ mode: 'poll', poll_interval_ms: 'x' }).pollIntervalMs, 1000)
})

test('push asks nothing; poll starts at the seq the viewer joined at and shows each page once, in order', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  room.add('old-1'); room.add('old-2')                // pages from before the viewer joined
  const { f, shown } = follower(room, timers)
  f.startAt(2)
  f.follow({ delivery: 'push' })
  await timers.advance(10_000)
  assert.deepEqual(room.asked, [])                     // push: no feed request at all
  room.add('a')
  f.follow({ type: 'delivery', mode: 'poll', poll_interval_ms: 1000 })
  await timers.advance(0)
  assert.deepEqual(room.asked, [2])                    // at once, from the joined seq
  assert.deepEqual(shown, [3])
  room.add('b'); room.add('c')
  await timers.advance(999)
  assert.equal(room.asked.length, 1)                   // the interval is kept
  await timers.advance(1)
  assert.deepEqual(room.asked, [2, 3])
  assert.deepEqual(shown, [3, 4, 5])
  f.follow({ type: 'delivery', mode: 'poll', poll_interval_ms: 1000 })   // a repeated message restarts nothing
  await timers.advance(0)
  assert.deepEqual(room.asked, [2, 3])
})

test('back to push stops polling; an answer in flight is shown, then only the drain reads', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f, shown } = follower(room, timers)
  f.follow({ delivery: 'poll' })
  room.add('a')
  let release
  room.hold = new Promise((r) => { release = r })
  await timers.advance(0)                              // request 1 in flight
  f.follow({ type: 'delivery', mode: 'push' })
  room.hold = null
  release()
  await settle()
  assert.deepEqual(shown, [1])                          // its page still shown
  await timers.advance(60_000)
  // it was sent before the switch, so one read after it (at once) and the last one after the window
  assert.deepEqual(room.asked, [0, 1, 1])
  assert.deepEqual(timers.pending(), [])               // then nothing at all
  assert.equal(f.draining, false)
  room.add('b')
  f.follow({ type: 'delivery', mode: 'poll' })         // poll again: from where it was, no page twice
  await timers.advance(0)
  assert.deepEqual(room.asked, [0, 1, 1, 1])
  assert.deepEqual(shown, [1, 2])
})

test('back to push drains the feed: the pages up to the switch at once, a stale container\'s after the cache window', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f, shown, statuses } = follower(room, timers)
  f.follow({ delivery: 'poll', poll_interval_ms: 1000 })
  room.add('a')
  await timers.advance(0)                              // page 1 read
  room.add('b')                                        // written after that read, before the switch
  f.follow({ type: 'delivery', mode: 'push' })
  assert.equal(statuses.at(-1), 'draining')
  await timers.advance(0)
  assert.deepEqual(shown, [1, 2])                      // at once, not a poll interval later
  assert.deepEqual(room.asked, [0, 1])
  // a container whose settings cache still says poll writes pages for up to SETTINGS_CACHE_MS
  await timers.advance(3000); room.add('stale-1')
  await timers.advance(1900); room.add('stale-2')
  assert.deepEqual(room.asked, [0, 1])                 // no polling meanwhile: the page is in push
  await timers.advance(DRAIN_AFTER_MS - 4900)
  assert.ok(DRAIN_AFTER_MS > SETTINGS_CACHE_MS)
  assert.deepEqual(room.asked, [0, 1, 2])              // one last read, after the window
  assert.deepEqual(shown, [1, 2, 3, 4])                // the stale container's pages are shown, once each
  assert.equal(statuses.at(-1), 'stopped')
  room.add('too-late')
  await timers.advance(120_000)
  assert.deepEqual(room.asked, [0, 1, 2])              // and then nothing more, ever
  assert.deepEqual(timers.pending(), [])
})

test('a drain catches up a full answer at once, backs off on errors, and poll again during it runs one loop', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f, shown } = follower(room, timers)
  f.follow({ delivery: 'poll' })
  await timers.advance(0)
  for (let i = 0; i < 30; i++) room.add(`m${i}`)
  room.fail = 1
  f.follow({ mode: 'push' })
  await timers.advance(0)                              // the drain's first read fails...
  assert.deepEqual(timers.pending().sort((a, b) => a - b), [1000, DRAIN_AFTER_MS])
  await timers.advance(1000)                           // ...and is asked again from the same seq, behind: twice
  assert.deepEqual(room.asked, [0, 0, 0, 25])
  assert.equal(shown.length, 30)
  f.follow({ mode: 'poll' })                           // poll again before the drain's last read
  assert.equal(f.draining, false)
  await timers.advance(0)
  assert.deepEqual(timers.pending(), [1000])           // one loop, no drain timer left
  await timers.advance(3000)
  assert.equal(room.asked.length, 4 + 4)
  f.stop()
  assert.deepEqual(timers.pending(), [])
})

test('reconcile: a delivery message missed while disconnected is caught up from the realtime answer', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  for (let i = 0; i < 5; i++) room.add(`before-${i}`)  // pages written while this page was disconnected
  room.interval = 2000
  const { f, shown } = follower(room, timers)
  f.startAt(2)
  f.follow({ delivery: 'push' })                       // joined in push at seq 2
  // the switch to poll was missed; MQTT reconnects and the page reads GET .../realtime again
  assert.equal(f.reconcile({ delivery: 'poll', poll_interval_ms: 2000, feed_seq: 5 }, f.version), true)
  assert.equal(f.mode, 'poll')
  await timers.advance(0)
  assert.deepEqual(room.asked, [5])                    // from the room's latest page now: nothing old
  assert.deepEqual(timers.pending(), [2000])           // at the answer's cadence
  room.add('new')
  await timers.advance(2000)
  assert.deepEqual(shown, [6])
  // reconnected again while polling: the seq the page has stays (no page twice, none skipped)
  room.add('next')
  room.interval = 1000
  f.reconcile({ delivery: 'poll', poll_interval_ms: 1000, feed_seq: 9 }, f.version)
  await timers.advance(2000)
  assert.deepEqual(room.asked, [5, 5, 6])              // 5 (nothing new), 5 (page 6), then from 6, not 9
  assert.deepEqual(shown, [6, 7])
  // the switch back to push was missed too: the answer says push; the page drains and stops
  room.add('last')
  f.reconcile({ delivery: 'push', feed_seq: 8 }, f.version)
  assert.equal(f.mode, 'push')
  await timers.advance(60_000)
  assert.deepEqual(shown, [6, 7, 8])
  assert.deepEqual(timers.pending(), [])
})

test('reconcile yields to a delivery message that arrived after the realtime read was sent', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f } = follower(room, timers)
  f.follow({ delivery: 'push' })
  const sent = f.version                               // the page sends GET .../realtime
  f.follow({ type: 'delivery', mode: 'poll' })         // the switch arrives before the answer
  assert.equal(f.reconcile({ delivery: 'push', feed_seq: 0 }, sent), false)   // read before the switch
  assert.equal(f.mode, 'poll')
  await timers.advance(0)
  assert.deepEqual(room.asked, [0])
  f.stop()
  assert.equal(f.reconcile({ delivery: 'poll' }), false)
})

test('a switch back and forth while a request is in flight never runs two loops', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f } = follower(room, timers)
  let release
  room.hold = new Promise((r) => { release = r })
  f.follow({ delivery: 'poll' })
  await timers.advance(0)
  f.follow({ mode: 'push' })
  f.follow({ mode: 'poll' })
  room.hold = null
  release()
  await settle()
  assert.deepEqual(timers.pending(), [1000])           // exactly one next request scheduled
  await timers.advance(3000)
  assert.equal(room.asked.length, 4)                   // 0 s, 1 s, 2 s, 3 s: one loop
})

test('the like total comes from every answer and the cadence from the server', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f, likes } = follower(room, timers)
  f.follow({ delivery: 'poll', poll_interval_ms: 1000 })
  room.likes = 5
  await timers.advance(0)
  room.likes = 9
  room.interval = 2000                                  // a big room: every 2 s (the answer says so)
  await timers.advance(1000)
  assert.deepEqual(likes, [5, 9])
  await timers.advance(1999)
  assert.equal(room.asked.length, 2)
  await timers.advance(1)
  assert.equal(room.asked.length, 3)
  f.follow({ type: 'delivery', mode: 'poll', poll_interval_ms: 1000 })   // the message changes it too
  room.interval = 1000
  await timers.advance(2000)
  assert.equal(room.asked.length, 4)
})

test('errors back off 1, 2, 4, 8, 15 s and carry on from the same seq; nudge asks at once', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f, shown, statuses } = follower(room, timers)
  room.add('a')
  f.follow({ delivery: 'poll' })
  room.fail = 6
  await timers.advance(0)
  const waits = []
  for (let i = 0; i < 5; i++) { waits.push(timers.pending()[0]); await timers.advance(timers.pending()[0]) }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 15000])
  assert.deepEqual(timers.pending(), [15000])          // capped
  assert.ok(statuses.includes('retrying'))
  f.nudge()                                            // back online
  await timers.advance(0)
  assert.deepEqual(shown, [1])
  assert.ok(room.asked.every((s) => s === 0))          // every retry asked from the same seq
  assert.deepEqual(timers.pending(), [1000])           // and the normal cadence again
  assert.equal(backoffMs(99), 15000)
})

test('a client behind catches up at once; stop ends it for good', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  for (let i = 0; i < 60; i++) room.add(`m${i}`)
  const { f, shown, statuses } = follower(room, timers)
  f.follow({ delivery: 'poll' })
  await timers.advance(0)
  assert.deepEqual(room.asked, [0, 25, 50])            // two full answers: asked again at once
  assert.deepEqual(shown, Array.from({ length: 60 }, (_, i) => i + 1))
  f.stop()
  assert.equal(statuses.at(-1), 'stopped')
  f.follow({ delivery: 'poll' })
  f.nudge()
  await timers.advance(60_000)
  assert.deepEqual(room.asked, [0, 25, 50])
  assert.deepEqual(timers.pending(), [])
})

test('startAt moves forward only, and never while polling', async () => {
  const timers = fakeTimers()
  const room = fakeRoom()
  const { f } = follower(room, timers)
  f.startAt(7)
  f.startAt(3)
  assert.equal(f.seq, 7)
  f.follow({ delivery: 'poll' })
  f.startAt(40)                                        // a new realtime answer while polling
  assert.equal(f.seq, 7)
})

test('a page at or below the seq it has is never shown again, whatever the answer holds', async () => {
  const timers = fakeTimers()
  const pages = [1, 2, 3].map((seq) => ({ seq, at: seq, items: [{ id: `m${seq}` }], dropped: 0 }))
  const answers = [{ pages: pages.slice(0, 2), next_seq: 2 }, { pages: [pages[2], pages[1], pages[0]], next_seq: 3 }]
  const shown = []
  const f = new FeedFollower({ fetchPage: async () => answers.shift() || { pages: [], next_seq: 3 },
    onPage: (p) => shown.push(p.seq), timers })
  f.follow({ delivery: 'poll' })
  await timers.advance(3000)
  assert.deepEqual(shown, [1, 2, 3])
})
