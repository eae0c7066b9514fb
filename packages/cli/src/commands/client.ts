import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { registerClient, type ClientRecord, type ClientType, type TokenFormat } from '@meshguard/auth-server'
import type { JWK } from 'jose'
import { action, collect, nowSeconds, withStore, words, type StateOptions } from '../runtime.js'
import { stateOptions } from './state-options.js'

interface CreateOptions extends StateOptions {
  id: string
  type: string
  scope?: string[]
  grant?: string[]
  redirectUri?: string[]
  postLogoutRedirectUri?: string[]
  secret?: string
  jwks?: string
  tlsClientAuth?: string
  mayAct?: string
  tokenFormat?: string
  phantomTokens?: boolean
  json?: boolean
}

export function clientCommand(): Command {
  const client = new Command('client').description('register the clients (services, jobs, applications users sign in to) that obtain tokens')

  stateOptions(client.command('create').description('register a client; prints its secret once, if it has one'))
    .requiredOption('--id <id>', 'client id')
    .option(
      '--type <type>',
      'service: a workload acting for itself; web: a server-side application users sign in to; spa, native: a browser or installed app, which keeps no secret and uses PKCE',
      'service',
    )
    .option('--scope <scopes...>', 'scopes it may request, space-separated or repeated; web, spa and native clients may add openid, profile, email, offline_access')
    .option('--grant <grant>', 'allowed grant type, repeatable (default client_credentials; authorization_code and refresh_token for web, spa, native)', collect)
    .option('--redirect-uri <uri>', 'where authorization responses may go, compared exactly; repeatable, at least one for web, spa, native', collect)
    .option('--post-logout-redirect-uri <uri>', 'where the browser may be sent after logout; repeatable', collect)
    .option('--secret <secret>', 'use this secret (at least 32 characters) instead of a generated one')
    .option('--jwks <file>', 'a JWKS file of public keys: the client authenticates with private_key_jwt')
    .option('--tls-client-auth <spiffe-id>', 'the workload\'s SPIFFE ID: the client authenticates with its certificate (RFC 8705 tls_client_auth) and gets certificate-bound tokens')
    .option('--may-act <client>', 'the one client allowed to exchange this client\'s tokens (RFC 8693 may_act)')
    .option('--token-format <format>', 'jwt: the client gets signed JWTs; reference: opaque tokens that stand for them, resolved by the server', 'jwt')
    .option('--phantom-tokens', 'let the client swap an active token for its JWT at the introspection endpoint (Accept: application/jwt): for gateways')
    .option('--json', 'print the client and its secret as JSON')
    .action(
      action(async (options: CreateOptions) => {
        const jwks = options.jwks ? readJwks(options.jwks) : undefined
        const { client: record, secret } = await withStore(options, (store) =>
          registerClient(
            store,
            {
              id: options.id,
              // registerClient refuses any other value, naming the supported ones.
              type: options.type as ClientType,
              scopes: words(options.scope),
              grantTypes: options.grant,
              redirectUris: options.redirectUri,
              postLogoutRedirectUris: options.postLogoutRedirectUri,
              secret: options.secret,
              jwks,
              tlsClientAuthSanUri: options.tlsClientAuth,
              mayAct: options.mayAct,
              // registerClient refuses any other value, naming the supported ones.
              tokenFormat: options.tokenFormat as TokenFormat | undefined,
              phantomTokens: options.phantomTokens,
            },
            nowSeconds(),
          ),
        )
        if (options.json) {
          console.log(
            JSON.stringify({
              client_id: record.id,
              client_secret: secret,
              type: record.type,
              auth: authMethod(record),
              tls_client_auth_san_uri: record.tlsClientAuthSanUri ?? undefined,
              scope: record.scopes.join(' '),
              grant_types: record.grantTypes,
              redirect_uris: record.redirectUris,
              post_logout_redirect_uris: record.postLogoutRedirectUris,
              token_format: record.tokenFormat,
              phantom_tokens: record.phantomTokens,
            }),
          )
          return
        }
        console.log(`client ${record.id}`)
        console.log(`  type:   ${record.type}`)
        console.log(`  scope:  ${record.scopes.join(' ') || '(none)'}`)
        console.log(`  grants: ${record.grantTypes.join(' ')}`)
        for (const uri of record.redirectUris) console.log(`  redirect URI: ${uri}`)
        for (const uri of record.postLogoutRedirectUris) console.log(`  post-logout redirect URI: ${uri}`)
        if (record.tokenFormat === 'reference') console.log('  tokens: reference (opaque tokens; the JWTs stay on the server)')
        if (record.phantomTokens) console.log('  phantom tokens: may exchange an active token for its JWT at introspection')
        if (secret !== undefined) console.log(`  secret: ${secret}\n(shown once: only its hash is stored)`)
        else if (authMethod(record) === 'none') console.log('  no secret: a public client proves itself with PKCE (RFC 7636)')
        else if (record.tlsClientAuthSanUri !== null) console.log(`  authenticates with tls_client_auth: a certificate for ${record.tlsClientAuthSanUri}`)
        else console.log('  authenticates with private_key_jwt')
      }),
    )

  stateOptions(client.command('list').description('list clients'))
    .option('--json', 'print JSON (without secret hashes)')
    .action(
      action(async (options: StateOptions & { json?: boolean }) => {
        const list = (await withStore(options, (store) => store.listClients())).map(describe)
        if (options.json) console.log(JSON.stringify(list))
        else if (list.length === 0) console.log('no clients')
        else for (const c of list) console.log([c.client_id, c.type, c.auth, c.grant_types.join(','), c.scope, c.token_format, ...(c.phantom_tokens ? ['phantom-tokens'] : [])].join('\t'))
      }),
    )

  stateOptions(client.command('delete').description('delete a client; its tokens stop being renewable'))
    .requiredOption('--id <id>', 'client id')
    .action(
      action(async (options: StateOptions & { id: string }) => {
        if (!(await withStore(options, (store) => store.deleteClient(options.id)))) throw new Error(`no client "${options.id}"`)
        console.log(`deleted client ${options.id}`)
      }),
    )
  return client
}

/** How the client authenticates; a secret client may use Basic or the body; a public one (`none`) only PKCE. */
function authMethod(client: ClientRecord): 'private_key_jwt' | 'tls_client_auth' | 'client_secret' | 'none' {
  if (client.jwks) return 'private_key_jwt'
  if (client.tlsClientAuthSanUri !== null) return 'tls_client_auth'
  if (client.secretHash !== null) return 'client_secret'
  return 'none'
}

function describe(client: ClientRecord) {
  return {
    client_id: client.id,
    type: client.type,
    auth: authMethod(client),
    tls_client_auth_san_uri: client.tlsClientAuthSanUri ?? undefined,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    scope: client.scopes.join(' '),
    may_act: client.mayAct ?? undefined,
    token_format: client.tokenFormat,
    phantom_tokens: client.phantomTokens,
    created_at: new Date(client.createdAt * 1000).toISOString(),
  }
}

function readJwks(file: string): JWK[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`cannot read JWKS file ${file}: ${(err as Error).message}`)
  }
  const keys = (parsed as { keys?: unknown }).keys
  if (!Array.isArray(keys)) throw new Error(`${file} is not a JWKS: it has no "keys" array`)
  return keys as JWK[]
}
