import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleOf, profileBuildDir } from '../../bench/lib/cpuprofile.js';

describe('bench:profile module labels', () => {
  const root = '/home/dev/hello-world-api';
  const cases: [string, string, string][] = [
    ['the app bundle built by bench:profile', pathToFileURL(join(profileBuildDir(root), 'server.js')).href, 'app: dist/server.js'],
    ['a dependency', pathToFileURL(join(root, 'node_modules', 'fastify', 'lib', 'route.js')).href, 'fastify'],
    ['a scoped dependency', pathToFileURL(join(root, 'node_modules', '@fastify', 'cors', 'index.js')).href, '@fastify/cors'],
    ['Node internals', 'node:internal/http/server', 'node:http/server'],
  ];
  for (const [name, url, label] of cases) {
    it(`labels ${name} ${label}`, () => {
      assert.equal(moduleOf(url, 'f'), label);
    });
  }
});
