// The room's MQTT-over-WSS channel: GET /v1/rooms/{id}/realtime gives the endpoint, client id,
// credentials and the topics; MQTT.js connects (and reconnects) and hands each message over as
// (kind, payload): 'danmaku', 'events', 'private' or 'state/<kind>' (payload null: that state ended).
import mqtt from 'mqtt'

export function connectRealtime(info, onMessage, onStatus) {
  const client = mqtt.connect(info.endpoint, {
    clientId: info.client_id,
    username: info.credentials.username,
    password: info.credentials.password,
    keepalive: info.keepalive_seconds || 60,
    reconnectPeriod: 2000,
    protocolVersion: 4,
    clean: true,
  })
  const topics = info.topics || {}
  const kinds = Object.entries(topics).map(([kind, topic]) => [kind, typeof topic === 'string' ? topic : topic.topic])
  client.on('connect', () => {
    onStatus?.('connected')
    const subscriptions = {}
    for (const entry of info.subscribe || []) {
      const topic = typeof entry === 'string' ? entry : entry.topic
      subscriptions[topic] = { qos: typeof entry === 'string' ? 0 : (entry.qos ?? 0) }
    }
    // 'subscribed' (after the SUBACK, on every connect): from now on no message is missed, so the
    // page reads GET .../realtime again to learn what changed before (a `delivery` switch).
    client.subscribe(subscriptions, (err) => { if (!err) onStatus?.('subscribed') })
  })
  client.on('reconnect', () => onStatus?.('reconnecting'))
  client.on('offline', () => onStatus?.('offline'))
  client.on('error', (err) => onStatus?.('error', err))
  client.on('message', (topic, payload) => {
    let kind = kinds.find(([, t]) => t === topic)?.[0]
    const stateAt = topic.indexOf('/state/')
    if (stateAt >= 0) kind = `state/${topic.slice(stateAt + 7)}`
    else if (!kind && /\/users\//.test(topic)) kind = 'private'
    else if (!kind) kind = topic.split('/').pop()
    let data = null
    if (payload && payload.length) {
      try { data = JSON.parse(new TextDecoder().decode(payload)) } catch { return }
    }
    onMessage(kind, data)
  })
  return client
}
