import { text } from 'node:stream/consumers'
import { ACCESS_TOKEN_TYP } from '@meshguard/auth-server'
import { Command, InvalidArgumentError } from 'commander'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import type { DecodedJwt, JsonObject } from '../jwt-describe.js'
import { MalformedJwtError, decodeJwt, describeDecodedJwt, expiryInWords, isoTime, numericDate } from '../jwt-describe.js'

/** Where the jwt commands write, read and take the time from; each defaults to the process's own. */
export interface JwtCommandIo {
  /** Receives output for the user, whole lines ending in a newline. */
  readonly out: (s: string) => void
  /** Receives error sentences, whole lines ending in a newline. */
  readonly err: (s: string) => void
  /** Reads all of standard input, for TOKEN `-`. */
  readonly readStdin: () => Promise<string>
  /** Current time in milliseconds since the epoch. */
  readonly now: () => number
  /** Records a failing exit status; sets `process.exitCode` by default. */
  readonly setExitCode: (code: number) => void
}

/** Options of `meshguard jwt verify`, as commander parses them. */
export interface VerifyFlags {
  readonly jwks?: URL
  readonly issuer?: string
  readonly audience?: string
}

/** Signature algorithms `verify` accepts; anything else, `none` and HMAC included, is refused. */
export const VERIFY_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const

const HTTP_TIMEOUT_MS = 5_000

const SUMMARY_HELP = `
The summary shows iss, sub, client_id, aud and scope, and iat/nbf/exp as ISO 8601 UTC
times with their distance from now ("expires in 9 minutes", "expired 3 hours ago").

With an RFC 8693 "act" claim the delegation chain is drawn as a numbered list: 1 is the
subject, 2 is the actor presenting the token now (the outer act), and each further line
is an earlier actor (the next nested act). {sub: alice, act: {sub: order-service,
act: {sub: cart-service}}} reads:
  1. alice          subject
  2. order-service  acting now
  3. cart-service   earlier actor
`

const defaultIo: JwtCommandIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  readStdin: () => text(process.stdin),
  now: () => Date.now(),
  setExitCode: (code) => {
    process.exitCode = code
  },
}

/**
 * The `meshguard jwt` command: `decode TOKEN` prints a token's header, claims, summary and
 * delegation chain without checking the signature; `verify TOKEN` also checks the signature
 * against a JWKS and the access-token claims, and exits with 1 when they fail.
 *
 * @param io Replacements for the process's streams, clock and exit status, for tests.
 * @example
 * ```ts
 * program.addCommand(jwtCommand())
 * await jwtCommand({ out, err, now: () => frozen }).parseAsync(['decode', token], { from: 'user' })
 * ```
 */
export function jwtCommand(io: Partial<JwtCommandIo> = {}): Command {
  const env: JwtCommandIo = { ...defaultIo, ...io }
  const jwt = new Command('jwt')
    .description('decode or verify a JWT access token, like jwt.io in the terminal')
    .configureOutput({ writeOut: env.out, writeErr: env.err })

  jwt
    .command('decode')
    .description('print the header, claims and a summary of a JWT; the signature is NOT verified')
    .argument('<token>', 'the JWT, or - to read it from standard input')
    .addHelpText('after', SUMMARY_HELP)
    .action(async (token: string) => {
      const decoded = await readToken(token, env)
      if (decoded === undefined) return
      env.out(describeDecodedJwt(decoded.jwt, env.now()))
      env.out('\nsignature NOT verified (use "meshguard jwt verify" to check it)\n')
    })

  jwt
    .command('verify')
    .description(`decode a JWT, then check its signature (${VERIFY_ALGORITHMS.join(', ')}), typ ${ACCESS_TOKEN_TYP}, exp and nbf`)
    .argument('<token>', 'the JWT, or - to read it from standard input')
    .option('--jwks <url>', 'URL of the JSON Web Key Set holding the signing keys', parseUrl)
    .option('--issuer <url>', 'expected iss; without --jwks, keys come from its /.well-known/oauth-authorization-server jwks_uri', parseIssuer)
    .option('--audience <aud>', 'expected aud')
    .addHelpText('after', SUMMARY_HELP)
    .action(async (token: string, flags: VerifyFlags) => {
      const keysFrom = flags.jwks ?? flags.issuer
      if (keysFrom === undefined) {
        env.err('verify needs --jwks URL, or --issuer URL to find the keys through its metadata.\n')
        env.setExitCode(1)
        return
      }
      const decoded = await readToken(token, env)
      if (decoded === undefined) return
      env.out(`${describeDecodedJwt(decoded.jwt, env.now())}\n`)
      const failure = await verify(decoded, keysFrom, flags, env)
      if (failure === undefined) return
      env.err(`verification failed: ${failure}\n`)
      env.setExitCode(1)
    })

  return jwt
}

