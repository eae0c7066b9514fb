import { Transform, type TransformCallback } from 'node:stream'
import { tooLarge } from '../steps/check-body-size.js'

/**
 * The request body on its way upstream, counted: past `limit` bytes it fails with
 * `ERR_BODY_TOO_LARGE`. The client's stream is piped into it rather than handed to the upstream
 * client, so a failure upstream ends this stream, not the client's connection, and the gateway
 * can still answer.
 */
export class LimitedBody extends Transform {
  #seen = 0

  constructor(readonly limit: number) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.limit) callback(tooLarge(this.limit))
    else callback(null, chunk)
  }
}
