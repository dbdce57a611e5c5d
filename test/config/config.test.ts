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
    assert.equal(config.metricsPort, null);
  });

  it('reads METRICS_PORT', () => {
    assert.equal(parseConfig({ ...REAL, METRICS_PORT: '9464' }).metricsPort, 9464);
  });

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

  it('refuses the same port for metrics and the dev tenant, only when the dev tenant runs', () => {
    assert.throws(() => parseConfig({ METRICS_PORT: '6061' }), /METRICS_PORT must differ from DEV_TENANT_PORT \(both are 6061\)/);
    assert.equal(parseConfig({ ...REAL, METRICS_PORT: '6061' }).metricsPort, 6061);
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
