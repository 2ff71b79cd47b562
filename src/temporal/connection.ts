import fs from 'node:fs';
import type { Config } from '../config';

/** Connection options shared by the client (consumer, verify) and the worker's NativeConnection. */
export function temporalConnectionOptions(config: Config) {
  const { temporal } = config;
  const tls =
    temporal.tls || temporal.tlsCertPath
      ? {
          ...(temporal.tlsCertPath
            ? { clientCertPair: { crt: fs.readFileSync(temporal.tlsCertPath), key: fs.readFileSync(temporal.tlsKeyPath) } }
            : {}),
        }
      : undefined;
  return {
    address: temporal.address,
    ...(tls ? { tls } : {}),
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
  };
}
