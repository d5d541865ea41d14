import { AppLine } from './apps/app-line.ts';
import type { AppLeases } from './apps/app-lease.ts';
import type { AppRuntime } from './apps/app-runtime.ts';
import type { BuildJournal } from './apps/build-journal.ts';
import type { Publisher } from './apps/publisher.ts';
import { OFFLINE_NOTE } from './chat/cards.ts';
import { StatusMessage } from './chat/status-message.ts';
import { withFooter } from './chat/with-footer.ts';
import { Screenshots } from './flows/screenshots.ts';
import { ViewerErrorNotes } from './flows/viewer-errors.ts';
import { BuildSlots } from './limits/build-slots.ts';
import type { FairUseLimits } from './limits/fair-use.ts';
import type { Policy } from './limits/policy.ts';
import { UsageMeter } from './limits/usage-meter.ts';
import type { AppPacker, AppStore, BotMetrics, CodeModel, Conversation, Logger, MessageRef } from './ports/index.ts';
import type { SharedData } from './ports/shared.ts';

export interface BotDeps {
  store: AppStore;
  model: CodeModel;
  /** Where each app runs, and the links it gets: the bot never sees a sandbox itself. */
  runtime: AppRuntime;
  logger: Logger;
  statusIntervalMs?: number;
  galleryPageSize?: number;
  /** Rules run before every request (see Policy); none by default. */
  policies?: Policy[];
  /** How many builds run at once, and who waits next (default: no limit). */
  slots?: BuildSlots;
  /** Where spending is counted (default: the store's counters, with no prices). */
  meter?: UsageMeter;
  /** Makes `/vibe export`'s zip (none: the bot cannot export). */
  packer?: AppPacker;
  /** Build and check durations and tokens, for monitoring (none by default). */
  metrics?: BotMetrics;
  /** The builds in progress, in the store, for another process to recover if this one dies (none: not recorded). */
  journal?: BuildJournal;
  /** One writer per app across bot processes (none: one process, its per-app queue is enough). */
  leases?: AppLeases;
  /** Stores each new version's build for viewers (none: viewers are served by the sandbox). */
  publisher?: Publisher;
  /** Apps' shared state (`@vibe/shared`): `/vibe data`, reset, and removed or exported with the app. */
  shared?: SharedData;
  /** The limits, as `/vibe usage` shows them (the policies enforce them). */
  limits?: FairUseLimits & { maxConcurrentBuilds?: number; turnMaxOutputTokens?: number };
}

/**
 * What the flows share, made once per bot: the ports and the core's own services. Each flow
 * takes the part it uses (`Pick<BotKit, …>`), so its signature says what it touches.
 */
export interface BotKit {
  store: AppStore;
  model: CodeModel;
  runtime: AppRuntime;
  logger: Logger;
  metrics?: BotMetrics;
  packer?: AppPacker;
  publisher?: Publisher;
  journal?: BuildJournal;
  shared?: SharedData;
  limits?: BotDeps['limits'];
  galleryPageSize: number;
  policies: Policy[];
  slots: BuildSlots;
  meter: UsageMeter;
  /** Each app's line: one change at a time, in order, across processes. */
  line: AppLine;
  /** Each app's newest screenshot, for link cards and the home. */
  screenshots: Screenshots;
  /** Threads whose first version is being made (a reply there is told to wait). */
  building: Set<string>;
  /** Viewers' errors per app version: what was noted, and the latest one (what "Fix it" fixes). In memory. */
  viewerErrors: ViewerErrorNotes;
  /** How the bot speaks in a channel when no event brought a Conversation (see VibeBot.connect). */
  conversationFor(channelId: string): Conversation | undefined;
  /** Work that outlives its request (a screenshot kept, a note posted): awaited by `VibeBot.idle()`. */
  background<T>(work: Promise<T>): Promise<T>;
  /** The status message of a build: edited in place, progress edits coalesced. */
  status(conv: Conversation, ref: MessageRef): StatusMessage;
}

/** The kit for `deps`; `outbound` and `inflight` are the bot's (it registers chats, and waits for work). */
export function makeKit(
  deps: BotDeps,
  outbound: Set<(channelId: string) => Conversation | undefined>,
  inflight: Set<Promise<unknown>>,
): BotKit {
  return {
    ...deps,
    galleryPageSize: deps.galleryPageSize ?? 5,
    policies: deps.policies ?? [],
    slots: deps.slots ?? new BuildSlots(Number.POSITIVE_INFINITY),
    meter: deps.meter ?? new UsageMeter(deps.store, {}),
    line: new AppLine(deps.leases),
    screenshots: new Screenshots(deps.store),
    building: new Set(),
    viewerErrors: new ViewerErrorNotes(),
    conversationFor(channelId) {
      const conv = [...outbound].map((f) => f(channelId)).find(Boolean);
      return conv && deps.model.offline ? withFooter(conv, OFFLINE_NOTE) : conv;
    },
    background(work) {
      inflight.add(work);
      void work.finally(() => inflight.delete(work)).catch(() => undefined);
      return work;
    },
    status(conv, ref) {
      return new StatusMessage(conv, ref, {
        minIntervalMs: deps.statusIntervalMs ?? 1000,
        onError: (err) => deps.logger.warn({ err }, 'status edit failed'),
      });
    },
  };
}
