/** Invalid configuration: `message` is one line naming the variable and the problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
}
