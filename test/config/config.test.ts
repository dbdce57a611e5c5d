import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_AUDIENCE } from '../../src/config/config.js';
import { parseConfig } from '../../src/server-config.js';

const REAL = { AUTH0_DOMAIN: 'tenant.us.auth0.com', AUTH0_AUDIENCE: 'https://hello-world.example.com' };
const issuersOf = (env: Record<string, string>) => parseConfig(env).auth.issuers.map(({ issuer }) => issuer);

describe('parseConfig', () => {
  it('normalises a bare Auth0 host to issuer and JWKS URL', () => {
    const config = parseConfig(REAL);
    assert.deepEqual(config.auth.issuers, [
      { issuer: 'https://tenant.us.auth0.com/', jwksUri: 'https://tenant.us.auth0.com/.well-known/jwks.json' },
    ]);
    assert.deepEqual(config.auth.algorithms, ['RS256']);
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
      originsConfigured: false,
      nonceSecret: null,
      redisUrl: null,
      replayMaxEntries: 200_000,
      replayMaxPerKey: 100_000,
    });
    assert.equal(config.metricsPort, null);
  });

  const devTenantPortClashes: [Record<string, string>, RegExp][] = [
    [{ METRICS_PORT: '6062', DEV_TENANT_EXTRA_ISSUERS: '1' }, /^Invalid configuration: METRICS_PORT must differ from the dev tenant's ports \(6061, 6062\)$/],
  ];
  for (const [vars, problem] of devTenantPortClashes) {
    it(`refuses ${JSON.stringify(vars)} with the dev tenant, in one line`, () => {
      assert.throws(() => parseConfig(vars), (error: unknown) => error instanceof ConfigError && problem.test(error.message));
    });
  }

  it('reads METRICS_PORT', () => {
    assert.equal(parseConfig({ ...REAL, METRICS_PORT: '9464' }).metricsPort, 9464);
  });

  const drainWindows: [string, Record<string, string>, number][] = [
    ['0 s by default outside production', {}, 0],
    ['5 s by default with NODE_ENV=production', { NODE_ENV: 'production' }, 5],
    ['5 s with NODE_ENV=Production (any case)', { NODE_ENV: 'Production' }, 5],
    ['SHUTDOWN_DRAIN_SECONDS in production', { NODE_ENV: 'production', SHUTDOWN_DRAIN_SECONDS: '0' }, 0],
    ['SHUTDOWN_DRAIN_SECONDS outside production', { SHUTDOWN_DRAIN_SECONDS: '12' }, 12],
  ];
  for (const [name, vars, seconds] of drainWindows) {
    it(`drains for ${name}`, () => {
      assert.equal(parseConfig({ ...REAL, ...vars }).shutdownDrainSeconds, seconds);
    });
  }

  const dpopSettings: [Record<string, string>, Partial<ReturnType<typeof parseConfig>['dpop']>][] = [
    [{ DPOP: 'required' }, { mode: 'required' }],
    [{ DPOP: 'Disabled' }, { mode: 'disabled' }],
    [{ API_ORIGIN: 'https://API.example.com:443/' }, { origins: ['https://api.example.com'], originsConfigured: true }],
    [{ API_ORIGIN: 'https://api.example.com, https://api.example.org:8443' }, { origins: ['https://api.example.com', 'https://api.example.org:8443'] }],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { redisUrl: 'redis://127.0.0.1:6379' }],
    [{ DPOP_NONCE: 'required', DPOP_NONCE_SECRET: 's'.repeat(32) }, { nonceSecret: 's'.repeat(32) }],
    [{ DPOP_NONCE: 'off', DPOP_NONCE_SECRET: 's'.repeat(32) }, { nonceSecret: null }],
    [{ WEB_CONCURRENCY: '2', REDIS_URL: 'redis://127.0.0.1:6379' }, { redisUrl: 'redis://127.0.0.1:6379' }],
    [{ WEB_CONCURRENCY: '2', DPOP: 'disabled' }, { mode: 'disabled', redisUrl: null }],
    [{ DPOP_REPLAY_MAX_ENTRIES: '1000' }, { replayMaxEntries: 1000, replayMaxPerKey: 500 }],
    [{ DPOP_REPLAY_MAX_ENTRIES: '1000', DPOP_REPLAY_MAX_PER_KEY: '999' }, { replayMaxPerKey: 999 }],
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
      assert.deepEqual(issuersOf({ ...REAL, AUTH0_DOMAIN: domain }), ['https://tenant.us.auth0.com/']);
    });
  }

  const loopbackIssuers = [
    ['http://localhost:6061', 'http://localhost:6061/'],
    ['http://127.0.0.1:6061/', 'http://127.0.0.1:6061/'],
    ['http://[::1]:6061', 'http://[::1]:6061/'],
  ] as const;
  for (const [domain, issuer] of loopbackIssuers) {
    it(`allows plain http for the loopback issuer ${domain}`, () => {
      assert.deepEqual(issuersOf({ ...REAL, AUTH0_DOMAIN: domain }), [issuer]);
    });
  }

  it('takes several comma-separated domains, each an issuer with its own JWKS, in order', () => {
    const config = parseConfig({ ...REAL, AUTH0_DOMAIN: 'tenant.us.auth0.com, login.example.com ,https://id.example.org/' });
    assert.deepEqual(config.auth.issuers, [
      { issuer: 'https://tenant.us.auth0.com/', jwksUri: 'https://tenant.us.auth0.com/.well-known/jwks.json' },
      { issuer: 'https://login.example.com/', jwksUri: 'https://login.example.com/.well-known/jwks.json' },
      { issuer: 'https://id.example.org/', jwksUri: 'https://id.example.org/.well-known/jwks.json' },
    ]);
  });

  it('accepts 20 domains (Auth0 Multiple Custom Domains)', () => {
    const domains = Array.from({ length: 20 }, (_, i) => `d${i}.example.com`);
    assert.equal(issuersOf({ ...REAL, AUTH0_DOMAIN: domains.join(',') }).length, 20);
  });

  // Normalised as Auth0's SDK does: host lower-cased, default port dropped, one trailing slash.
  const normalised = [
    ['https://LOGIN.Example.COM:443/', 'https://login.example.com/'],
    ['login.example.com:8443', 'https://login.example.com:8443/'],
    ['http://LOCALHOST:80', 'http://localhost/'],
    ['xn--bcher-kva.example', 'https://xn--bcher-kva.example/'],
    ['bücher.example', 'https://xn--bcher-kva.example/'],
  ] as const;
  for (const [domain, issuer] of normalised) {
    it(`normalises AUTH0_DOMAIN=${domain} to ${issuer}`, () => {
      assert.deepEqual(issuersOf({ ...REAL, AUTH0_DOMAIN: domain }), [issuer]);
    });
  }

  const algorithms = [
    ['', ['RS256']],
    ['RS256', ['RS256']],
    ['PS256', ['PS256']],
    ['RS256,PS256', ['RS256', 'PS256']],
    [' PS256 , RS256 , PS256 ', ['PS256', 'RS256']],
  ] as const;
  for (const [value, expected] of algorithms) {
    it(`reads AUTH0_SIGNING_ALGS=${JSON.stringify(value)} as ${expected.join(', ')}`, () => {
      assert.deepEqual(parseConfig({ ...REAL, AUTH0_SIGNING_ALGS: value }).auth.algorithms, expected);
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
    [{ AUTH0_DOMAIN: 'https://user@login.example.com' }, 'AUTH0_DOMAIN', /credentials/],
    [{ AUTH0_DOMAIN: 'login.example.com/?' }, 'AUTH0_DOMAIN', /query or a fragment/],
    [{ AUTH0_DOMAIN: 'login.example.com#top' }, 'AUTH0_DOMAIN', /query or a fragment/],
    [{ AUTH0_DOMAIN: 'login.example.com/#' }, 'AUTH0_DOMAIN', /query or a fragment/],
    [{ AUTH0_DOMAIN: 'tenant.us.auth0.com,https://TENANT.us.auth0.com:443/' }, 'AUTH0_DOMAIN', /lists https:\/\/tenant\.us\.auth0\.com more than once/],
    [{ AUTH0_DOMAIN: 'a.example.com,,b.example.com' }, 'AUTH0_DOMAIN', /empty entry/],
    [{ AUTH0_DOMAIN: 'a.example.com,' }, 'AUTH0_DOMAIN', /empty entry/],
    [{ AUTH0_DOMAIN: Array.from({ length: 21 }, (_, i) => `d${i}.example.com`).join(',') }, 'AUTH0_DOMAIN', /21 domains; at most 20/],
    [{ AUTH0_DOMAIN: 'tenant.us.auth0.com,http://login.example.com' }, 'AUTH0_DOMAIN', /entry "http:\/\/login\.example\.com" may use plain http/],
    [{ AUTH0_SIGNING_ALGS: 'HS256' }, 'AUTH0_SIGNING_ALGS', /must not list HS256: a shared secret/],
    [{ AUTH0_SIGNING_ALGS: 'RS256,hs512' }, 'AUTH0_SIGNING_ALGS', /must not list hs512/],
    [{ AUTH0_SIGNING_ALGS: 'ES256' }, 'AUTH0_SIGNING_ALGS', /only RS256 or PS256 .*got "ES256"/],
    [{ AUTH0_SIGNING_ALGS: 'none' }, 'AUTH0_SIGNING_ALGS', /only RS256 or PS256/],
    [{ AUTH0_SIGNING_ALGS: 'RS256,,PS256' }, 'AUTH0_SIGNING_ALGS', /got ""/],
    [{ PORT: 'eighty' }, 'PORT', /whole number/],
    [{ PORT: '70000' }, 'PORT', /0 to 65535/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of/],
    [{ WEB_CONCURRENCY: '0' }, 'WEB_CONCURRENCY', /1 to 64/],
    [{ CLIENT_ORIGIN_URL: 'http://localhost:4040/app' }, 'CLIENT_ORIGIN_URL', /without a path/],
    [{ CLIENT_ORIGIN_URL: '*' }, 'CLIENT_ORIGIN_URL', /origin/],
    [{ TOKEN_CACHE_MAX_AGE_SECONDS: '-1' }, 'TOKEN_CACHE_MAX_AGE_SECONDS', /whole number/],
    [{ PORT: '60\n60' }, 'PORT', /got "60\\n60"/],
    [{ CLIENT_ORIGIN_URL: 'http://:secret@localhost:4040' }, 'CLIENT_ORIGIN_URL', /without a path/],
    [{ DEV_TENANT_SPA_CALLBACK_URLS: 'localhost:4040/callback' }, 'DEV_TENANT_SPA_CALLBACK_URLS', /absolute http\(s\) URLs/],
    [{ DEV_TENANT_SPA_CALLBACK_URLS: 'http://localhost:4040/cb#x' }, 'DEV_TENANT_SPA_CALLBACK_URLS', /fragment/],
    [{ DEV_TENANT_SPA_LOGOUT_URLS: 'javascript:alert(1)' }, 'DEV_TENANT_SPA_LOGOUT_URLS', /absolute http\(s\) URLs/],
    [{ DEV_TENANT_SPA_WEB_ORIGINS: 'http://localhost:4040/app' }, 'DEV_TENANT_SPA_WEB_ORIGINS', /without a path/],
    [{ DEV_TENANT_SPA_WEB_ORIGINS: '*' }, 'DEV_TENANT_SPA_WEB_ORIGINS', /origin/],
    [{ DEV_TENANT_USERS: 'alice' }, 'DEV_TENANT_USERS', /email addresses/],
    [{ DEV_TENANT_SESSION_LIFETIME_SECONDS: '10' }, 'DEV_TENANT_SESSION_LIFETIME_SECONDS', /60 to/],
    [{ SHUTDOWN_DRAIN_SECONDS: '301' }, 'SHUTDOWN_DRAIN_SECONDS', /0 to 300/],
    [{ SHUTDOWN_DRAIN_SECONDS: '2.5' }, 'SHUTDOWN_DRAIN_SECONDS', /whole number/],
    [{ DPOP: 'on' }, 'DPOP', /one of allowed, required, disabled/],
    [{ DPOP_NONCE: 'yes' }, 'DPOP_NONCE', /one of off, required/],
    [{ DPOP_NONCE: 'required' }, 'DPOP_NONCE_SECRET', /at least 32 characters/],
    [{ DPOP_NONCE_SECRET: 'short' }, 'DPOP_NONCE_SECRET', /at least 32 characters/],
    [{ DPOP_REPLAY_MAX_ENTRIES: '10' }, 'DPOP_REPLAY_MAX_ENTRIES', /1000 to 10000000/],
    [{ DPOP_REPLAY_MAX_PER_KEY: '0' }, 'DPOP_REPLAY_MAX_PER_KEY', /1 to 10000000/],
    [{ DPOP_REPLAY_MAX_PER_KEY: '1000', DPOP_REPLAY_MAX_ENTRIES: '1000' }, 'DPOP_REPLAY_MAX_PER_KEY', /must be less than DPOP_REPLAY_MAX_ENTRIES=1000/],
    [{ API_ORIGIN: 'https://api.example.com/api' }, 'API_ORIGIN', /no path/],
    [{ API_ORIGIN: 'api.example.com' }, 'API_ORIGIN', /origins like/],
    [{ API_ORIGIN: 'https://api.example.com?' }, 'API_ORIGIN', /origins like/],
    [{ API_ORIGIN: 'ftp://api.example.com' }, 'API_ORIGIN', /origins like/],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL', /redis:\/\//],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /redis:\/\//],
    [{ WEB_CONCURRENCY: '2' }, 'REDIS_URL', /WEB_CONCURRENCY=2 with DPOP=allowed needs REDIS_URL .*or set DPOP=disabled/],
    [{ WEB_CONCURRENCY: '4', DPOP: 'required' }, 'WEB_CONCURRENCY', /DPOP=required needs REDIS_URL/],
    [{ METRICS_PORT: '0' }, 'METRICS_PORT', /1 to 65535/],
    [{ METRICS_PORT: 'metrics' }, 'METRICS_PORT', /whole number/],
    [{ METRICS_PORT: '6060' }, 'METRICS_PORT', /must differ from PORT \(both are 6060\)/],
    [{ METRICS_PORT: '7000', PORT: '7000' }, 'METRICS_PORT', /must differ from PORT/],
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
    assert.equal(config.devTenant.host, 'localhost');
    assert.equal(config.devTenant.url, 'http://localhost:7001');
    assert.deepEqual(config.auth.issuers, [
      { issuer: 'http://localhost:7001/', jwksUri: 'http://localhost:7001/.well-known/jwks.json' },
    ]);
    assert.equal(config.auth.audience, DEFAULT_AUDIENCE);
    assert.equal(config.devTenant.keysDir, '/srv/app/.dev-tenant');
    assert.deepEqual(
      config.devTenant.clients.map((client) => client.permissions),
      [[], ['read:admin-messages']],
    );
  });

  it('registers the single-page app and the two users by default, following CLIENT_ORIGIN_URL', () => {
    const devTenant = parseConfig({ CLIENT_ORIGIN_URL: 'http://localhost:5173' }).devTenant;
    assert.ok(devTenant);
    assert.deepEqual(devTenant.spa, {
      clientId: 'hello-world-spa',
      callbackUrls: ['http://localhost:5173/callback'],
      logoutUrls: ['http://localhost:5173'],
      webOrigins: ['http://localhost:5173'],
    });
    assert.deepEqual(
      devTenant.users.map((user) => [user.email, user.permissions]),
      [['user@example.com', []], ['admin@example.com', ['read:admin-messages']]],
    );
    assert.match(devTenant.users[0]?.userId ?? '', /^auth0\|[0-9a-f]{24}$/);
    assert.equal(devTenant.sessionLifetimeSeconds, 259_200);
  });

  it('takes the single-page app URLs and the user lists from DEV_TENANT_ variables', () => {
    const devTenant = parseConfig({
      DEV_TENANT_SPA_CLIENT_ID: 'my-spa',
      DEV_TENANT_SPA_CALLBACK_URLS: 'http://localhost:3000/callback, http://localhost:3000/',
      DEV_TENANT_SPA_LOGOUT_URLS: 'http://localhost:3000',
      DEV_TENANT_SPA_WEB_ORIGINS: 'http://localhost:3000/',
      DEV_TENANT_USERS: 'a@example.com,B@example.com',
      DEV_TENANT_ADMIN_USERS: ',', // a lone comma: none (empty means the default, as everywhere)
    }).devTenant;
    assert.ok(devTenant);
    assert.deepEqual(devTenant.spa, {
      clientId: 'my-spa',
      callbackUrls: ['http://localhost:3000/callback', 'http://localhost:3000/'],
      logoutUrls: ['http://localhost:3000'],
      webOrigins: ['http://localhost:3000'],
    });
    assert.deepEqual(devTenant.users.map((user) => user.email), ['a@example.com', 'b@example.com']);
  });

  const conflicts: [string, Record<string, string>, RegExp][] = [
    ['a user listed twice', { DEV_TENANT_USERS: 'a@example.com', DEV_TENANT_ADMIN_USERS: 'a@example.com' }, /both list a@example\.com/],
    ['the SPA with an M2M client ID', { DEV_TENANT_SPA_CLIENT_ID: 'hello-world-client' }, /DEV_TENANT_SPA_CLIENT_ID must differ/],
    ['no users at all', { DEV_TENANT_USERS: ',', DEV_TENANT_ADMIN_USERS: ',' }, /both empty/],
  ];
  for (const [name, vars, problem] of conflicts) {
    it(`refuses ${name} in one line`, () => {
      assert.throws(() => parseConfig(vars), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(!error.message.includes('\n'));
        assert.match(error.message, problem);
        return true;
      });
    });
  }

  it('refuses the same port for the API and the dev tenant', () => {
    assert.throws(() => parseConfig({ PORT: '7000', DEV_TENANT_PORT: '7000' }), /DEV_TENANT_PORT must differ from PORT \(both are 7000\)/);
  });

  it('refuses the same port for metrics and the dev tenant, only when the dev tenant runs', () => {
    assert.throws(() => parseConfig({ METRICS_PORT: '6061' }), /METRICS_PORT must differ from the dev tenant's ports \(6061\)/);
    assert.equal(parseConfig({ ...REAL, METRICS_PORT: '6061' }).metricsPort, 6061);
  });

  const productionIssuers: [string, Record<string, string>, RegExp | null][] = [
    ['plain http on localhost', { AUTH0_DOMAIN: 'http://localhost:7161' }, /^Invalid configuration: AUTH0_DOMAIN http:\/\/localhost:7161 is not an https issuer \(plain http on loopback\); NODE_ENV=production trusts only https issuers on a public host \(set ALLOW_LOOPBACK_ISSUER=true only to test a production build against a local dev tenant\)$/],
    ['plain http on 127.0.0.1', { AUTH0_DOMAIN: 'http://127.0.0.1:6061' }, /AUTH0_DOMAIN http:\/\/127\.0\.0\.1:6061 is not an https issuer/],
    ['plain http on [::1]', { AUTH0_DOMAIN: 'http://[::1]:6061' }, /AUTH0_DOMAIN http:\/\/\[::1\]:6061 is not an https issuer/],
    ['plain http on 127.1.2.3', { AUTH0_DOMAIN: 'http://127.1.2.3' }, /AUTH0_DOMAIN http:\/\/127\.1\.2\.3 is not an https issuer/],
    ['https on localhost', { AUTH0_DOMAIN: 'https://localhost:7161' }, /AUTH0_DOMAIN https:\/\/localhost:7161 is a loopback issuer/],
    ['a loopback issuer after a real one', { AUTH0_DOMAIN: 'tenant.us.auth0.com,http://localhost:7161' }, /AUTH0_DOMAIN http:\/\/localhost:7161 is not an https issuer/],
    ['ALLOW_LOOPBACK_ISSUER=false', { AUTH0_DOMAIN: 'http://localhost:7161', ALLOW_LOOPBACK_ISSUER: 'false' }, /ALLOW_LOOPBACK_ISSUER=true/],
    ['plain http on loopback with ALLOW_LOOPBACK_ISSUER=true', { AUTH0_DOMAIN: 'http://localhost:7161', ALLOW_LOOPBACK_ISSUER: 'true' }, null],
    ['ALLOW_LOOPBACK_ISSUER=TRUE (any case)', { AUTH0_DOMAIN: 'https://[::1]', ALLOW_LOOPBACK_ISSUER: 'TRUE' }, null],
    ['an https tenant', { AUTH0_DOMAIN: 'https://tenant.us.auth0.com' }, null],
  ];
  for (const [name, vars, problem] of productionIssuers) {
    it(`NODE_ENV=production, ${name}: ${problem === null ? 'starts' : 'refused with one line naming AUTH0_DOMAIN'}`, () => {
      const env = { ...REAL, NODE_ENV: 'production', ...vars };
      if (problem === null) {
        assert.ok(parseConfig(env).production);
        return;
      }
      assert.throws(() => parseConfig(env), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(!error.message.includes('\n'));
        assert.match(error.message, problem);
        return true;
      });
    });
  }

  it('outside production a loopback issuer needs no setting, and ALLOW_LOOPBACK_ISSUER must be true or false', () => {
    assert.doesNotThrow(() => parseConfig({ ...REAL, AUTH0_DOMAIN: 'http://localhost:7161' }));
    assert.throws(() => parseConfig({ ...REAL, ALLOW_LOOPBACK_ISSUER: 'yes' }), /Invalid configuration: ALLOW_LOOPBACK_ISSUER must be true or false, got "yes"$/);
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
