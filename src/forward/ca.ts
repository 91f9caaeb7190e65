// The local certificate authority of the forward proxy: made on first use in ~/.directline-vcr/ (ca.pem, and
// ca-key.pem readable by its owner only), then reused, so a client trusts it once. Leaf certificates for the
// intercepted hosts are issued in memory and never written. Certificates are built with node-forge; keys
// come from Node's crypto.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

export const DEFAULT_CA_DIR = join(homedir(), '.directline-vcr');
export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

const CA_YEARS = 10;
const LEAF_DAYS = 30;

export interface LeafCertificate {
  cert: string;
  key: string;
}

export class LocalCa {
  private readonly leaves = new Map<string, LeafCertificate>();
  private leafKey: { pem: string; forge: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } | null = null;

  private constructor(
    /** Path of the CA certificate (what clients trust). */
    readonly certFile: string,
    readonly keyFile: string,
    readonly certPem: string,
    private readonly cert: forge.pki.Certificate,
    private readonly key: forge.pki.rsa.PrivateKey,
    /** Whether this call made the CA (first use). */
    readonly created: boolean,
  ) {}

  /** Loads the CA in `dir` (default ~/.directline-vcr), making it when there is none. */
  static async open(dir: string = DEFAULT_CA_DIR): Promise<LocalCa> {
    const certFile = join(dir, CA_CERT_FILE);
    const keyFile = join(dir, CA_KEY_FILE);
    let created = false;
    if (!(await exists(keyFile))) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const made = makeCa();
      // Written under temporary names and renamed, key last: a CA is either whole or absent.
      const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(certFile + suffix, made.certPem, { mode: 0o644 });
      await writeFile(keyFile + suffix, made.keyPem, { mode: 0o600 });
      await chmod(keyFile + suffix, 0o600); // whatever the umask
      await rename(certFile + suffix, certFile);
      if (await exists(keyFile)) {
        // Another process made one at the same time: use that one (its certificate is in place too).
        await rename(keyFile + suffix, `${keyFile + suffix}.unused`).catch(() => undefined);
      } else {
        await rename(keyFile + suffix, keyFile);
        created = true;
      }
    }
    const mode = (await stat(keyFile)).mode & 0o777;
    if (mode & 0o077) {
      throw new Error(
        `${keyFile}: the CA's private key is readable by others (mode ${mode.toString(8)}); fix it with chmod 600 ${keyFile}, ` +
          `or delete ${dir} to make a new CA`,
      );
    }
    let certPem: string;
    let cert: forge.pki.Certificate;
    let key: forge.pki.rsa.PrivateKey;
    try {
      certPem = await readFile(certFile, 'utf8');
      cert = forge.pki.certificateFromPem(certPem);
      key = forge.pki.privateKeyFromPem(await readFile(keyFile, 'utf8')) as forge.pki.rsa.PrivateKey;
    } catch (err) {
      throw new Error(`cannot use the forward proxy's CA in ${dir} (${(err as Error).message}); delete ${dir} to make a new one`);
    }
    return new LocalCa(certFile, keyFile, certPem, cert, key, created);
  }

  /** A certificate for `host` signed by this CA (one key for every host; made once per host and process). */
  leafFor(host: string): LeafCertificate {
    const cached = this.leaves.get(host);
    if (cached) return cached;
    if (!this.leafKey) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
      this.leafKey = {
        pem,
        forge: forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey,
        publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey,
      };
    }
    const c = forge.pki.createCertificate();
    c.publicKey = this.leafKey.publicKey;
    c.serialNumber = serial();
    c.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
    c.validity.notAfter = new Date(Date.now() + LEAF_DAYS * 24 * 3600_000);
    c.setSubject([{ name: 'commonName', value: host }]);
    c.setIssuer(this.cert.subject.attributes);
    const ip = /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
    c.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [ip ? { type: 7, ip: host } : { type: 2, value: host }] },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.cert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    c.sign(this.key, forge.md.sha256.create());
    const leaf = { cert: forge.pki.certificateToPem(c) + this.certPem, key: this.leafKey.pem };
    this.leaves.set(host, leaf);
    return leaf;
  }
}

function makeCa(): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + CA_YEARS * 365 * 24 * 3600_000);
  // The machine's name in the subject: someone who finds this CA in a trust store can tell where it came from.
  const subject = [
    { name: 'commonName', value: `directline-vcr local CA (${hostname()})` },
    { name: 'organizationName', value: 'directline-vcr (local testing only)' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/** A positive random serial (the top bit clear, so DER keeps it positive without padding). */
function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
