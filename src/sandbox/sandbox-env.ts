/**
 * The whole environment of a sandbox process. An allowlist, not a filter: the bot's env holds
 * API keys and tokens (ANTHROPIC_*, SLACK_*, DISCORD_*, MODAL_*), and nothing of it may reach
 * code the model wrote.
 */
export function sandboxEnv(opts: {
  /** The app root as the sandbox sees it. */
  root: string;
  home: string;
  /** Vite's cache dir (default: .vite-cache in the app root). */
  cacheDir?: string;
  base: string;
  /** Vite's own port (inside the sandbox's network namespace when isolated). */
  port: number;
  /** Node's heap cap for every Node process in the sandbox. */
  heapMiB?: number;
  parentEnv?: NodeJS.ProcessEnv;
}): Record<string, string> {
  const parent = opts.parentEnv ?? process.env;
  const env: Record<string, string> = {
    PATH: parent.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    // npm, Vite and friends may write dotfiles to HOME.
    HOME: opts.home,
    NODE_ENV: 'development',
    VIBE_APP_ROOT: opts.root,
    VIBE_BASE: opts.base,
    VIBE_PORT: String(opts.port),
  };
  if (opts.cacheDir) env.VIBE_CACHE_DIR = opts.cacheDir;
  if (opts.heapMiB) env.NODE_OPTIONS = `--max-old-space-size=${opts.heapMiB}`;
  if (parent.LANG) env.LANG = parent.LANG;
  return env;
}
