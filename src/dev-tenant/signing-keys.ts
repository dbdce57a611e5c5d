import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type CryptoKey, exportJWK, generateKeyPair, importJWK } from 'jose';
import { z } from 'zod';

/**
 * The dev tenant's RSA signing keys, kept as JWK in `<keysDir>/signing-keys.json` so tokens
 * survive restarts and the separate rotate command can swap keys under a running tenant.
 * The first key signs; the others are retired and still published so their tokens verify.
 * One file holds the keys of one algorithm (RS256 by default; PS256 keys live in their own folder).
 */

export const SIGNING_ALG = 'RS256';
/** The algorithms the dev tenant can sign with; a key is published with its `alg` and used for it only. */
export type DevSigningAlgorithm = 'RS256' | 'PS256';
export const SIGNING_KEYS_FILE_NAME = 'signing-keys.json';

/** How long a retired key stays published: the default token lifetime, so its tokens can expire naturally. */
export const RETIRED_KEY_GRACE_SECONDS = 24 * 60 * 60;

/** A configured lifetime longer than the default must not cut its tokens off at rotation. */
export function retiredKeyGraceSeconds(tokenLifetimeSeconds: number): number {
  return Math.max(RETIRED_KEY_GRACE_SECONDS, tokenLifetimeSeconds);
}

/** Exactly what the JWKS publishes: public RSA members and metadata, never `d`, `p`, `q`, `dp`, `dq`, `qi`. */
export interface PublicSigningJwk {
  readonly kid: string;
  readonly use: 'sig';
  readonly alg: DevSigningAlgorithm;
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
}

export interface SigningKey {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: PublicSigningJwk;
  readonly createdAt: Date;
  /** When a rotation replaced this key; absent on the current key. */
  readonly retiredAt?: Date;
}

export interface SigningKeys {
  /** Signs new tokens; always `all[0]`. */
  readonly current: SigningKey;
  /** Current key first, then retired keys still inside the grace period, newest first. */
  readonly all: readonly SigningKey[];
}

/** The keys file is unreadable or malformed; the message names the file and how to recover. */
export class SigningKeysFileError extends Error {
  override readonly name = 'SigningKeysFileError';
  readonly code = 'ERR_DEV_TENANT_KEYS_FILE';
}

export function signingKeysFilePath(keysDir: string): string {
  return join(keysDir, SIGNING_KEYS_FILE_NAME);
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
const isoDate = z.iso.datetime();

const StoredKeySchema = z.object({
  kid: z.string().min(1),
  createdAt: isoDate,
  retiredAt: isoDate.optional(),
  privateJwk: z.object({
    kty: z.literal('RSA'),
    n: base64url,
    e: base64url,
    d: base64url,
    p: base64url,
    q: base64url,
    dp: base64url,
    dq: base64url,
    qi: base64url,
  }),
});

const KeysFileSchema = z
  .object({ version: z.literal(1), keys: z.array(StoredKeySchema).min(1) })
  .refine((file) => file.keys[0]?.retiredAt === undefined, {
    error: 'the first key is the current one and must not have retiredAt',
    path: ['keys', 0, 'retiredAt'],
  });

type StoredKey = z.infer<typeof StoredKeySchema>;
type KeysFile = z.infer<typeof KeysFileSchema>;

/** The file's content is bad: deleting it (a new key is made) is the way out. */
function fileError(path: string, problem: string): SigningKeysFileError {
  return new SigningKeysFileError(
    `Dev tenant signing keys file ${path} is unusable: ${problem}. ` +
      'Delete it to create a new key (tokens signed by the old keys will stop verifying).',
  );
}

/** A key is kept while it is current or was retired no longer than `graceSeconds` ago. */
export function isWithinGrace(retiredAt: Date | undefined, now: Date, graceSeconds: number): boolean {
  return retiredAt === undefined || now.getTime() - retiredAt.getTime() <= graceSeconds * 1000;
}

function withinGrace(keys: readonly StoredKey[], now: Date, graceSeconds: number): StoredKey[] {
  return keys.filter((key) => isWithinGrace(key.retiredAt === undefined ? undefined : new Date(key.retiredAt), now, graceSeconds));
}

/** `undefined` when the file does not exist yet. */
async function readKeysFile(path: string): Promise<KeysFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // The file cannot be reached (permissions, a file where a folder should be): deleting is not the fix.
    throw new SigningKeysFileError(
      `Dev tenant signing keys file ${path} cannot be read (${code ?? String(error)}); check DEV_TENANT_KEYS_DIR`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fileError(path, 'it is not valid JSON');
  }
  const result = KeysFileSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'} ${issue.message}`);
    throw fileError(path, problems.join('; '));
  }
  return result.data;
}

