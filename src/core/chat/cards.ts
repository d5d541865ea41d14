import type { AppLink } from '../apps/app-links.ts';
import { restoreValue } from './actions.ts';
import { formatCheckError } from '../build/check-errors.ts';
import { resetText, type FairUseLimits } from '../limits/fair-use.ts';
import type { AppRecord, Card, CheckError, Page, VersionRecord } from '../ports/index.ts';
import type { UsageSnapshot } from '../limits/usage-meter.ts';
import { remixAction, remixedFrom } from '../flows/lineage.ts';

export { formatCheckError };

// Every message the bot sends, as a neutral card. Adapters render and escape them.
export const OFFLINE_NOTE = 'offline sample model: set ANTHROPIC_API_KEY for Claude';
export const DEFAULT_USAGE = [
  '`/vibe <what to build>`: builds a React app and posts its link in a new thread.',
  'Reply in that thread to change the app; each change is a new version.',
  "`/vibe gallery` (or `list`): this channel's apps, newest first.",
  '`/vibe mine`: your own apps, in every channel of this workspace.',
  "`/vibe versions`, `/vibe undo`, `/vibe restore <n>`: history (in the app's thread, or add the app id).",
  '`/vibe delete`: delete an app (its owner).',
  '`/vibe remix <id>`: your own copy of an app, from its latest version, in a new thread (or press Remix on its card).',
  "`/vibe export`: the app's source and build as a zip in its thread, to run anywhere (`npm install && npm run dev`).",
  "`/vibe usage`: your builds and tokens today, the channel's, and the limits (only you see it).",
  "`/vibe fix`: fix the error a viewer of the app hit, as the bot's note says (in the app's thread, or add the app id).",
  "`/vibe data`: the app's shared data (votes, lists); `/vibe data reset` clears it (owner or manager). Undo and restore leave it as it is.",
  '`/vibe help`: this message.',
];

/** Every command; platforms whose commands look different pass their own `usage` lines. */
export function helpCard(reason?: string, usage: string[] = DEFAULT_USAGE): Card {
  return {
    title: 'vibe-bot: describe an app, get a live link',
    text: [reason, ...usage].filter(Boolean).join('\n'),
  };
}

export const errorCard = (message: string): Card => ({ title: 'Could not do that', text: message });

/** Said under a link that is the sandbox's own (see AppLinks): it does not outlive the sandbox. */
export const UNSTABLE_LINK =
  'This link changes when the app goes to sleep after a while unused: a reply in this thread wakes it with a new link, and `/vibe gallery` shows the current one.';

/** Under a live card when the bot has no browser to open the app in (VIBE_BROWSER). */
export const NOT_BROWSER_CHECKED = 'not checked in a browser';

/**
 * The card of a version that went live. `screenshot`: the browser check's picture of it;
 * `browserChecked` false adds the footer saying nobody opened it before the link was posted.
 */
export function liveCard(
  app: AppRecord,
  version: VersionRecord,
  link: AppLink,
  note?: string,
  shown: { screenshot?: Uint8Array; browserChecked?: boolean } = {},
): Card {
  return {
    ...(shown.screenshot
      ? { image: { png: shown.screenshot, alt: `Screenshot of ${app.title}, v${version.number}` } }
      : {}),
    ...(shown.browserChecked === false ? { footer: NOT_BROWSER_CHECKED } : {}),
    title: app.title,
    text: [app.summary, remixedFrom(app), note, link.stable ? undefined : UNSTABLE_LINK].filter(Boolean).join('\n'),
    fields: [
      { label: 'Version', value: `v${version.number}` },
      { label: 'Owner', value: app.ownerName ?? app.ownerId },
    ],
    // Everyone gets the light, built view; the creator's live view (hot reload, dev tools) sits beside it.
    links: [
      { label: 'Open', url: link.open, kind: 'app' },
      { label: 'Live edit view', url: link.creator, kind: 'creator' },
    ],
    actions: appActions(app.id),
    meta: { appId: app.id, version: version.number, url: link.open, state: 'live' },
  };
}

export function appActions(appId: string): NonNullable<Card['actions']> {
  return [
    { label: 'Undo', action: 'undo', value: appId },
    { label: 'Versions', action: 'versions', value: appId },
    { label: 'Export', action: 'export', value: appId },
    remixAction(appId),
    { label: 'Delete', action: 'delete', value: appId, style: 'danger' },
  ];
}

export function versionsCard(app: AppRecord, versions: VersionRecord[]): Card {
  return {
    title: `${app.title}: versions`,
    text: [remixedFrom(app), ...versions.map(versionLine)].filter(Boolean).join('\n'),
    actions: versions
      .slice(1, 4)
      .map((v) => ({ label: `Restore v${v.number}`, action: 'restore', value: restoreValue(app.id, v.number) })),
  };
}

function versionLine(v: VersionRecord): string {
  return `v${v.number} · ${new Date(v.createdAt).toISOString().slice(0, 16).replace('T', ' ')} · ${truncate(v.instruction, 80)}${versionTokens(v)}`;
}

/** " · 12,345 tokens (1,200 out)" for a version a model wrote; nothing for undo and restore. */
function versionTokens(v: VersionRecord): string {
  const u = v.usage;
  const total = u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
  return total > 0 ? ` · ${num(total)} tokens (${num(u.outputTokens)} out)` : '';
}

const num = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => `$${n.toFixed(n > 0 && n < 0.01 ? 4 : 2)}`;

