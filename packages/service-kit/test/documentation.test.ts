import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pkiErrorCodes } from '@meshguard/pki'
import { grpcStatusNameOf, httpRefusal, outboundErrorCodes, VerificationError, verificationErrorCodes } from '../src/index.js'
import { peerRefusalCodes } from '../src/tls/index.js'

const catalogue = readFileSync(resolve(import.meta.dirname, '../../../docs/errors.md'), 'utf8')

describe('the service kit in the error catalogue (docs/errors.md)', () => {
  it('documents every refusal code once, with the HTTP status, OAuth error and gRPC status it maps to', () => {
    expect(new Set(verificationErrorCodes).size).toBe(verificationErrorCodes.length)
    for (const code of verificationErrorCodes) {
      const { status, body } = httpRefusal(new VerificationError(code, 'x'))
      const row = `| \`${code}\` | ${status} | \`${body.error}\` | \`${grpcStatusNameOf(code)}\` |`
      expect(catalogue.split(row).length - 1, row).toBe(1)
    }
  })

  it.each([
    ['outbound', outboundErrorCodes],
    ['mutual TLS', peerRefusalCodes],
    ['PKI', pkiErrorCodes],
  ] as const)('documents every %s error code once', (_name, codes) => {
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of codes) expect(catalogue.split(`| \`${code}\` |`).length - 1, code).toBe(1)
  })
})
