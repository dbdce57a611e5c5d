/**
 * `npx tsx bench/dpop-refusal-cost.ts`: server CPU per refused DPoP request, by the shape of the
 * proof's key (issue 16 W1). Builds dist/, starts a dev tenant and `node dist/server.js` as
 * production runs it, then sends, one shape after another on one keep-alive connection, proofs the
 * API must refuse: each with a valid bound access token, a new key per request (so no proof-key
 * cache helps) and a signature that does not verify. CPU is the server's user + system time from
 * /proc (10 ms ticks) over DPOP_COST_REQUESTS requests per shape (default 600), after 50 warm-up ones.
 * The ratio column divides by the ES256 row: an attacker's cheapest way to make the server work.
 * DPOP_COST_DIST: run another build's server.js directory instead of building dist/ (e.g. one of
 * the commit before a change, to measure it).
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { envInt, startProductionApi } from './lib/api.js';
import { ratio, table } from './lib/format.js';
import { oddInteger } from './lib/dpop-proofs.js';
import { cpuTimeMs, installCleanup } from './lib/processes.js';
import { startBenchTenant } from './lib/tenant.js';

const ROOT = join(import.meta.dirname, '..');
const REQUESTS = envInt('DPOP_COST_REQUESTS', 600, 50, 100_000);
const WARM_UP = 50;
const PATH = '/api/messages/protected';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function ecPublicJwk(curve: string): Record<string, unknown> {
  return generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' });
}

interface Shape {
  readonly name: string;
  readonly alg: string;
  /** A new public key for each request. */
  readonly jwk: () => Record<string, unknown>;
  /** Signature bytes: the key's size, so verification runs to the end and fails. */
  readonly signatureBytes: number;
  /** Extra header members (a big header). */
  readonly extraHeader?: () => Record<string, unknown>;
}

const SHAPES: readonly Shape[] = [
  { name: 'ES256 (P-256), new key each request', alg: 'ES256', jwk: () => ecPublicJwk('prime256v1'), signatureBytes: 64 },
  { name: 'ES512 (P-521)', alg: 'ES512', jwk: () => ecPublicJwk('secp521r1'), signatureBytes: 132 },
  { name: 'EdDSA (Ed25519)', alg: 'EdDSA', jwk: () => generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), signatureBytes: 64 },
  { name: 'RS256, 2048-bit n, e=65537', alg: 'RS256', jwk: () => ({ kty: 'RSA', n: oddInteger(2048), e: 'AQAB' }), signatureBytes: 256 },
  { name: 'PS512, 4096-bit n, e=65537 (largest taken)', alg: 'PS512', jwk: () => ({ kty: 'RSA', n: oddInteger(4096), e: 'AQAB' }), signatureBytes: 512 },
  { name: 'RS256, 3072-bit n, 3072-bit e (refused on shape)', alg: 'RS256', jwk: () => ({ kty: 'RSA', n: oddInteger(3072), e: oddInteger(3072) }), signatureBytes: 384 },
  { name: 'RS256, 8192-bit n, e=65537 (refused on shape)', alg: 'RS256', jwk: () => ({ kty: 'RSA', n: oddInteger(8192), e: 'AQAB' }), signatureBytes: 1024 },
  { name: 'ES256 key on secp256k1 (unsupported curve)', alg: 'ES256', jwk: () => ecPublicJwk('secp256k1'), signatureBytes: 64 },
  { name: 'ES256 point off the curve', alg: 'ES256', jwk: () => ({ kty: 'EC', crv: 'P-256', x: oddInteger(255), y: oddInteger(255) }), signatureBytes: 64 },
  {
    name: 'ES256, ~11 KB header of 400 extra members',
    alg: 'ES256',
    jwk: () => ecPublicJwk('prime256v1'),
    signatureBytes: 64,
    extraHeader: () => Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`m${String(i)}`, 'x'.repeat(12)])),
  },
];

function refusedProof(shape: Shape, origin: string, token: string): string {
  const header = b64({ typ: 'dpop+jwt', alg: shape.alg, jwk: shape.jwk(), ...shape.extraHeader?.() });
  const ath = createHash('sha256').update(token).digest('base64url');
  const payload = b64({ jti: randomUUID(), htm: 'GET', htu: `${origin}${PATH}`, iat: Math.floor(Date.now() / 1000), ath });
  return `${header}.${payload}.${randomBytes(shape.signatureBytes).toString('base64url')}`;
}

async function main(): Promise<void> {
  installCleanup();
  const dist = process.env['DPOP_COST_DIST'];
  if (dist === undefined || dist === '') execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const tenant = await startBenchTenant();
  const api = await startProductionApi(tenant, join(resolve(dist !== undefined && dist !== '' ? dist : join(ROOT, 'dist')), 'server.js'));
  const rows: { name: string; statuses: string; cpuMs: number }[] = [];
  try {
    for (const shape of SHAPES) {
      // Proofs are made before the measured run: making them costs this process, not the server.
      const proofs = Array.from({ length: WARM_UP + REQUESTS }, () => refusedProof(shape, api.baseUrl, tenant.dpopToken));
      const statuses = new Map<number, number>();
      let before = 0;
      for (const [i, proof] of proofs.entries()) {
        if (i === WARM_UP) before = cpuTimeMs(api.pid);
        const response = await fetch(`${api.baseUrl}${PATH}`, { headers: { authorization: `DPoP ${tenant.dpopToken}`, dpop: proof } });
        await response.arrayBuffer();
        if (i >= WARM_UP) statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
      const cpuMs = (cpuTimeMs(api.pid) - before) / REQUESTS;
      rows.push({ name: shape.name, statuses: [...statuses].map(([status, count]) => `${String(count)} x ${String(status)}`).join(', '), cpuMs });
      console.error(`${shape.name}: ${cpuMs.toFixed(3)} ms`);
    }
  } finally {
    await api.stop();
    await tenant.close();
  }
  const base = rows[0]?.cpuMs ?? Number.NaN;
  console.log(`\nServer CPU per refused DPoP request (${String(REQUESTS)} requests per shape, node ${process.version})\n`);
  console.log(table(['proof key', 'answers', 'CPU per request', 'vs ES256'], rows.map((row) => [row.name, row.statuses, `${row.cpuMs.toFixed(2)} ms`, ratio(row.cpuMs / base)])));
}

await main();