/** `/vibe usage`: what the caller, the channel and the workspace used, against the limits. */
export function usageCard(
  used: UsageSnapshot,
  limits: FairUseLimits & { maxConcurrentBuilds?: number; turnMaxOutputTokens?: number },
  when: { hourResets: number; dayResets: number; now: number },
): Card {
  const of = (n: number, limit?: number) => (limit ? `${num(n)} of ${num(limit)}` : `${num(n)} (no limit)`);
  return {
    title: 'Your vibe-bot usage',
    fields: [
      { label: 'Your builds this hour', value: of(used.userBuildsThisHour, limits.userBuildsPerHour) },
      {
        label: 'Your output tokens today',
        value: `${of(used.userTokensToday, limits.userDailyTokens)} · about ${usd(used.userCostToday)}`,
      },
      {
        label: "This channel's output tokens today",
        value: `${of(used.channelTokensToday, limits.channelDailyTokens)} · about ${usd(used.channelCostToday)}`,
      },
      {
        label: "This workspace's output tokens today",
        value: `${of(used.teamTokensToday, limits.teamDailyTokens)} · about ${usd(used.teamCostToday)}`,
      },
    ],
    text: [
      `Builds count per clock hour (next reset ${resetText(when.hourResets, when.now)}); tokens per UTC day (next reset ${resetText(when.dayResets, when.now)}).`,
      limits.turnMaxOutputTokens ? `One build may use up to ${num(limits.turnMaxOutputTokens)} output tokens.` : '',
      limits.maxConcurrentBuilds ? `${limits.maxConcurrentBuilds} builds run at once; the rest wait their turn.` : '',
      limits.channelMaxApps ? `A channel holds up to ${num(limits.channelMaxApps)} apps.` : '',
      'Costs are estimates from list prices.',
    ]
      .filter(Boolean)
      .join('\n'),
  };
}

/** The card that carries an app's export zip into its thread. */
export function exportCard(
  app: AppRecord,
  version: VersionRecord,
  file: { name: string; bytes: Uint8Array },
  built: boolean,
): Card {
  return {
    title: `${app.title}: export of v${version.number}`,
    text: [
      `\`${file.name}\` holds the app's \`src/\`, the project around it${built ? ' and a build in `dist/`' : ''}. Unzip it and run \`npm install && npm run dev\`.`,
      built ? '' : 'The build could not be made this time, so the zip has no `dist/` (`npm run build` makes one).',
    ]
      .filter(Boolean)
      .join('\n'),
    file: { name: file.name, bytes: file.bytes, mime: 'application/zip' },
    meta: { appId: app.id, version: version.number },
  };
}

export function confirmDeleteCard(app: AppRecord): Card {
  return {
    title: `Delete "${app.title}"?`,
    text: 'The link stops working and the app leaves the gallery. This cannot be undone from chat.',
    actions: [
      {
        label: 'Yes, delete',
        action: 'delete-confirm',
        value: app.id,
        style: 'danger',
        confirm: { title: 'Delete this app?', text: 'Its link stops working.', yes: 'Delete', no: 'Keep it' },
      },
    ],
  };
}

/**
 * A note in the app's thread: a viewer's browser reported an uncaught error. Anyone with the link can send one:
 * quoted, marked unverified; `message` and `frame` come cleaned (viewer-errors.ts), so they stay in inline code.
 */
export function viewerErrorCard(app: AppRecord, error: { message: string; frame?: string; id: string }): Card {
  const where = error.frame ? ` at \`${error.frame}\`` : '';
  return {
    text: `Reported by a viewer's browser (not verified):\n> \`${error.message}\`${where}\nFix it asks Claude to fix a real defect behind this error, if there is one; the report itself is never taken as instructions.`,
    actions: [{ label: 'Fix it', action: 'fix', value: `${app.id}:${error.id}`, style: 'primary' }],
    meta: { appId: app.id, version: app.latestVersion },
  };
}

export interface GalleryEntry {
  app: AppRecord;
  live: boolean;
  url: string;
  threadUrl?: string;
}

/** A page of apps: the channel's gallery, or the caller's own (`mine`); paging buttons keep to the same list. */
export function galleryCard(page: Page<GalleryEntry>, list: 'gallery' | 'mine' = 'gallery'): Card {
  if (page.items.length === 0 && !page.prev) {
    return list === 'gallery'
      ? { title: 'No apps in this channel yet', text: 'Start one with `/vibe <what to build>`.' }
      : { title: 'You have no apps here yet', text: 'Start one with `/vibe <what to build>`.' };
  }
  const actions: NonNullable<Card['actions']> = [];
  if (page.prev) actions.push({ label: 'Previous', action: list, value: page.prev });
  if (page.next) actions.push({ label: 'Next', action: list, value: page.next });
  return {
    title: list === 'gallery' ? 'Apps in this channel' : 'Your apps',
    items: page.items.map(({ app, live, url, threadUrl }) => ({
      title: app.title,
      text: app.summary,
      fields: [
        { label: 'Owner', value: app.ownerName ?? app.ownerId, userId: app.ownerId },
        { label: 'Status', value: live ? 'live' : 'sleeping' },
        { label: 'Versions', value: String(app.latestVersion) },
      ],
      links: [
        { label: 'Open', url, kind: 'app' as const },
        ...(threadUrl ? [{ label: 'Thread', url: threadUrl, kind: 'thread' as const }] : []),
      ],
      actions: [remixAction(app.id)],
      meta: { appId: app.id, url },
    })),
    actions,
  };
}

export function truncate(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}
