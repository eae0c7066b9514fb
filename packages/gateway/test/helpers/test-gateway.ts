import { pino } from 'pino'
import { createGateway, parseConfig, type Gateway, type GatewayConfigInput, type GatewayDeps } from '../../src/index.js'

/** A gateway on loopback, port 0, silent, from a configuration input. */
export async function startGateway(input: Omit<GatewayConfigInput, 'listen'> & { listen?: GatewayConfigInput['listen'] }, deps: GatewayDeps = {}): Promise<{ gateway: Gateway; url: string }> {
  const config = parseConfig({ ...input, listen: { host: '127.0.0.1', port: 0, ...input.listen }, log: { level: 'silent', ...input.log } })
  const gateway = createGateway(config, { logger: pino({ level: 'silent' }), ...deps })
  const url = await gateway.listen()
  return { gateway, url }
}
