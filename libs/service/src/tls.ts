import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './config';

/**
 * What a kv server listens with under HTTPS: its certificate chain and key (PEM), and, for mutual TLS, the CA that
 * clients' certificates must be signed by. Read once at start: replacing the files takes a restart.
 */
export interface ServerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, every client must present a certificate signed by this CA (`requestCert` and `rejectUnauthorized`). */
  readonly clientCa?: Buffer;
}

/** The files of a server's TLS settings, by the variable that names each. */
export interface ServerTlsFiles {
  /** `TLS_CERT_FILE`: the server's certificate (and chain), PEM. */
  readonly certFile?: string;
  /** `TLS_KEY_FILE`: its private key, PEM, without a passphrase. */
  readonly keyFile?: string;
  /** `TLS_CLIENT_CA_FILE`: the CA of the client certificates required (data nodes only). */
  readonly clientCaFile?: string;
}

/** The client side of TLS: the CA to verify servers with, and the certificate presented to them (mutual TLS). */
export interface ClientTlsFiles {
  /** `TLS_CA_FILE`: CA certificates (PEM) trusted instead of Node's default ones. */
  readonly caFile?: string;
  /** `TLS_CLIENT_CERT_FILE`: the certificate presented to servers that require one. */
  readonly certFile?: string;
  /** `TLS_CLIENT_KEY_FILE`: its private key. */
  readonly keyFile?: string;
}

/** What a client verifies servers with and presents to them; every field optional. */
export interface ClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/**
 * Reads and checks a server's TLS files: `undefined` when neither certificate nor key is set (plain HTTP).
 * @throws ConfigError naming the variable and the file: one of certificate and key set without the other, a file that
 * cannot be read, is not PEM of its kind, or a key that does not belong to the certificate; a client CA without a
 * certificate of the server's own.
 */
export function loadServerTls(files: ServerTlsFiles): ServerTls | undefined {
  const { certFile, keyFile, clientCaFile } = files;
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined) {
      throw new ConfigError('TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: client certificates are asked for over HTTPS only');
    }
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    const [set, unset] = certFile === undefined ? ['TLS_KEY_FILE', 'TLS_CERT_FILE'] : ['TLS_CERT_FILE', 'TLS_KEY_FILE'];
    throw new ConfigError(`${set} is set without ${unset}: set both to serve HTTPS, or neither for plain HTTP`);
  }
  const cert = readCertificates('TLS_CERT_FILE', certFile);
  const key = readKey('TLS_KEY_FILE', keyFile);
  checkPair(cert, key, ['TLS_CERT_FILE', certFile], ['TLS_KEY_FILE', keyFile]);
  const clientCa = clientCaFile === undefined ? undefined : readCertificates('TLS_CLIENT_CA_FILE', clientCaFile);
  return clientCa === undefined ? { cert, key } : { cert, key, clientCa };
}

/**
 * Reads and checks the TLS files a client uses toward servers: `undefined` when none is set (Node's default CAs, no
 * client certificate).
 * @throws ConfigError as {@link loadServerTls}, for `TLS_CA_FILE`, `TLS_CLIENT_CERT_FILE` and `TLS_CLIENT_KEY_FILE`.
 */
export function loadClientTls(files: ClientTlsFiles): ClientTls | undefined {
  const { caFile, certFile, keyFile } = files;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [set, unset] = certFile === undefined ? ['TLS_CLIENT_KEY_FILE', 'TLS_CLIENT_CERT_FILE'] : ['TLS_CLIENT_CERT_FILE', 'TLS_CLIENT_KEY_FILE'];
    throw new ConfigError(`${set} is set without ${unset}: set both to present a client certificate, or neither`);
  }
  const ca = caFile === undefined ? undefined : readCertificates('TLS_CA_FILE', caFile);
  if (certFile === undefined || keyFile === undefined) return ca === undefined ? undefined : { ca };
  const cert = readCertificates('TLS_CLIENT_CERT_FILE', certFile);
  const key = readKey('TLS_CLIENT_KEY_FILE', keyFile);
  checkPair(cert, key, ['TLS_CLIENT_CERT_FILE', certFile], ['TLS_CLIENT_KEY_FILE', keyFile]);
  return ca === undefined ? { cert, key } : { ca, cert, key };
}

function readFile(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${variable}=${file} cannot be read (${reason}): check the path and that this user may read it`);
  }
}

function readCertificates(variable: string, file: string): Buffer {
  const pem = readFile(variable, file);
  try {
    // Checks the first certificate of the file; a chain's others are checked when the secure context is made.
    new X509Certificate(pem);
  } catch {
    throw new ConfigError(`${variable}=${file} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

function readKey(variable: string, file: string): Buffer {
  const pem = readFile(variable, file);
  try {
    createPrivateKey(pem);
  } catch {
    throw new ConfigError(`${variable}=${file} is not a PEM private key without a passphrase`);
  }
  return pem;
}

function checkPair(cert: Buffer, key: Buffer, [certVariable, certFile]: [string, string], [keyVariable, keyFile]: [string, string]): void {
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = (error as Error).message;
    if (/mismatch/i.test(reason)) {
      throw new ConfigError(`${keyVariable}=${keyFile} is not the key of the certificate in ${certVariable}=${certFile}`);
    }
    throw new ConfigError(`${certVariable}=${certFile} with ${keyVariable}=${keyFile} cannot be used: ${reason}`);
  }
}
