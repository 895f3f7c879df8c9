/**
 * A hosting delegation: "in network N, the always-on node whose PeerId there is P may fetch,
 * store and serve my feeds until T" — or, with action "revoke", "P may no longer". Signed by the
 * identity; the host keeps the newest one it has seen per (identity, network) and acts on it.
 *
 * Wire form: [1, "hosting-delegation", publicKey, networkId, hostPeerId, action, sequence,
 * expiresAt, signature], signed in context p2pb/hosting-delegation/v1. See docs/records.md.
 */
import { CONTEXTS, createSigningKey, encodePublicKey } from '../identity/index.ts';
import { checkNetworkId, checkUnsigned, peerIdTextProblem } from './address-record.ts';
import { checkPublicKey, checkSignature, checkTimestamp, decodeRecordArray, encodeRecord, requireSignature } from './codec.ts';
import type { RecordSigner } from './codec.ts';
import {
  HOSTING_ACTIONS,
  MAX_HOSTING_DELEGATION_BYTES,
  MAX_PEER_ID_TEXT_BYTES,
  RECORD_TYPES,
  RECORD_VERSION,
  type HostingAction,
} from './constants.ts';
import { RecordFieldError, RecordTooLargeError } from './errors.ts';

export interface HostingDelegation {
  readonly version: typeof RECORD_VERSION;
  /** The delegating identity. */
  readonly publicKey: Uint8Array;
  readonly networkId: string;
  /** The host's PeerId in that network (its node there, not its front door). */
  readonly hostPeerId: string;
  readonly action: HostingAction;
  /** Higher supersedes lower (a revocation must be higher than the delegation it ends). */
  readonly sequence: number;
  /** ms since the epoch; the host stops hosting after it unless renewed. */
  readonly expiresAt: number;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
}

export interface HostingDelegationJSON {
  publicKey: string;
  networkId: string;
  hostPeerId: string;
  action: HostingAction;
  sequence: number;
  expiresAt: number;
}

export type CreateHostingDelegationInput = {
  networkId: string;
  hostPeerId: string;
  action: HostingAction;
  sequence: number;
  expiresAt: number;
} & ({ secretKey: Uint8Array; signer?: undefined } | { signer: RecordSigner; secretKey?: undefined });

const TYPE = RECORD_TYPES.HOSTING_DELEGATION;
const LENGTH = 9;

function checkHostPeerId(value: unknown, field: string): string {
  if (typeof value !== 'string' || new TextEncoder().encode(value).length > MAX_PEER_ID_TEXT_BYTES) {
    throw new RecordFieldError(field, `expected a PeerId text of at most ${MAX_PEER_ID_TEXT_BYTES} bytes`);
  }
  const problem = peerIdTextProblem(value);
  if (problem !== null) throw new RecordFieldError(field, problem);
  return value;
}

function checkAction(value: unknown, field: string): HostingAction {
  if (typeof value !== 'string' || !(HOSTING_ACTIONS as readonly string[]).includes(value)) {
    throw new RecordFieldError(field, `expected one of ${HOSTING_ACTIONS.join(', ')}`);
  }
  return value as HostingAction;
}

function unsigned(d: Omit<HostingDelegation, 'version' | 'signature' | 'bytes'>): Uint8Array {
  return encodeRecord([RECORD_VERSION, TYPE, d.publicKey, d.networkId, d.hostPeerId, d.action, d.sequence, d.expiresAt]);
}

/** Signs and encodes a delegation (or revocation). @throws RecordFieldError, RecordTooLargeError */
export async function createHostingDelegation(input: CreateHostingDelegationInput): Promise<Uint8Array> {
  const signer = input.signer ?? (await createSigningKey(input.secretKey));
  const fields = {
    publicKey: checkPublicKey(signer.publicKey, 'publicKey'),
    networkId: checkNetworkId(input.networkId, 'networkId'),
    hostPeerId: checkHostPeerId(input.hostPeerId, 'hostPeerId'),
    action: checkAction(input.action, 'action'),
    sequence: checkUnsigned(input.sequence, 'sequence'),
    expiresAt: checkTimestamp(input.expiresAt, 'expiresAt'),
  };
  const message = unsigned(fields);
  if (message.length + 66 > MAX_HOSTING_DELEGATION_BYTES) throw new RecordTooLargeError(message.length + 66, MAX_HOSTING_DELEGATION_BYTES);
  const signature = await signer.sign(CONTEXTS.HOSTING_DELEGATION, message);
  return encodeRecord([
    RECORD_VERSION,
    TYPE,
    fields.publicKey,
    fields.networkId,
    fields.hostPeerId,
    fields.action,
    fields.sequence,
    fields.expiresAt,
    signature,
  ]);
}

/**
 * Decodes and verifies a delegation. Time and supersession are the host's to judge.
 * @throws RecordTooLargeError, MalformedRecordError, NonCanonicalRecordError,
 * UnsupportedRecordVersionError, WrongRecordTypeError, RecordFieldError, BadRecordSignatureError
 */
export async function decodeHostingDelegation(bytes: Uint8Array): Promise<HostingDelegation> {
  const items = decodeRecordArray(bytes, { type: TYPE, length: LENGTH, maxBytes: MAX_HOSTING_DELEGATION_BYTES });
  const fields = {
    publicKey: checkPublicKey(items[2], 'publicKey'),
    networkId: checkNetworkId(items[3], 'networkId'),
    hostPeerId: checkHostPeerId(items[4], 'hostPeerId'),
    action: checkAction(items[5], 'action'),
    sequence: checkUnsigned(items[6], 'sequence'),
    expiresAt: checkTimestamp(items[7], 'expiresAt'),
  };
  const signature = checkSignature(items[8], 'signature');
  await requireSignature(fields.publicKey, CONTEXTS.HOSTING_DELEGATION, unsigned(fields), signature, 'hosting delegation signature');
  return { version: RECORD_VERSION, ...fields, signature, bytes: new Uint8Array(bytes) };
}

export function hostingDelegationToJSON(d: HostingDelegation): HostingDelegationJSON {
  return {
    publicKey: encodePublicKey(d.publicKey),
    networkId: d.networkId,
    hostPeerId: d.hostPeerId,
    action: d.action,
    sequence: d.sequence,
    expiresAt: d.expiresAt,
  };
}
