import { hostname } from 'node:os';
import type { Config } from './config.js';

/**
 * The one line an operator reads at start-up in production to see what the API trusts: a pino-shaped
 * JSON line (level 30 = info) like every other log line, so log pipelines parse it the same way.
 */
export function startupSummaryLine(config: Config, port: number, now: () => number = Date.now): string {
  return JSON.stringify({
    level: 30,
    time: now(),
    pid: process.pid,
    hostname: hostname(),
    msg: 'api started',
    issuers: config.auth.issuers.map((entry) => entry.issuer),
    audience: config.auth.audience,
    clientOrigin: config.clientOriginUrl,
    workers: config.workers,
    port,
    shutdownDrainSeconds: config.shutdownDrainSeconds,
    dpop: config.dpop.mode,
    dpopOrigins: config.dpop.origins,
    dpopReplayStore: config.dpop.redisUrl === null ? 'memory' : 'redis',
    metricsPort: config.metricsPort,
  });
}

/**
 * Start-up warnings for settings that are valid but likely wrong in production, one line each:
 * DPoP on without API_ORIGIN checks proofs against loopback URLs only, so every real client's
 * proof fails on `htu`.
 */
export function startupWarnings(config: Config): string[] {
  if (config.dpop.mode === 'disabled' || config.dpop.originsConfigured) return [];
  return [
    `warning: API_ORIGIN is not set, so DPoP proofs are accepted only for ${config.dpop.origins.join(', ')}; ` +
      'set API_ORIGIN to the origin clients call (e.g. https://api.example.com), or DPOP=disabled',
  ];
}
