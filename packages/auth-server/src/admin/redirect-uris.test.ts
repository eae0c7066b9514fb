import { describe, expect, it } from 'vitest'
import { MAX_REDIRECT_URI_LENGTH, redirectUriProblem, type RedirectingClientType } from './redirect-uris.js'

const longest = `https://app.example.com/${'a'.repeat(MAX_REDIRECT_URI_LENGTH - 'https://app.example.com/'.length)}`

const NOT_ABSOLUTE = 'is not an absolute URL'
const FRAGMENT = 'must not have a fragment (RFC 6749 §3.1.2)'
const WILDCARD = 'must not contain a wildcard "*" (RFC 9700 §4.1.3)'
const USERINFO = 'must not have user information (user@host)'
const WHITESPACE = 'must not contain whitespace or control characters'
const TOO_LONG = `is longer than ${MAX_REDIRECT_URI_LENGTH} characters`
const HTTPS = 'must use https unless the host is loopback (localhost, 127.0.0.0/8, [::1])'
const NATIVE_HTTP = 'may use http only with the loopback IP literal 127.0.0.1 or [::1] (RFC 8252 §7.3, §8.3)'
const NATIVE_SCHEME = 'must use https, http on 127.0.0.1 or [::1], or a private-use scheme in reverse-domain form such as com.example.app (RFC 8252 §7)'

describe('redirectUriProblem', () => {
  it.each<[string, RedirectingClientType]>([
    ['https://app.example.com/callback', 'web'],
    ['https://app.example.com/callback', 'spa'],
    ['https://app.example.com/callback?tenant=a', 'web'],
    ['https://app.example.com:8443/callback', 'spa'],
    [longest, 'web'],
    ['http://localhost:3000/callback', 'web'],
    ['http://localhost:3000/callback', 'spa'],
    ['http://127.0.0.1:8080/callback', 'spa'],
    ['http://127.5.6.7/callback', 'web'],
    ['http://[::1]/callback', 'web'],
    // RFC 8252 §7.2: a claimed https URL.
    ['https://app.example.com/oauth2redirect', 'native'],
    // §7.3: the loopback IP literal, with any port or none.
    ['http://127.0.0.1/callback', 'native'],
    ['http://127.0.0.1:51004/callback', 'native'],
    ['http://[::1]:8080/callback', 'native'],
    // §7.1: a private-use scheme in reverse-domain form.
    ['com.example.app:/oauth2redirect/example-provider', 'native'],
    ['com.example.app://callback', 'native'],
  ])('accepts %s for a %s client', (uri, type) => {
    expect(redirectUriProblem(uri, type)).toBeUndefined()
  })

  it.each<[string, string, RedirectingClientType, string]>([
    ['an empty string', '', 'web', NOT_ABSOLUTE],
    ['a relative reference', '/callback', 'spa', NOT_ABSOLUTE],
    ['a URL without a scheme', 'app.example.com/callback', 'web', NOT_ABSOLUTE],
    ['a fragment', 'https://app.example.com/callback#done', 'web', FRAGMENT],
    ['an empty fragment', 'https://app.example.com/callback#', 'spa', FRAGMENT],
    ['a fragment on a private-use scheme', 'com.example.app:/callback#x', 'native', FRAGMENT],
    ['a wildcard host', 'https://*.example.com/callback', 'web', WILDCARD],
    ['a wildcard path', 'https://app.example.com/*', 'spa', WILDCARD],
    ['a wildcard port', 'http://127.0.0.1:*/callback', 'native', WILDCARD],
    ['a user name', 'https://user@app.example.com/callback', 'web', USERINFO],
    ['a user name and password', 'https://user:secret@app.example.com/callback', 'spa', USERINFO],
    ['an empty userinfo', 'https://@app.example.com/callback', 'web', USERINFO],
    ['a host disguised as userinfo', 'https://app.example.com@evil.example/callback', 'native', USERINFO],
    ['a space', 'https://app.example.com /callback', 'web', WHITESPACE],
    ['a tab the parser would drop', 'https://app.exam\tple.com/callback', 'spa', WHITESPACE],
    ['a trailing newline', 'https://app.example.com/callback\n', 'web', WHITESPACE],
    ['a NUL', 'https://app.example.com/\u0000', 'native', WHITESPACE],
    ['a URI past the length limit', `${longest}a`, 'web', TOO_LONG],
    ['http off loopback', 'http://app.example.com/callback', 'web', HTTPS],
    ['http off loopback', 'http://app.example.com/callback', 'spa', HTTPS],
    ['another scheme', 'ftp://app.example.com/callback', 'web', HTTPS],
    ['a private-use scheme', 'com.example.app:/callback', 'spa', HTTPS],
    ['javascript:', 'javascript:alert(1)', 'spa', HTTPS],
    ['localhost', 'http://localhost:8080/callback', 'native', NATIVE_HTTP],
    ['a shortened loopback address', 'http://127.1/callback', 'native', NATIVE_HTTP],
    ['a loopback address other than 127.0.0.1', 'http://127.0.0.2/callback', 'native', NATIVE_HTTP],
    ['http off loopback', 'http://app.example.com/callback', 'native', NATIVE_HTTP],
    ['a scheme without a dot', 'myapp:/callback', 'native', NATIVE_SCHEME],
    ['a scheme with an empty label', 'com..app:/callback', 'native', NATIVE_SCHEME],
    ['javascript:', 'javascript:alert(1)', 'native', NATIVE_SCHEME],
    ['file:', 'file:///etc/passwd', 'native', NATIVE_SCHEME],
    ['data:', 'data:text/html,hello', 'native', NATIVE_SCHEME],
  ])('refuses %s (%s) for a %s client', (_name, uri, type, problem) => {
    expect(redirectUriProblem(uri, type)).toBe(problem)
  })
})
