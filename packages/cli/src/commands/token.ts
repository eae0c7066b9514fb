import { Command } from 'commander'
import { action } from '../runtime.js'
import { metadataUrl } from './jwt.js'

interface TokenOptions {
  client: string
  secret?: string
  scope?: string
  issuer: string
  json?: boolean
}

/** `meshguard token`: a client-credentials access token for scripts, printed alone on stdout. */
export function tokenCommand(): Command {
  return new Command('token')
    .description('obtain a client-credentials access token from a running authorization server')
    .requiredOption('--client <id>', 'client id')
    .option('--secret <secret>', 'client secret (default: $MESHGUARD_CLIENT_SECRET, which keeps it out of the process list)')
    .option('--scope <scopes>', 'space-separated scopes (default: all the client may have)')
    .option('--issuer <url>', 'the authorization server', process.env.MESHGUARD_ISSUER ?? 'http://127.0.0.1:4000')
    .option('--json', 'print the whole token response')
    .action(
      action(async (options: TokenOptions) => {
        const secret = options.secret ?? process.env.MESHGUARD_CLIENT_SECRET
        if (!secret) throw new Error('no secret: pass --secret or set MESHGUARD_CLIENT_SECRET')
        const metadata = await getJson(metadataUrl(options.issuer).href)
        const tokenEndpoint = metadata.token_endpoint
        if (typeof tokenEndpoint !== 'string') throw new Error(`${options.issuer} publishes no token_endpoint`)
        const body = new URLSearchParams({ grant_type: 'client_credentials' })
        if (options.scope) body.set('scope', options.scope)
        const credentials = Buffer.from(`${encodeURIComponent(options.client)}:${encodeURIComponent(secret)}`).toString('base64')
        const response = await fetch(tokenEndpoint, {
          method: 'POST',
          headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        })
        const result = (await response.json()) as Record<string, unknown>
        if (!response.ok) {
          const description = typeof result.error_description === 'string' ? `: ${result.error_description}` : ''
          throw new Error(`token request refused (${String(result.error)}${description})`)
        }
        console.log(options.json ? JSON.stringify(result) : String(result.access_token))
      }),
    )
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  let response: Response
  try {
    response = await fetch(url)
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`)
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}`)
  return (await response.json()) as Record<string, unknown>
}
