/**
 * The whole environment of a sandbox process. An allowlist, not a filter: the bot's env holds
 * API keys and tokens (ANTHROPIC_*, SLACK_*, DISCORD_*, MODAL_*), and nothing of it may reach
 * code the model wrote.
 */
export function sandboxEnv(opts: { appDir: string; base: string; port: number; parentEnv?: NodeJS.ProcessEnv }): Record<string, string> {
  const parent = opts.parentEnv ?? process.env;
  const env: Record<string, string> = {
    PATH: parent.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    // npm, Vite and friends may write dotfiles to HOME: keep them in the app dir.
    HOME: `${opts.appDir}/.home`,
    NODE_ENV: 'development',
    VIBE_BASE: opts.base,
    VIBE_PORT: String(opts.port),
  };
  if (parent.LANG) env.LANG = parent.LANG;
  return env;
}
