// PEM material given on the command line or in options: either the PEM text itself or a path to a PEM file.
// Used for the TLS listener (--tls-cert/--tls-key) and for extra CAs (--ca).
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export class PemError extends Error {}

/** A PEM block is recognised by its header; anything else is a file path. */
export function isPemText(value: string | Buffer): boolean {
  return (Buffer.isBuffer(value) ? value.toString('latin1', 0, 4096) : value).includes('-----BEGIN ');
}

/** The PEM text of `value` (PEM text, a Buffer holding PEM, or a file path); `what` names it in errors. */
export function loadPem(value: string | Buffer, what: string): string {
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (isPemText(value)) return value;
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new PemError(`${what}: cannot read ${value} (${e.code ?? e.message})`);
  }
  if (!text.includes('-----BEGIN ')) throw new PemError(`${what}: ${value} holds no PEM block (expected "-----BEGIN …-----")`);
  return text;
}

/** The certificates of a PEM bundle, one PEM string each. */
export function splitCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export interface ListenerTls {
  /** Certificate chain (leaf first) as PEM text or a PEM file path. */
  cert: string | Buffer;
  /** Private key as PEM text or a PEM file path (unencrypted). */
  key: string | Buffer;
}

/** Loads and checks a listener's certificate and key (they must form a usable pair). */
export function loadListenerTls(tls: ListenerTls): { cert: string; key: string } {
  const cert = loadPem(tls.cert, 'TLS certificate (--tls-cert)');
  const key = loadPem(tls.key, 'TLS key (--tls-key)');
  if (splitCertificates(cert).length === 0) throw new PemError('TLS certificate (--tls-cert) holds no "-----BEGIN CERTIFICATE-----" block');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new PemError(`--tls-cert/--tls-key are not a usable pair: ${(err as Error).message}`);
  }
  return { cert, key };
}
