// Plain words for what went wrong: the API's stable problem codes mapped to i18n keys
// (errors.<code>), with the server's own detail as the fallback.
export function explain(t, te, err) {
  const code = err?.code || 'unknown'
  if (te(`errors.${code}`)) return t(`errors.${code}`)
  const detail = err?.problem?.detail || err?.message
  return detail ? `${t('errors.generic')}: ${detail}` : t('errors.generic')
}
