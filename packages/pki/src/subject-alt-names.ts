import type { X509Certificate } from 'node:crypto'

/** The URI and DNS names of a certificate's subjectAltName extension. */
export interface SubjectAltNames {
  uris: string[]
  dnsNames: string[]
}

/**
 * Reads the names from node:crypto's rendering of the extension: entries joined by `", "`, each
 * `type:value`, with any value holding a comma, quote or other special character written as a
 * JSON string (so a crafted name cannot pose as a second entry).
 */
export function subjectAltNames(certificate: X509Certificate): SubjectAltNames {
  const names: SubjectAltNames = { uris: [], dnsNames: [] }
  const rendered = certificate.subjectAltName
  if (rendered === undefined || rendered === '') return names
  for (const entry of rendered.split(', ')) {
    const colon = entry.indexOf(':')
    const type = entry.slice(0, colon)
    const raw = entry.slice(colon + 1)
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw
    if (type === 'URI') names.uris.push(value)
    else if (type === 'DNS') names.dnsNames.push(value)
  }
  return names
}