/** Temp file + rename: a reader (the running tenant) never sees a half-written file. */
async function writeKeysFile(keysDir: string, file: KeysFile): Promise<void> {
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  const path = signingKeysFilePath(keysDir);
  const temp = `${path}.${String(process.pid)}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function publicJwkOf(privateJwk: StoredKey['privateJwk'], alg: DevSigningAlgorithm): Promise<PublicSigningJwk> {
  const { kty, n, e } = privateJwk;
  const kid = await calculateJwkThumbprint({ kty, n, e });
  return { kid, use: 'sig', alg, kty, n, e };
}

async function toSigningKey(stored: StoredKey, path: string, alg: DevSigningAlgorithm): Promise<SigningKey> {
  const publicJwk = await publicJwkOf(stored.privateJwk, alg);
  if (publicJwk.kid !== stored.kid) {
    throw fileError(path, `kid "${stored.kid}" is not the thumbprint of its key`);
  }
  let privateKey: CryptoKey | Uint8Array;
  try {
    privateKey = await importJWK(stored.privateJwk, alg);
  } catch (error) {
    throw fileError(path, `key ${stored.kid} cannot be imported (${error instanceof Error ? error.message : String(error)})`);
  }
  if (privateKey instanceof Uint8Array) throw fileError(path, `key ${stored.kid} is not an RSA key`);
  return {
    kid: stored.kid,
    privateKey,
    publicJwk,
    createdAt: new Date(stored.createdAt),
    ...(stored.retiredAt === undefined ? {} : { retiredAt: new Date(stored.retiredAt) }),
  };
}

async function toSigningKeys(stored: readonly StoredKey[], path: string, alg: DevSigningAlgorithm): Promise<SigningKeys> {
  const all = await Promise.all(stored.map((key) => toSigningKey(key, path, alg)));
  const current = all[0];
  if (current === undefined) throw fileError(path, 'it holds no keys');
  return { current, all };
}

async function generateStoredKey(now: Date, alg: DevSigningAlgorithm): Promise<StoredKey> {
  // Extractable so the private key can be persisted; it never leaves this file otherwise.
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const privateJwk = StoredKeySchema.shape.privateJwk.parse(jwk);
  const { kid } = await publicJwkOf(privateJwk, alg);
  return { kid, createdAt: now.toISOString(), privateJwk };
}

/**
 * Reads the keys, creating the file with one new key when it does not exist.
 * Retired keys past the grace period are left out; the file itself is only written on
 * creation, so a reader never overwrites a rotation that happened meanwhile.
 */
export async function loadOrCreateSigningKeys(
  keysDir: string,
  now: Date = new Date(),
  graceSeconds: number = RETIRED_KEY_GRACE_SECONDS,
  alg: DevSigningAlgorithm = SIGNING_ALG,
): Promise<SigningKeys> {
  const path = signingKeysFilePath(keysDir);
  const file = await readKeysFile(path);
  if (file !== undefined) return toSigningKeys(withinGrace(file.keys, now, graceSeconds), path, alg);
  const created: KeysFile = { version: 1, keys: [await generateStoredKey(now, alg)] };
  await writeKeysFile(keysDir, created);
  return toSigningKeys(created.keys, path, alg);
}

/**
 * Puts a new key first and retires the previous current key at `now`; keys retired longer
 * than the grace period are removed from the file.
 */
export async function rotateSigningKey(
  keysDir: string,
  now: Date = new Date(),
  graceSeconds: number = RETIRED_KEY_GRACE_SECONDS,
): Promise<SigningKeys> {
  const path = signingKeysFilePath(keysDir);
  const existing = (await readKeysFile(path))?.keys ?? [];
  const retired = existing.map((key) => (key.retiredAt === undefined ? { ...key, retiredAt: now.toISOString() } : key));
  const keys = [await generateStoredKey(now, SIGNING_ALG), ...withinGrace(retired, now, graceSeconds)];
  await writeKeysFile(keysDir, { version: 1, keys });
  return toSigningKeys(keys, path, SIGNING_ALG);
}
