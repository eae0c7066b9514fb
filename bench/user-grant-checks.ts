import { decodeProtectedHeader } from 'jose'
import type { ServerProcess } from './server-process.js'
import { codeRedemptionBody, pkcePair, refreshBody, type MintedCodes, type MintCodes, type UserGrantTarget } from './user-grant-target.js'

/** What one server answered to the checks run before any load. */
export interface UserGrantChecks {
  /** The tokens of a code redemption, e.g. `access JWT ES256 at+jwt, ID JWT ES256, refresh`. */
  redemption: string
  /** The tokens of a refresh, and whether the refresh token was replaced. */
  rotation: string
  /** The answer to a code redeemed a second time. */
  codeReused: string
  /** The answer to a code sent with a verifier that is not its challenge's (RFC 7636 §4.6). */
  wrongVerifier: string
  /** The answer to a refresh token presented again after it was rotated. */
  refreshReused: string
  problems: string[]
}

/**
 * Redeems a code, redeems it again, sends one with the wrong PKCE verifier, refreshes, and presents the rotated-out refresh token again,
 * one request at a time: both servers must issue an access, an ID and a refresh token per
 * redemption and per refresh, replace the refresh token on every use, and refuse either
 * credential the second time with `400 invalid_grant`.
 *
 * @example
 * const checks = await checkUserGrants('meshguard', server)
 */
export async function checkUserGrants(name: string, server: ServerProcess<UserGrantTarget>): Promise<UserGrantChecks> {
  const { target } = server
  const problems: string[] = []
  const { codes } = await server.ask<MintedCodes>({ mint: 'codes', count: 3 } satisfies MintCodes)
  const [once, twice] = [codeRedemptionBody(codes[0]!, target.codeVerifier), codeRedemptionBody(codes[1]!, target.codeVerifier)]
  const redeemed = await postForm(target, once)
  if (redeemed.status !== 200) problems.push(`${name} answered a code redemption with ${describeError(redeemed)}`)
  const redemption = describeTokens(redeemed.json)
  if (!hasAllTokens(redeemed.json)) problems.push(`${name} did not issue an access, an ID and a refresh token for a code: ${redemption}`)

  // A second code, so that its reuse revoking the grant leaves the first one's refresh token alone.
  await postForm(target, twice)
  const codeAgain = await postForm(target, twice)
  const codeReused = describeError(codeAgain)
  if (codeAgain.status !== 400 || codeAgain.json.error !== 'invalid_grant') problems.push(`${name} answered a reused code with ${codeReused}`)

  const otherVerifier = await postForm(target, codeRedemptionBody(codes[2]!, pkcePair().verifier))
  const wrongVerifier = describeError(otherVerifier)
  if (otherVerifier.status !== 400 || otherVerifier.json.error !== 'invalid_grant') problems.push(`${name} answered a code with the wrong code_verifier with ${wrongVerifier}`)

  const first = redeemed.json.refresh_token
  let rotation = 'not tried: no refresh token'
  let refreshReused = 'not tried: no refresh token'
  if (typeof first === 'string') {
    const refreshed = await postForm(target, refreshBody(first))
    if (refreshed.status !== 200) problems.push(`${name} answered a refresh with ${describeError(refreshed)}`)
    const rotated = typeof refreshed.json.refresh_token === 'string' && refreshed.json.refresh_token !== first
    rotation = `${describeTokens(refreshed.json)}${rotated ? ' (new)' : ' (not rotated)'}`
    if (!hasAllTokens(refreshed.json) || !rotated) problems.push(`${name} did not issue an access, an ID and a new refresh token for a refresh: ${rotation}`)
    const refreshAgain = await postForm(target, refreshBody(first))
    refreshReused = describeError(refreshAgain)
    if (refreshAgain.status !== 400 || refreshAgain.json.error !== 'invalid_grant') problems.push(`${name} answered a rotated-out refresh token with ${refreshReused}`)
  }
  return { redemption, rotation, codeReused, wrongVerifier, refreshReused, problems }
}

/** Whether a token response carries the three tokens both servers are set up to issue. */
export function hasAllTokens(json: Record<string, unknown>): boolean {
  return typeof json.access_token === 'string' && typeof json.id_token === 'string' && typeof json.refresh_token === 'string'
}

async function postForm(target: UserGrantTarget, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(target.tokenUrl, {
    method: 'POST',
    headers: { authorization: target.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

function describeTokens(json: Record<string, unknown>): string {
  const parts = [`access ${describeJwt(json.access_token)}`, `ID ${describeJwt(json.id_token)}`]
  parts.push(typeof json.refresh_token === 'string' ? 'refresh' : 'no refresh')
  return parts.join(', ')
}

function describeJwt(token: unknown): string {
  if (typeof token !== 'string') return 'none'
  try {
    const { alg, typ } = decodeProtectedHeader(token)
    return `JWT ${String(alg)}${typ === undefined ? '' : ` ${typ}`}`
  } catch {
    return 'opaque'
  }
}

function describeError({ status, json }: { status: number; json: Record<string, unknown> }): string {
  if (status === 200) return '200'
  const error = typeof json.error === 'string' ? json.error : JSON.stringify(json)
  return typeof json.error_description === 'string' ? `${status} ${error} (${json.error_description})` : `${status} ${error}`
}
