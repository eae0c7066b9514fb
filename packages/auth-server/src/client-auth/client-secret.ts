import { InvalidClient, InvalidRequest } from '../errors.js'
import { hashClientSecret, verifyClientSecret } from '../crypto/client-secret.js'
import type { ClientRecord } from '../store/store.js'
import type { ClientAuthDeps, ClientAuthMethod } from './context.js'

/** Unknown client and wrong secret get the same answer, so ids cannot be probed. */
const FAILED = 'client authentication failed'

/** Compared against when the client is unknown, so that case costs what a wrong secret costs. */
const UNKNOWN_CLIENT_HASH = hashClientSecret('')

async function checkSecret(directory: ClientAuthDeps['directory'], clientId: string, secret: string): Promise<ClientRecord> {
  const client = await directory.getClient(clientId)
  const matches = verifyClientSecret(secret, client?.secretHash ?? UNKNOWN_CLIENT_HASH)
  if (!client?.secretHash || !matches) throw new InvalidClient(FAILED)
  return client
}

/** RFC 6749 §2.3.1: HTTP Basic, with id and secret form-urlencoded before base64. */
export const clientSecretBasic: ClientAuthMethod = {
  name: 'client_secret_basic',
  present: ({ authorization }) => authorization !== undefined && /^basic /i.test(authorization),
  async authenticate({ authorization, params }, { directory }) {
    const decoded = Buffer.from(authorization!.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw new InvalidClient('malformed Basic credentials')
    let clientId: string
    let secret: string
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' '))
      secret = decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' '))
    } catch {
      throw new InvalidClient('malformed Basic credentials')
    }
    const bodyId = params.get('client_id')
    if (bodyId !== undefined && bodyId !== clientId) {
      throw new InvalidRequest('client_id in the body does not match the authenticated client')
    }
    return { client: await checkSecret(directory, clientId, secret) }
  },
}

/** RFC 6749 §2.3.1: `client_id` and `client_secret` in the request body. */
export const clientSecretPost: ClientAuthMethod = {
  name: 'client_secret_post',
  present: ({ params }) => params.has('client_secret'),
  async authenticate({ params }, { directory }) {
    return { client: await checkSecret(directory, params.require('client_id'), params.require('client_secret')) }
  },
}
