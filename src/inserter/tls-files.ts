import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { InserterConfig } from '../config/types.ts';
import { ConfigError } from '../domain/errors.ts';

/** The port SMPP over TLS listens on when certificate and key are set but no port is (the smpp package's TLS default). */
export const DEFAULT_SMPP_TLS_PORT = 3550;

/**
 * The TLS listener's settings from the config: undefined without a certificate and key; their
 * PEM contents otherwise, checked here so a bad file is one clear start-up error.
 */
export function readTlsFiles(
  config: Pick<InserterConfig, 'smppTlsPort' | 'tlsCert' | 'tlsKey'>,
): { port: number; cert: string; key: string } | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  const read = (what: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `The TLS ${what} file ${file} cannot be read (${(error as { code?: string }).code ?? (error as Error).message}).`,
      );
    }
  };
  const cert = read('certificate', config.tlsCert);
  const key = read('key', config.tlsKey);
  try {
    new X509Certificate(cert);
  } catch {
    throw new ConfigError(`The TLS certificate file ${config.tlsCert} holds no PEM certificate.`);
  }
  try {
    createPrivateKey(key);
  } catch {
    throw new ConfigError(`The TLS key file ${config.tlsKey} holds no (unencrypted) PEM private key.`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(
      `The TLS certificate ${config.tlsCert} and key ${config.tlsKey} do not go together (${(error as Error).message}).`,
    );
  }
  return { port: config.smppTlsPort ?? DEFAULT_SMPP_TLS_PORT, cert, key };
}
