import { createLocalJWKSet, decodeJwt, errors, jwtVerify } from 'jose'
import { epochSeconds } from '../clock.js'
import { InvalidClient, InvalidRequest } from '../errors.js'
import type { ClientAuthMethod } from './context.js'

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA']

/**
 * RFC 7523 §2.2 and §3: a JWT signed with a key the client registered. `iss` and `sub` are the
 * client, `aud` is this server's issuer (or the endpoint called), `exp` is near and each `jti`
 * is accepted once.
 */
export const privateKeyJwt: ClientAuthMethod = {
  name: 'private_key_jwt',
  present: ({ params }) => params.has('client_assertion') || params.has('client_assertion_type'),
  async authenticate({ params, endpointUrl }, { directory, store, clock, issuer, config }) {
    if (params.require('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE) {
      throw new InvalidClient(`client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`)
    }
    const assertion = params.require('client_assertion')
    let clientId: unknown
    try {
      clientId = decodeJwt(assertion).sub
    } catch {
      throw new InvalidClient('client_assertion is not a JWT')
    }
    if (typeof clientId !== 'string') throw new InvalidClient('client_assertion has no sub')
    const bodyId = params.get('client_id')
    if (bodyId !== undefined && bodyId !== clientId) {
      throw new InvalidRequest('client_id in the body does not match the authenticated client')
    }
    const client = await directory.getClient(clientId)
    if (!client?.jwks) throw new InvalidClient('client authentication failed')

    const leeway = config.tokens.clockToleranceSec
    let payload
    try {
      ;({ payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: client.jwks }), {
        algorithms: ASSERTION_ALGORITHMS,
        issuer: clientId,
        subject: clientId,
        audience: [issuer, endpointUrl],
        requiredClaims: ['exp', 'jti'],
        clockTolerance: leeway,
        currentDate: new Date(clock.now()),
      }))
    } catch (err) {
      throw new InvalidClient(describeAssertionError(err))
    }
    const now = epochSeconds(clock)
    const exp = payload.exp!
    if (exp - now > config.clientAssertion.maxLifetimeSec + leeway) {
      throw new InvalidClient(`client_assertion must expire within ${config.clientAssertion.maxLifetimeSec} seconds`)
    }
    if (typeof payload.jti !== 'string' || payload.jti === '') throw new InvalidClient('client_assertion jti must be a string')
    if (!(await store.consumeAssertionJti(clientId, payload.jti, exp + leeway))) {
      throw new InvalidClient('client_assertion jti has already been used')
    }
    return { client }
  },
}

function describeAssertionError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'client_assertion has expired'
  if (err instanceof errors.JWTClaimValidationFailed) return `client_assertion ${err.claim} is invalid: ${err.reason}`
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'client_assertion signature is invalid'
  if (err instanceof errors.JWKSNoMatchingKey) return 'client_assertion is not signed by a registered key'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'client_assertion alg is not allowed'
  return 'client_assertion is invalid'
}