async function readToken(argument: string, env: JwtCommandIo): Promise<{ compact: string; jwt: DecodedJwt } | undefined> {
  const compact = (argument === '-' ? await env.readStdin() : argument).trim()
  try {
    return { compact, jwt: decodeJwt(compact) }
  } catch (error) {
    if (!(error instanceof MalformedJwtError)) throw error
    env.err(`${error.message}\n`)
    env.setExitCode(1)
    return undefined
  }
}

function parseUrl(value: string): URL {
  if (!URL.canParse(value)) throw new InvalidArgumentError(`"${value}" is not a URL.`)
  return new URL(value)
}

function parseIssuer(value: string): string {
  parseUrl(value)
  return value
}

/**
 * Resolves to undefined when the token is valid, otherwise to a sentence saying why not. Keys come
 * from `keysFrom`: a JWKS URL, or an issuer whose metadata names one.
 */
async function verify(
  token: { compact: string; jwt: DecodedJwt },
  keysFrom: URL | string,
  { issuer, audience }: VerifyFlags,
  env: JwtCommandIo,
): Promise<string | undefined> {
  let jwksUrl: URL
  try {
    jwksUrl = keysFrom instanceof URL ? keysFrom : await discoverJwksUri(keysFrom)
  } catch (error) {
    return `${describeError(error)}.`
  }
  try {
    const { protectedHeader } = await jwtVerify(token.compact, createRemoteJWKSet(jwksUrl, { timeoutDuration: HTTP_TIMEOUT_MS }), {
      algorithms: [...VERIFY_ALGORITHMS],
      typ: ACCESS_TOKEN_TYP,
      ...(issuer === undefined ? {} : { issuer }),
      ...(audience === undefined ? {} : { audience }),
      currentDate: new Date(env.now()),
    })
    env.out(`signature valid (kid ${protectedHeader.kid ?? '(none)'}, alg ${protectedHeader.alg})\n`)
    const checked = [`typ ${ACCESS_TOKEN_TYP}`, 'exp/nbf']
    const unchecked: string[] = []
    if (issuer === undefined) unchecked.push('iss not checked (no --issuer)')
    else checked.push(`iss ${issuer}`)
    if (audience === undefined) unchecked.push('aud not checked (no --audience)')
    else checked.push(`aud ${audience}`)
    env.out(`claims valid: ${[checked.join(', '), ...unchecked].join('; ')}\n`)
    return undefined
  } catch (error) {
    return explainVerifyFailure(error, { jwksUrl, header: token.jwt.header, now: env.now(), issuer, audience })
  }
}

/** RFC 8414 §3.1: the well-known suffix goes between the host and any path of the issuer. */
export function metadataUrl(issuer: string): URL {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return new URL(`/.well-known/oauth-authorization-server${path}`, url.origin)
}

