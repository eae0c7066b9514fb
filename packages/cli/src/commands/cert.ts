import { readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { Command } from 'commander'
import { parseSpiffeId, subjectAltNames } from '@meshguard/pki'
import { relativeTime } from '../jwt-describe.js'
import { action } from '../runtime.js'

/** `meshguard cert inspect FILE`: identity, validity in words, chain check. */
export function certCommand(): Command {
  const cert = new Command('cert').description('workload certificates')
  cert
    .command('inspect')
    .description('show a certificate chain: identity, validity in words, and whether it chains to a trust bundle')
    .argument('<file>', 'PEM file: the leaf first, then its intermediates')
    .option('--bundle <file>', 'trust bundle (PEM) to check the chain against')
    .action(
      action(async (file: string, options: { bundle?: string }) => {
        const chain = splitPem(readFileSync(file, 'utf8')).map((pem) => new X509Certificate(pem))
        if (chain.length === 0) throw new Error(`${file} holds no PEM certificate`)
        const roots = options.bundle === undefined ? [] : splitPem(readFileSync(options.bundle, 'utf8')).map((pem) => new X509Certificate(pem))
        console.log(describeChain(chain, roots, Date.now()).join('\n'))
        await Promise.resolve()
      }),
    )
  return cert
}

/** Each PEM certificate block in `text`. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
}

/** The lines `cert inspect` prints for a chain (leaf first) checked against `roots` at `now` (ms). */
export function describeChain(chain: readonly X509Certificate[], roots: readonly X509Certificate[], now: number): string[] {
  const [leaf] = chain
  if (leaf === undefined) return ['no certificate']
  const { uris, dnsNames: dns } = subjectAltNames(leaf)
  const identity = uris.length === 1 ? parseSpiffeId(uris[0]!) : `${uris.length} URI SANs (a workload certificate has exactly one)`
  const notBefore = Date.parse(leaf.validFrom)
  const notAfter = Date.parse(leaf.validTo)
  const validity =
    now < notBefore ? `not valid yet: from ${leaf.validFrom} (${relativeTime(notBefore, now)})`
    : now > notAfter ? `expired ${relativeTime(notAfter, now)} (${leaf.validTo})`
    : `valid, expires ${relativeTime(notAfter, now)} (${leaf.validTo})`
  const lines = [
    `identity:   ${typeof identity === 'string' ? `none: ${identity}` : identity.uri}`,
    ...(dns.length > 0 ? [`dns:        ${dns.join(', ')}`] : []),
    `serial:     ${leaf.serialNumber.toLowerCase()}`,
    `issuer:     ${leaf.issuer.replace(/\n/g, ', ')}`,
    `validity:   ${validity}`,
    `kind:       ${leaf.ca ? 'CA certificate' : 'leaf'}`,
  ]
  if (roots.length > 0) lines.push(`chain:      ${checkChain(chain, roots, now)}`)
  return lines
}

function checkChain(chain: readonly X509Certificate[], roots: readonly X509Certificate[], now: number): string {
  for (let i = 0; i < chain.length; i += 1) {
    const certificate = chain[i]!
    if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) return `broken: ${i === 0 ? 'the leaf' : `certificate ${i + 1}`} is outside its validity`
    const root = roots.find((candidate) => certificate.checkIssued(candidate) && certificate.verify(candidate.publicKey))
    if (root) return `ok: ${i === 0 ? 'the leaf' : `through ${i} intermediate${i > 1 ? 's' : ''}`} to ${root.subject.replace(/\n/g, ', ')}`
    const issuer = chain[i + 1]
    if (issuer === undefined || !issuer.ca || !certificate.checkIssued(issuer) || !certificate.verify(issuer.publicKey)) {
      return `broken: ${i === 0 ? 'the leaf' : `certificate ${i + 1}`} is not signed by the next certificate or a root of the bundle`
    }
  }
  return 'broken: no root of the bundle signs the chain'
}
