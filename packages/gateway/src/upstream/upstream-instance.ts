import type { Dispatcher } from 'undici'

/**
 * One instance of an upstream: its connection pool and its passive-health record. Kept across
 * reloads when its settings do not change, with its open connections and its record.
 */
export class UpstreamInstance {
  /** Consecutive failures. */
  failures = 0
  /** Skipped until then (ms since the epoch) after too many failures. */
  downUntil = 0

  constructor(
    /** What makes two instances the same across reloads: URL and connection settings. */
    readonly key: string,
    /** `scheme://host:port`, as logs and metrics name it. */
    readonly origin: string,
    /** The URL's path, prefixed to every forwarded path; empty for `/`. */
    readonly basePath: string,
    readonly dispatcher: Dispatcher,
  ) {}
}
