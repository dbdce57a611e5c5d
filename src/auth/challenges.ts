import type { DpopMode } from '../config/dpop-config.js';
import { type AuthChallenge, REALM } from '../errors/http-errors.js';

/** The scheme a request used, when its Authorization header named one we take. */
export type AuthScheme = 'bearer' | 'dpop';

/**
 * Builds WWW-Authenticate values, the one place that does (RFC 6750 section 3, RFC 9449 section
 * 7.1): a `Bearer` challenge only when Bearer is taken (not in `required` mode), a `DPoP`
 * challenge with `algs` only when DPoP is taken (not in `disabled` mode). The error parameters go
 * on the challenge of the scheme they concern; the other scheme's challenge is offered bare, so a
 * client learns it may switch. Each challenge ends with `resource_metadata` (RFC 9728 section 5.1),
 * the URL of the API's metadata, so a client can discover where to get a token. Values are built
 * once per distinct refusal and reused.
 */
export function createChallengeBuilder(
  mode: DpopMode,
  algorithms: readonly string[],
  resourceMetadataUrl: string,
): (challenge: AuthChallenge, used: AuthScheme | undefined) => string {
  const built = new Map<string, string>();
  const bearer = mode !== 'required';
  const dpop = mode !== 'disabled';
  const algs = `algs="${algorithms.join(' ')}"`;
  const metadata = `resource_metadata="${resourceMetadataUrl}"`;

  function build(challenge: AuthChallenge, used: AuthScheme | undefined): string {
    const target = challenge.scheme ?? used;
    const params = [
      ...(challenge.error === undefined ? [] : [`error="${challenge.error}"`]),
      ...(challenge.scope === undefined ? [] : [`scope="${challenge.scope}"`]),
    ];
    const parts: string[] = [];
    if (bearer) parts.push([`Bearer realm="${REALM}"`, ...(target === 'bearer' ? params : []), metadata].join(', '));
    if (dpop) parts.push([`DPoP realm="${REALM}"`, ...(target === 'dpop' ? params : []), algs, metadata].join(', '));
    return parts.join(', ');
  }

  return (challenge, used) => {
    const key = `${used ?? ''}|${challenge.scheme ?? ''}|${challenge.error ?? ''}|${challenge.scope ?? ''}`;
    let value = built.get(key);
    if (value === undefined) {
      value = build(challenge, used);
      built.set(key, value);
    }
    return value;
  };
}
