import {
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { createCommand, type Command } from '../../src/core/chat/commands.ts';
import { isAppId } from '../../src/core/ids.ts';

// Discord cannot mix a bare option with subcommands, so `/vibe` has subcommands only:
// `/vibe create prompt:<text>` builds; the rest mirror the other platforms' `/vibe <word>`.

export function vibeCommand(): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return new SlashCommandBuilder()
    .setName('vibe')
    .setDescription('Build a web app from a sentence, and change it by replying in its thread')
    .addSubcommand((s) =>
      s
        .setName('create')
        .setDescription('Build a new app')
        .addStringOption((o) =>
          o
            .setName('prompt')
            .setDescription('What to build, e.g. a pomodoro timer with a dark theme')
            .setRequired(true)
            .setMaxLength(4000),
        )
        .addAttachmentOption((o) =>
          o
            .setName('image')
            .setDescription('A screenshot or mockup to build from (PNG, JPEG, GIF or WebP; 10 MB at most)'),
        ),
    )
    .addSubcommand((s) => s.setName('gallery').setDescription("This channel's apps, newest first"))
    .addSubcommand((s) => s.setName('mine').setDescription('Your own apps, in every channel of this server'))
    .addSubcommand((s) =>
      s.setName('usage').setDescription('Your builds and tokens today, and the limits (only you see it)'),
    )
    .addSubcommand((s) => s.setName('help').setDescription('How to use vibe-bot'))
    .addSubcommand((s) => s.setName('versions').setDescription("The app's history (use it in the app's thread)"))
    .addSubcommand((s) => s.setName('undo').setDescription('Go back one version (owner or Manage Messages)'))
    .addSubcommand((s) =>
      s
        .setName('restore')
        .setDescription('Make an earlier version current again (owner or Manage Messages)')
        .addIntegerOption((o) =>
          o.setName('version').setDescription('Version number').setRequired(true).setMinValue(1),
        ),
    )
    .addSubcommand((s) => s.setName('export').setDescription("The app's source and build as a zip (in its thread)"))
    .addSubcommand((s) => s.setName('delete').setDescription('Delete the app (its owner)'))
    .addSubcommand((s) =>
      s
        .setName('remix')
        .setDescription('Your own copy of an app, from its latest version, in a new thread')
        .addStringOption((o) =>
          o.setName('app').setDescription("The app's id (in its links)").setRequired(true).setMaxLength(32),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName('data')
        .setDescription("The app's shared data: size and items (use it in the app's thread)")
        .addBooleanOption((o) => o.setName('reset').setDescription('Clear it (owner or Manage Messages)')),
    )
    .toJSON();
}

export const DISCORD_USAGE = [
  '`/vibe create prompt:<what to build>` (add `image:` for a screenshot to build from), or mention me with your words and pictures: builds a React app and posts its link in a new thread.',
  'Write in that thread to change the app, pictures included; each change is a new version.',
  "`/vibe gallery`: this channel's apps, newest first.",
  '`/vibe mine`: your own apps, in every channel of this server.',
  "`/vibe usage`: your builds and tokens today, the channel's, and the limits (only you see it).",
  "`/vibe versions`, `/vibe undo`, `/vibe restore version:<n>`: history (in the app's thread).",
  "`/vibe export`: the app's source and build as a zip (in its thread).",
  '`/vibe delete`: delete an app (its owner; in its thread).',
  '`/vibe remix app:<id>`: your own copy of an app, in a new thread (or press Remix on its card).',
  "`/vibe create` inside an ordinary thread builds an app from the thread's discussion, and posts it there.",
  "`/vibe data`, `/vibe data reset:True`: the app's shared data, and clearing it (owner or Manage Messages). Undo and restore leave it as it is.",
  '`/vibe help`: this message.',
];

/** The core command for a `/vibe` interaction. */
export function commandFromInteraction(it: ChatInputCommandInteraction): Command {
  const sub = it.options.getSubcommand(false);
  switch (sub) {
    case 'create':
      return createCommand(it.options.getString('prompt') ?? '');
    case 'gallery':
      return { kind: 'gallery' };
    case 'mine':
      return { kind: 'mine' };
    case 'usage':
      return { kind: 'usage' };
    case 'versions':
      return { kind: 'versions' };
    case 'undo':
      return { kind: 'undo' };
    case 'restore':
      return { kind: 'restore', version: it.options.getInteger('version') ?? 0 };
    case 'export':
      return { kind: 'export' };
    case 'delete':
      return { kind: 'delete', confirmed: false };
    case 'remix': {
      const appId = (it.options.getString('app') ?? '').trim().toLowerCase();
      return isAppId(appId)
        ? { kind: 'remix', appId }
        : { kind: 'invalid', message: `"${appId}" is not an app id (every link of the app carries its id).` };
    }
    case 'data':
      return it.options.getBoolean('reset') ? { kind: 'data-reset', confirmed: false } : { kind: 'data' };
    default:
      return { kind: 'help', reason: sub && sub !== 'help' ? `Unknown command "${sub}".` : undefined };
  }
}
