// A throw-away PKI for the TLS tests, made with openssl in a temp folder: a CA, a leaf for localhost and
// 127.0.0.1 signed by it, and the broken certificates of the failure tests (expired, self-signed, wrong name).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Leaf {
  /** The leaf alone (PEM). */
  cert: string;
  key: string;
  /** Leaf + CA, what a server sends. */
  chain: string;
  certFile: string;
  keyFile: string;
  chainFile: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  caFile: string;
  /** CA-signed, for DNS:localhost and IP:127.0.0.1. */
  localhost: Leaf;
  /** CA-signed, for localhost, but its validity ended before it began (openssl -days -1). */
  expired: Leaf;
  /** Self-signed (no CA), for localhost. */
  selfSigned: Leaf;
  /** CA-signed, but only for DNS:wrong-name.invalid. */
  wrongName: Leaf;
  cleanup(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function leaf(dir: string, name: string, san: string, sign: { days: number } | 'self'): Promise<Leaf> {
  const ext = `${name}.ext`;
  await writeFile(
    join(dir, ext),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  if (sign === 'self') {
    await openssl(dir, [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      `subjectAltName=${san}`,
    ]);
  } else {
    await openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost']);
    await openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Math.floor(Math.random() * 1e9)),
      '-out',
      `${name}.pem`,
      '-days',
      String(sign.days),
      '-extfile',
      ext,
    ]);
  }
  const cert = await readFile(join(dir, `${name}.pem`), 'utf8');
  const key = await readFile(join(dir, `${name}.key`), 'utf8');
  const ca = sign === 'self' ? '' : await readFile(join(dir, 'ca.pem'), 'utf8');
  const chain = cert + ca;
  const chainFile = join(dir, `${name}-chain.pem`);
  await writeFile(chainFile, chain);
  return { cert, key, chain, certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`), chainFile };
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'dlvcr-pki-'));
  try {
    await openssl(dir, [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=directline-vcr test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const [localhost, expired, selfSigned, wrongName] = await Promise.all([
      leaf(dir, 'localhost', 'DNS:localhost,IP:127.0.0.1', { days: 2 }),
      leaf(dir, 'expired', 'DNS:localhost,IP:127.0.0.1', { days: -1 }),
      leaf(dir, 'self-signed', 'DNS:localhost,IP:127.0.0.1', 'self'),
      leaf(dir, 'wrong-name', 'DNS:wrong-name.invalid', { days: 2 }),
    ]);
    const caFile = join(dir, 'ca.pem');
    return {
      dir,
      ca: await readFile(caFile, 'utf8'),
      caFile,
      localhost,
      expired,
      selfSigned,
      wrongName,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
