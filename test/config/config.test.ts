import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_AUDIENCE, parseConfig } from '../../src/config/config.js';

const REAL = { AUTH0_DOMAIN: 'tenant.us.auth0.com', AUTH0_AUDIENCE: 'https://hello-world.example.com' };

describe('parseConfig', () => {
  it('normalises a bare Auth0 host to issuer and JWKS URL', () => {
    const config = parseConfig(REAL);
    assert.equal(config.auth.issuer, 'https://tenant.us.auth0.com/');
    assert.equal(config.auth.jwksUri, 'https://tenant.us.auth0.com/.well-known/jwks.json');
    assert.equal(config.auth.audience, 'https://hello-world.example.com');
    assert.equal(config.auth.clockToleranceSeconds, 5);
    assert.equal(config.devTenant, null);
  });

  it('applies the documented defaults', () => {
    const config = parseConfig(REAL);
    assert.equal(config.port, 6060);
    assert.equal(config.host, 'localhost');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.workers, 1);
    assert.equal(config.clientOriginUrl, 'http://localhost:4040');
    assert.deepEqual(config.tokenCache, { maxEntries: 10_000, maxAgeSeconds: 300 });
    assert.deepEqual(config.dpop, {
      mode: 'allowed',
      origins: ['http://localhost:6060', 'http://127.0.0.1:6060', 'http://[::1]:6060'],
      nonceSecret: null,
      redisUrl: null,
      replayMaxEntries: 200_000,
    });
  });

  const dpopSettings: [Record<string, string>, Partial<ReturnType<typeof parseConfig>['dpop']>][] = [
    [{ DPOP: 'required' }, { mode: 'required' }],
    [{ DPOP: 'Disabled' }, { mode: 'disabled' }],
    [{ API_ORIGIN: 'https://API.example.com:443/' }, { origins: ['https://api.example.com'] }],
    [{ API_ORIGIN: 'https://api.example.com, https://api.example.org:8443' }, { origins: ['https://api.example.com', 'https://api.example.org:8443'] }],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { redisUrl: 'redis://127.0.0.1:6379' }],
    [{ DPOP_NONCE: 'required', DPOP_NONCE_SECRET: 's'.repeat(32) }, { nonceSecret: 's'.repeat(32) }],
    [{ DPOP_NONCE: 'off', DPOP_NONCE_SECRET: 's'.repeat(32) }, { nonceSecret: null }],
    [{ WEB_CONCURRENCY: '2', REDIS_URL: 'redis://127.0.0.1:6379' }, { redisUrl: 'redis://127.0.0.1:6379' }],
    [{ WEB_CONCURRENCY: '2', DPOP: 'disabled' }, { mode: 'disabled', redisUrl: null }],
  ];
  for (const [vars, expected] of dpopSettings) {
    it(`DPoP settings ${JSON.stringify(vars)}`, () => {
      const { dpop } = parseConfig({ ...REAL, ...vars });
      for (const [name, value] of Object.entries(expected)) assert.deepEqual(dpop[name as keyof typeof dpop], value, name);
    });
  }

  const equivalentDomains = [
    'tenant.us.auth0.com',
    'https://tenant.us.auth0.com',
    'https://tenant.us.auth0.com/',
    '  TENANT.us.auth0.com  ',
  ];
  for (const domain of equivalentDomains) {
    it(`accepts AUTH0_DOMAIN=${JSON.stringify(domain)}`, () => {
      assert.equal(parseConfig({ ...REAL, AUTH0_DOMAIN: domain }).auth.issuer, 'https://tenant.us.auth0.com/');
    });
  }

  const loopbackIssuers = [
    ['http://localhost:6061', 'http://localhost:6061/'],
    ['http://127.0.0.1:6061/', 'http://127.0.0.1:6061/'],
    ['http://[::1]:6061', 'http://[::1]:6061/'],
  ] as const;
  for (const [domain, issuer] of loopbackIssuers) {
    it(`allows plain http for the loopback issuer ${domain}`, () => {
      assert.equal(parseConfig({ ...REAL, AUTH0_DOMAIN: domain }).auth.issuer, issuer);
    });
  }

  // [variables, the variable the one-line error must name, a fragment of the problem]
  const invalid: [Record<string, string>, string, RegExp][] = [
    [{ AUTH0_DOMAIN: 'http://tenant.us.auth0.com' }, 'AUTH0_DOMAIN', /plain http:\/\/ only for a loopback/],
    [{ AUTH0_DOMAIN: 'https://tenant.us.auth0.com/oauth/token' }, 'AUTH0_DOMAIN', /without a path/],
    [{ AUTH0_DOMAIN: 'https://user:pw@tenant.us.auth0.com' }, 'AUTH0_DOMAIN', /credentials/],
    [{ AUTH0_DOMAIN: 'https://tenant.us.auth0.com/?x=1' }, 'AUTH0_DOMAIN', /query/],
    [{ AUTH0_DOMAIN: 'ftp://tenant.us.auth0.com' }, 'AUTH0_DOMAIN', /https/],
    [{ AUTH0_DOMAIN: 'ten ant.auth0.com' }, 'AUTH0_DOMAIN', /host name/],
    [{ AUTH0_AUDIENCE: 'aBcDeFgHiJkLmNoPqRsTuVwXyZ012345' }, 'AUTH0_AUDIENCE', /client ID/],
    [{ AUTH0_AUDIENCE: 'https://a b' }, 'AUTH0_AUDIENCE', /white space/],
    [{ AUTH0_AUDIENCE: '' }, 'AUTH0_AUDIENCE', /required/],
    [{ PORT: 'eighty' }, 'PORT', /whole number/],
    [{ PORT: '70000' }, 'PORT', /0 to 65535/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of/],
    [{ WEB_CONCURRENCY: '0' }, 'WEB_CONCURRENCY', /1 to 64/],
    [{ CLIENT_ORIGIN_URL: 'http://localhost:4040/app' }, 'CLIENT_ORIGIN_URL', /without a path/],
    [{ CLIENT_ORIGIN_URL: '*' }, 'CLIENT_ORIGIN_URL', /origin/],
    [{ TOKEN_CACHE_MAX_AGE_SECONDS: '-1' }, 'TOKEN_CACHE_MAX_AGE_SECONDS', /whole number/],
    [{ PORT: '60\n60' }, 'PORT', /got "60\\n60"/],
    [{ CLIENT_ORIGIN_URL: 'http://:secret@localhost:4040' }, 'CLIENT_ORIGIN_URL', /without a path/],
    [{ DPOP: 'on' }, 'DPOP', /one of allowed, required, disabled/],
    [{ DPOP_NONCE: 'yes' }, 'DPOP_NONCE', /one of off, required/],
    [{ DPOP_NONCE: 'required' }, 'DPOP_NONCE_SECRET', /at least 32 characters/],
    [{ DPOP_NONCE_SECRET: 'short' }, 'DPOP_NONCE_SECRET', /at least 32 characters/],
    [{ DPOP_REPLAY_MAX_ENTRIES: '10' }, 'DPOP_REPLAY_MAX_ENTRIES', /1000 to 10000000/],
    [{ API_ORIGIN: 'https://api.example.com/api' }, 'API_ORIGIN', /no path/],
    [{ API_ORIGIN: 'api.example.com' }, 'API_ORIGIN', /origins like/],
    [{ API_ORIGIN: 'https://api.example.com?' }, 'API_ORIGIN', /origins like/],
    [{ API_ORIGIN: 'ftp://api.example.com' }, 'API_ORIGIN', /origins like/],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL', /redis:\/\//],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /redis:\/\//],
    [{ WEB_CONCURRENCY: '2' }, 'REDIS_URL', /WEB_CONCURRENCY=2 with DPOP=allowed needs REDIS_URL .*or set DPOP=disabled/],
    [{ WEB_CONCURRENCY: '4', DPOP: 'required' }, 'WEB_CONCURRENCY', /DPOP=required needs REDIS_URL/],
  ];
  for (const [vars, variable, problem] of invalid) {
    it(`refuses ${JSON.stringify(vars)} with one line naming ${variable}`, () => {
      assert.throws(
        () => parseConfig({ ...REAL, ...vars }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.code, 'ERR_CONFIG');
          assert.ok(!error.message.includes('\n'), 'the error is one line');
          assert.match(error.message, new RegExp(`\\b${variable}\\b`));
          assert.match(error.message, problem);
          return true;
        },
      );
    });
  }

  it('without AUTH0_DOMAIN trusts the embedded dev tenant on loopback', () => {
    const config = parseConfig({ DEV_TENANT_PORT: '7001' }, '/srv/app');
    assert.ok(config.devTenant);
    assert.equal(config.devTenant.host, '127.0.0.1');
    assert.equal(config.auth.issuer, 'http://127.0.0.1:7001/');
    assert.equal(config.auth.jwksUri, 'http://127.0.0.1:7001/.well-known/jwks.json');
    assert.equal(config.auth.audience, DEFAULT_AUDIENCE);
    assert.equal(config.devTenant.keysDir, '/srv/app/.dev-tenant');
    assert.deepEqual(
      config.devTenant.clients.map((client) => client.permissions),
      [[], ['read:admin-messages']],
    );
  });

  it('refuses the same port for the API and the dev tenant', () => {
    assert.throws(() => parseConfig({ PORT: '7000', DEV_TENANT_PORT: '7000' }), /DEV_TENANT_PORT must differ from PORT \(both are 7000\)/);
  });

  it('refuses to run the dev tenant when NODE_ENV=production', () => {
    assert.throws(() => parseConfig({ NODE_ENV: 'production' }), /AUTH0_DOMAIN is required when NODE_ENV=production/);
    assert.throws(() => parseConfig({ NODE_ENV: 'Production' }), /AUTH0_DOMAIN is required/);
    assert.doesNotThrow(() => parseConfig({ ...REAL, NODE_ENV: 'production' }));
  });

  it('treats empty values as unset, as the .env template leaves them', () => {
    assert.ok(parseConfig({ AUTH0_DOMAIN: '', PORT: '' }).devTenant);
  });
});
