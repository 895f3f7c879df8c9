/**
 * The WebRTC-direct certificate of a listener. Browsers accept it by the hash in the multiaddr
 * (/certhash/<multibase sha2-256>), so a node that keeps its certificate keeps its addresses
 * valid: invites that name them go on working after a restart.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its services through tsyringe, which needs it
import * as x509 from '@peculiar/x509';
import { base64nopad, base64urlnopad } from '@scure/base';
import { concatBytes } from '../util/bytes.ts';
import { WEBRTC_CERTIFICATE_LIFETIME } from './constants.ts';

/** What @libp2p/webrtc's webRTCDirect({ certificate }) takes (its TransportCertificate). */
export interface WebRTCCertificate {
  /** PKCS #8 private key, PEM. */
  privateKey: string;
  /** The certificate, PEM. */
  pem: string;
  /** multibase base64url ("u…") of the sha2-256 multihash of the certificate's DER. */
  certhash: string;
}

const SHA2_256_MULTIHASH_PREFIX = Uint8Array.of(0x12, 0x20);

function pem(label: string, der: ArrayBuffer): string {
  const body = base64nopad.encode(new Uint8Array(der));
  const padded = body + '='.repeat((4 - (body.length % 4)) % 4);
  return [`-----BEGIN ${label}-----`, ...(padded.match(/.{1,64}/g) ?? []), `-----END ${label}-----`].join('\n');
}

/** The /certhash/ value of a DER certificate. */
export async function certhashOf(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(der)));
  return 'u' + base64urlnopad.encode(concatBytes(SHA2_256_MULTIHASH_PREFIX, digest));
}

/** A new self-signed ECDSA P-256 certificate (the curve every browser's WebRTC accepts). */
export async function createWebRTCCertificate(
  options: { now?: number; lifetime?: number } = {},
): Promise<WebRTCCertificate> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const notBefore = new Date(options.now ?? Date.now());
  notBefore.setMilliseconds(0);
  const notAfter = new Date(notBefore.getTime() + (options.lifetime ?? WEBRTC_CERTIFICATE_LIFETIME));
  const serial = new Uint8Array(16);
  crypto.getRandomValues(serial);
  serial[0] = serial[0]! & 0x7f; // a positive serial number
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Array.from(serial, (b) => b.toString(16).padStart(2, '0')).join(''),
      name: 'CN=p2pb-node',
      notBefore,
      notAfter,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
    },
    crypto,
  );
  return {
    privateKey: pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey)),
    pem: certificate.toString('pem'),
    certhash: await certhashOf(new Uint8Array(certificate.rawData)),
  };
}

/** True when `value` has the shape of a WebRTCCertificate (as read back from disk). */
export function isWebRTCCertificate(value: unknown): value is WebRTCCertificate {
  const v = value as Partial<WebRTCCertificate> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.privateKey === 'string' &&
    v.privateKey.startsWith('-----BEGIN PRIVATE KEY-----') &&
    typeof v.pem === 'string' &&
    v.pem.startsWith('-----BEGIN CERTIFICATE-----') &&
    typeof v.certhash === 'string' &&
    v.certhash.startsWith('u')
  );
}
