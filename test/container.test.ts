import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { copyBuild } from './helpers/build.js';
import { freePort, startProcess } from './helpers/server-process.js';
import { type TestTenant, startTestTenant } from './helpers/tenant.js';

/**
 * What CI can check of the container files without Docker (no engine, no image pulls here): the
 * Dockerfile is linted and its final stage's CMD and HEALTHCHECK run from a folder laid out as the
 * image's; compose.yaml is parsed and its shutdown budget checked; the Kubernetes objects are
 * validated against the Kubernetes schemas. Building the image is not checked (README "Container").
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFile(join(ROOT, file), 'utf8');

const dockerfileText = await read('Dockerfile');
const dockerfile = DockerfileParser.parse(dockerfileText);
const instructions = dockerfile.getInstructions();
const finalFrom = dockerfile.getFROMs().at(-1);
assert.ok(finalFrom);
/** The instructions of the stage that becomes the image. */
const finalStage = instructions.filter((instruction) => instruction.getRange().start.line > finalFrom.getRange().start.line);
const only = (keyword: string): Instruction[] => finalStage.filter((instruction) => instruction.getKeyword() === keyword);

/** An exec-form command (`["node", "..."]`), which needs no shell in the image. */
function execForm(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  assert.ok(Array.isArray(parsed) && parsed.every((part) => typeof part === 'string'), `exec form: ${text}`);
  return parsed;
}

const cmd = execForm(only('CMD')[0]?.getArgumentsContent() ?? '');
const healthcheck = only('HEALTHCHECK')[0]?.getArgumentsContent() ?? '';
const healthcheckCommand = execForm(healthcheck.slice(healthcheck.indexOf('CMD ') + 'CMD '.length));
const imageEnv: Record<string, string> = Object.fromEntries(
  only('ENV').flatMap((instruction) => instruction.getArguments().map((argument) => argument.getValue().split('=', 2) as [string, string])),
);
const workdir = only('WORKDIR')[0]?.getArgumentsContent() ?? '/';

describe('the Dockerfile', () => {
  it('has no lint problems (dockerfile-utils)', () => {
    assert.deepEqual(validate(dockerfileText).map((problem) => problem.message), []);
  });

  it('the linter reports a broken instruction (the check can fail)', () => {
    assert.notDeepEqual(validate(`${dockerfileText}\nEXPOSE not-a-port\n`), []);
  });

  it('is multi-stage and the image runs as a non-root user', () => {
    assert.ok(dockerfile.getFROMs().length >= 2);
    const user = only('USER').at(-1)?.getArgumentsContent();
    assert.ok(typeof user === 'string' && !['root', '0', '0:0'].includes(user), `USER ${String(user)}`);
  });

  it('copies only the build output from the build stage', () => {
    const copies = only('COPY');
    assert.ok(copies.length > 0);
    for (const copy of copies) {
      assert.ok(copy instanceof Copy);
      assert.equal(copy.getFromFlag()?.getValue(), 'build');
      assert.deepEqual(copy.getArguments().map((argument) => argument.getValue()), ['/app/dist', './dist']);
    }
    assert.deepEqual(only('ADD'), []);
  });

  it('runs `node dist/server.js` in production on 0.0.0.0, with a HEALTHCHECK on /healthz that needs no curl', () => {
    assert.deepEqual(cmd, ['node', 'dist/server.js']);
    assert.equal(imageEnv['NODE_ENV'], 'production');
    assert.equal(imageEnv['HOST'], '0.0.0.0');
    assert.equal(healthcheckCommand[0], 'node');
    assert.match(healthcheckCommand.join(' '), /\/healthz/);
    for (const instruction of instructions) assert.doesNotMatch(instruction.getArgumentsContent() ?? '', /\bcurl\b|\bwget\b/);
  });
});