async function discoverJwksUri(issuer: string): Promise<URL> {
  const url = metadataUrl(issuer)
  let metadata: unknown
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
    metadata = await response.json()
  } catch (error) {
    throw new Error(`could not fetch the authorization server metadata from ${url.href}: ${describeError(error)}`)
  }
  const { issuer: published, jwks_uri: jwksUri } = typeof metadata === 'object' && metadata !== null ? (metadata as JsonObject) : {}
  // RFC 8414 §3.3: the metadata's issuer must be identical to the one it was looked up for.
  if (published !== issuer) throw new Error(`the metadata at ${url.href} is for issuer ${JSON.stringify(published)}, not "${issuer}"`)
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new Error(`the metadata at ${url.href} has no jwks_uri`)
  return new URL(jwksUri)
}

interface FailureContext {
  readonly jwksUrl: URL
  readonly header: JsonObject
  readonly now: number
  readonly issuer: string | undefined
  readonly audience: string | undefined
}

/** Translates a `jwtVerify` rejection into a sentence naming the claim, key or URL at fault. */
function explainVerifyFailure(error: unknown, context: FailureContext): string {
  const { jwksUrl, header } = context
  const alg = typeof header.alg === 'string' ? header.alg : String(header.alg)
  const key = typeof header.kid === 'string' ? `kid "${header.kid}"` : 'no kid'
  if (error instanceof errors.JWTExpired || error instanceof errors.JWTClaimValidationFailed) {
    return `${explainClaim(error, context)}; the signature itself is valid.`
  }
  if (!(error instanceof errors.JOSEError)) return `could not fetch the JWKS from ${jwksUrl.href}: ${describeError(error)}.`
  switch (error.code) {
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return `no matching key: the JWKS at ${jwksUrl.href} has no ${alg} key for ${key}.`
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return `ambiguous key: several keys in the JWKS at ${jwksUrl.href} match ${key} and ${alg}.`
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return `bad signature: the token was not signed by the ${alg} key for ${key} in ${jwksUrl.href}.`
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return `algorithm ${alg} is not accepted; only ${VERIFY_ALGORITHMS.join(', ')} are.`
    case 'ERR_JOSE_NOT_SUPPORTED':
      return `not supported: ${error.message}.`
    case 'ERR_JWKS_TIMEOUT':
      return `${jwksUrl.href} did not answer within ${HTTP_TIMEOUT_MS / 1000} seconds.`
    case 'ERR_JWKS_INVALID':
    case 'ERR_JWK_INVALID':
      return `the document at ${jwksUrl.href} is not a valid JWKS (${error.message}).`
    case 'ERR_JOSE_GENERIC':
      return `could not fetch the JWKS from ${jwksUrl.href}: ${error.message}.`
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JWE_INVALID':
    case 'ERR_JWE_DECRYPTION_FAILED':
      return `malformed token: ${error.message}.`
    case 'ERR_JWT_EXPIRED':
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
    default:
      return error.message
  }
}

function explainClaim(error: errors.JWTExpired | errors.JWTClaimValidationFailed, context: FailureContext): string {
  const { payload, claim, reason } = error
  const claims = payload as JsonObject
  const found = reason === 'missing' ? `has no ${claim} claim` : `says ${JSON.stringify(claims[claim])}`
  const expires = numericDate(claims, 'exp')
  if (reason === 'invalid') return `malformed ${claim} claim: ${error.message}`
  switch (claim) {
    case 'exp':
      return `token ${expiryInWords(claims, context.now)}${expires === undefined ? '' : ` (exp ${isoTime(expires)})`}`
    case 'nbf':
      return `token ${expiryInWords(claims, context.now)}`
    case 'typ':
      return `token type is ${JSON.stringify(context.header.typ)}, expected "${ACCESS_TOKEN_TYP}" (an RFC 9068 access token)`
    case 'iss':
      return `wrong issuer: the token ${found}, expected "${context.issuer ?? ''}"`
    case 'aud':
      return `wrong audience: the token ${found}, expected "${context.audience ?? ''}"`
    default:
      return `claim ${claim} rejected: ${error.message}`
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
  return `${error.message.replace(/\.$/, '')}${cause}`
}
