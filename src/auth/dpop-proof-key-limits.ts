/**
 * The shapes of proof key the API takes before any import or signature work. A DPoP proof is
 * checked before its access token, so anyone can make the server verify a signature with a key of
 * their choosing: what that costs must not depend on the key. RSA verification costs grow with the
 * modulus and, above all, with the public exponent (a 3072-bit exponent cost ~8 ms of CPU per
 * refused request against ~1 ms for ES256; bench/dpop-refusal-cost.ts measures it), so both are
 * bounded here, on the JWK as sent. Other key types are bounded by their curves (jose refuses
 * unknown ones before any arithmetic).
 */

/** Largest RSA modulus taken, in bits: the largest keys clients use; 8192-bit verification costs ~4x. */
export const MAX_RSA_MODULUS_BITS = 4096;
/** The one RSA public exponent taken, 65537, as its JWK spells it (RFC 7518 section 6.3.1.2: no leading zeros). */
const RSA_EXPONENT_65537 = 'AQAB';
/** base64url length of a 4096-bit modulus (512 octets); a longer string is refused before decoding. */
const MAX_MODULUS_CHARS = Math.ceil((MAX_RSA_MODULUS_BITS / 8) * 4 / 3);

/** Why a proof's `jwk` is refused before import, or undefined when its shape is one the API takes. */
export function proofKeyShapeProblem(jwk: Readonly<Record<string, unknown>>): string | undefined {
  if (jwk['kty'] !== 'RSA') return undefined;
  const { n, e } = jwk;
  if (e !== RSA_EXPONENT_65537) return 'RSA public exponent is not 65537';
  if (typeof n !== 'string' || n.length > MAX_MODULUS_CHARS + 1) return `RSA modulus is not a string of at most ${String(MAX_RSA_MODULUS_BITS)} bits`;
  if (modulusBits(n) > MAX_RSA_MODULUS_BITS) return `RSA modulus is over ${String(MAX_RSA_MODULUS_BITS)} bits`;
  return undefined;
}

/** Bits of a base64url big-endian integer, leading zero octets aside. */
function modulusBits(n: string): number {
  const octets = Buffer.from(n, 'base64url');
  let first = 0;
  while (first < octets.length && octets[first] === 0) first += 1;
  if (first === octets.length) return 0;
  return (octets.length - first - 1) * 8 + (32 - Math.clz32(octets[first] ?? 0));
}