describe('the image layout, run as the image runs it', () => {
  let tenant: TestTenant;
  let imageRoot: string;
  before(async () => {
    tenant = await startTestTenant();
    // The build stage's result (`npm run build` in /app), then the final stage's COPY into WORKDIR.
    const stageRoot = await mkdtemp(join(tmpdir(), 'hello-api-image-'));
    imageRoot = stageRoot;
    const buildStage = join(stageRoot, 'build-stage');
    await copyBuild(join(buildStage, 'dist'));
    for (const copy of only('COPY')) {
      const [source = '', destination = ''] = copy.getArguments().map((argument) => argument.getValue());
      const target = join(stageRoot, 'image', posix.resolve(workdir, destination));
      await mkdir(join(target, '..'), { recursive: true });
      await cp(join(buildStage, posix.relative('/app', source)), target, { recursive: true });
    }
    await rm(buildStage, { recursive: true, force: true });
  });
  after(async () => {
    await tenant.close();
    await rm(imageRoot, { recursive: true, force: true });
  });

  it('holds dist/ alone: the bundle, its on-demand chunks, source maps and the module marker, no node_modules', async () => {
    const files = (await readdir(join(imageRoot, 'image'), { recursive: true })).map((file) => relative('.', file)).sort();
    const expected = /^app(\/dist(\/(package\.json|server\.js(\.map)?|chunks(\/[\w-]+\.js(\.map)?)?))?)?$/;
    assert.deepEqual(files.filter((file) => !expected.test(file)), []);
    for (const file of ['app/dist/package.json', 'app/dist/server.js', 'app/dist/server.js.map', 'app/dist/chunks']) assert.ok(files.includes(file), file);
    assert.ok(!files.some((file) => file.includes('node_modules')));
  });

  it('starts with the exact CMD, answers its own HEALTHCHECK and /healthz, and stops on SIGTERM with exit 0', async () => {
    const port = String(await freePort());
    const env = {
      ...imageEnv,
      // Only what a deployment sets, plus loopback for the test: the image's HOST is 0.0.0.0.
      HOST: '127.0.0.1',
      PORT: port,
      AUTH0_DOMAIN: tenant.tenant.url,
      AUTH0_AUDIENCE: tenant.config.audience,
      // The test tenant runs on plain-http loopback, which production refuses unless told.
      ALLOW_LOOPBACK_ISSUER: 'true',
      SHUTDOWN_DRAIN_SECONDS: '0',
    };
    const cwd = join(imageRoot, 'image', workdir);
    const [command, ...args] = cmd;
    assert.equal(command, 'node');
    const server = startProcess(process.execPath, args, { cwd, env });
    try {
      await server.waitFor(({ stdout }) => stdout.includes('"msg":"api started"'));
      const [checkCommand, ...checkArgs] = healthcheckCommand;
      assert.equal(checkCommand, 'node');
      await run(process.execPath, checkArgs, { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 });
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.deepEqual(await response.json(), { status: 'ok' });
      assert.equal(await server.stop('SIGTERM'), 0);
      // With the server gone the same HEALTHCHECK fails, so it is not a check that always passes.
      await assert.rejects(run(process.execPath, checkArgs, { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 5_000 }));
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('.dockerignore', () => {
  it('keeps secrets, dev keys and local builds out of the build context', async () => {
    const lines = (await read('.dockerignore')).split('\n').map((line) => line.trim());
    for (const entry of ['.env', '.dev-tenant', 'node_modules', 'dist', '.git']) assert.ok(lines.includes(entry), entry);
  });
});

describe('compose.yaml', () => {
  it('runs the API with Redis and gives it time to drain before Docker kills it', async () => {
    const compose = parse(await read('compose.yaml')) as {
      services: Record<string, { environment?: Record<string, string>; stop_grace_period?: string; depends_on?: Record<string, unknown>; image?: string }>;
    };
    const api = compose.services['api'];
    assert.ok(api && compose.services['redis']);
    assert.equal(api.environment?.['REDIS_URL'], 'redis://redis:6379');
    assert.ok(api.depends_on?.['redis']);
    const drain = Number(api.environment['SHUTDOWN_DRAIN_SECONDS']);
    const grace = Number(/^(\d+)s$/.exec(api.stop_grace_period ?? '')?.[1]);
    // The server gives up 10 s after the drain window; Docker must not kill it before.
    assert.ok(grace > drain + 10, `stop_grace_period ${String(grace)} s > drain ${String(drain)} s + 10 s`);
  });
});

describe('the Kubernetes example', () => {
  const models = { ConfigMap, Deployment, Service } as const;

  async function objects(): Promise<Record<string, unknown>[]> {
    return parseAllDocuments(await read('deploy/k8s/hello-world-api.yaml')).map((document) => document.toJS() as Record<string, unknown>);
  }

  it('validates against the Kubernetes schemas (kubernetes-models)', async () => {
    const all = await objects();
    assert.deepEqual(all.map((object) => object['kind']), ['ConfigMap', 'Deployment', 'Service']);
    for (const object of all) {
      const kind = object['kind'];
      assert.ok(kind === 'ConfigMap' || kind === 'Deployment' || kind === 'Service');
      assert.doesNotThrow(() => { new models[kind](object).validate(); }, kind);
    }
  });

  it('the validator refuses a wrong type (the check can fail)', async () => {
    const deployment = (await objects())[1] as { spec: { replicas: unknown } };
    deployment.spec.replicas = 'two';
    assert.throws(() => { new Deployment(deployment as never).validate(); });
  });

  it('probes /healthz and /readyz, sets resources, runs as non-root and leaves time to drain', async () => {
    const [configMap, deployment] = await objects();
    const d = new Deployment(deployment);
    const pod = d.spec?.template.spec;
    const container = pod?.containers[0];
    assert.ok(pod && container);
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.ok(container.resources?.requests?.['memory'] && container.resources.limits?.['memory']);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container.command, cmd, 'the same command as the image');
    const drain = Number((configMap as { data: Record<string, string> }).data['SHUTDOWN_DRAIN_SECONDS']);
    assert.ok(drain > 0);
    assert.ok((pod.terminationGracePeriodSeconds ?? 30) > drain + 10, 'the kubelet waits for the drain and the close');
  });
});
