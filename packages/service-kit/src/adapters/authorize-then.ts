import { authorizeRequestNow, type AuthorizeOptions, type RawRequest, type RequestAuth } from '../authorization/authorize-request.js'

/**
 * Authorises `request` and calls `accept` or `refuse` with the outcome: at once when every token
 * is in the verifier's cache, after verification otherwise. The one way every HTTP adapter asks.
 */
export function authorizeThen(request: RawRequest, options: AuthorizeOptions, accept: (auth: RequestAuth) => void, refuse: (err: unknown) => void): void {
  let auth: RequestAuth | Promise<RequestAuth>
  try {
    auth = authorizeRequestNow(request, options)
  } catch (err) {
    refuse(err)
    return
  }
  if (auth instanceof Promise) auth.then(accept, refuse)
  else accept(auth)
}
