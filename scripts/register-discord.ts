// npm run discord:register: puts the /vibe command on Discord (in one server when
// DISCORD_GUILD_ID is set, which is instant; else globally, which can take up to an hour).
import { REST, Routes } from 'discord.js';
import { vibeCommand } from '../adapters/discord/commands.ts';
import { configOrReport } from '../src/config.ts';

async function main(): Promise<number> {
  const config = configOrReport();
  if (!config) return 2; // bad settings: one message listing each, exit code 2
  const {
    DISCORD_TOKEN: token,
    DISCORD_APPLICATION_ID: appId,
    DISCORD_GUILD_ID: guildId,
    DISCORD_API_URL: api,
  } = config;
  if (!token || !appId) {
    process.stderr.write('Set DISCORD_TOKEN and DISCORD_APPLICATION_ID (see docs/discord.md).\n');
    return 2;
  }
  const rest = new REST(api ? { api } : {}).setToken(token);
  const route = guildId ? Routes.applicationGuildCommands(appId, guildId) : Routes.applicationCommands(appId);
  const saved = (await rest.put(route, { body: [vibeCommand()] })) as { name: string }[];
  process.stdout.write(
    `Registered ${saved.map((c) => `/${c.name}`).join(', ')} ${guildId ? `in server ${guildId}` : 'globally (may take up to an hour to appear)'}.\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`Could not register the commands: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
