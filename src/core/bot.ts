import type { AppRuntime } from './apps/app-runtime.ts';
import { MAX_REPAIR_ROUNDS, writeCheckRepair, type BuildResult } from './build/build-loop.ts';
import { zeroUsage } from './limits/usage.ts';
import {
  confirmDeleteCard,
  errorCard,
  exportCard,
  failureCard,
  interruptedCard,
  formatCheckError,
  galleryCard,
  helpCard,
  liveCard,
  OFFLINE_NOTE,
  queuedCard,
  slotWaitCard,
  usageCard,
  truncate,
  versionsCard,
  viewerErrorCard,
  type GalleryEntry,
  type Stage,
} from './chat/cards.ts';
import { checkInstruction, parseCommand, type Command } from './chat/commands.ts';
import { StaleVersionError, UserError } from './errors.ts';
import type { AppLeases } from './apps/app-lease.ts';
import type { BuildJournal } from './apps/build-journal.ts';
import { newId, workspaceOf } from './ids.ts';
import { KeyedQueue } from './apps/keyed-queue.ts';
import type { Publisher } from './apps/publisher.ts';
import { BuildSlots } from './limits/build-slots.ts';
import type { FairUseLimits } from './limits/fair-use.ts';
import { Spending } from './limits/spending.ts';
import { DAY_MS, HOUR_MS, UsageMeter } from './limits/usage-meter.ts';
import type {
  AppPacker,
  BotMetrics,
  ButtonAction,
  Actor,
  Logger,
  Page,
  AppRecord,
  AppStore,
  BuildManifest,
  BuildRecord,
  Card,
  ChangeRequest,
  CheckError,
  CodeModel,
  CodeTurn,
  Conversation,
  MessageRef,
  ModelProgress,
  RenderResult,
  VersionRecord,
} from './ports/index.ts';
import type { ImageAttachment, ModelImage } from './ports/images.ts';
import type { Policy, RequestKind } from './limits/policy.ts';
import { StatusMessage } from './chat/status-message.ts';
import { BuildProgress } from './chat/build-progress.ts';
import { PICTURE_ONLY_CHANGE, PICTURE_ONLY_PROMPT, readImages, withImageNote } from './build/images.ts';
import { withTokensByModel } from './chat/model-tokens.ts';
import { parseRestoreValue } from './chat/actions.ts';
import {
  changeLabel,
  fixRequest,
  readViewerError,
  ViewerErrorNotes,
  type ViewerErrorReport,
} from './flows/viewer-errors.ts';
import { homeView, type HomeRequest, type HomeView } from './flows/home.ts';
import { linkCards } from './flows/link-card.ts';
import { remixApp, type RemixKit } from './flows/remix.ts';
import { Screenshots } from './flows/screenshots.ts';
import { readThread, type ThreadWindow } from './flows/thread-spec.ts';
import type { SharedData } from './ports/shared.ts';
import { resetData, showData } from './flows/data.ts';

/** Everything the core knows about one incoming event. */
export interface ChatContext {
  conv: Conversation;
  actor: Actor;
  channelId: string;
  /** Set when the event happened inside a thread. */
  threadId?: string;
  /** The message whose button was pressed (for in-place updates such as gallery paging). */
  source?: MessageRef;
  /** How this platform's commands are typed, for help (default: `/vibe <text>` forms). */
  usage?: string[];
  /**
   * The platform's id of the incoming event (e.g. "slack:event:Ev1", "discord:message:123"),
   * where the platform may deliver it twice: the core handles each id once.
   */
  eventId?: string;
  /** The event's author is a bot (ourselves included): the core ignores it. */
  fromBot?: boolean;
  /** The message the event is (a thread reply, a shared link), as `ChatMessage.id`: a thread's history stops before it. */
  messageId?: string;
  /** Pictures attached to the message: checked and resized before anything else (core/build/images.ts), never stored. */
  images?: ImageAttachment[];
  /** The message named the bot (a mention): in a thread that is not an app's it gets a hint, not silence. */
  mentioned?: boolean;
}

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

/** How long an interrupted build can be retried. */
const RETRY_KEPT_MS = 7 * 24 * 3600_000;

/** Changes (and exports) that may wait behind the one under way, per app; more are refused. */
export const MAX_QUEUED_CHANGES = 3;

/** Said to a mention in a thread that is not an app's. */
const MENTION_HINT =
  "This thread is not an app's. Mention me in a channel to build an app, or in an app's thread to change it.";

/** How long an event id is remembered for dedupe (platforms retry within minutes). */
const EVENT_DEDUPE_MS = 60 * 60_000;

/** The bot itself: commands, thread replies and button presses, for any chat platform. */
export class VibeBot {
  private readonly queue = new KeyedQueue();
  private readonly building = new Set<string>(); // threads whose first version is being made
  private readonly inflight = new Set<Promise<unknown>>();
  /** Viewers' errors per app version: what was noted, and the latest one (what "Fix it" fixes). In memory. */
  private readonly viewerErrors = new ViewerErrorNotes();
  /** How to speak in a channel outside a request (see `connect`). */
  private readonly outbound = new Set<(channelId: string) => Conversation | undefined>();

  private readonly slots: BuildSlots;
  private readonly meter: UsageMeter;
  private readonly leases?: AppLeases;
  /** Each app's newest screenshot, for link cards and the home. */
  private readonly screenshots: Screenshots;

  constructor(private readonly deps: BotDeps) {
    this.slots = deps.slots ?? new BuildSlots(Number.POSITIVE_INFINITY);
    this.meter = deps.meter ?? new UsageMeter(deps.store, {});
    this.leases = deps.leases;
    this.screenshots = new Screenshots(deps.store);
  }

  /**
   * For an adapter: how the bot posts in one of its channels when no event brought a
   * Conversation (a viewer-error note). `conversationFor` answers undefined for channel ids
   * that are not its platform's. Returns the unregister function.
   */
  connect(conversationFor: (channelId: string) => Conversation | undefined): () => void {
    this.outbound.add(conversationFor);
    return () => void this.outbound.delete(conversationFor);
  }

  /**
   * An uncaught error a viewer's browser hit in the app (from the gateway: bounded, but anyone's
   * words). One note per distinct error per app version, in the app's thread, with "Fix it";
   * nothing for unknown or deleted apps, or while a change to the app is under way (its own
   * checks see its errors, and a creator's live view may show a half-written state).
   */
  viewerError(appId: string, report: ViewerErrorReport): Promise<void> {
    const p = this.noteViewerError(appId, report).catch((err: unknown) =>
      this.deps.logger.warn({ err, appId }, 'a viewer error could not be noted'),
    );
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /** `/vibe <text>`. */
  command(ctx: ChatContext, text: string): Promise<void> {
    const said = text.trim() === '' && ctx.images?.length ? PICTURE_ONLY_PROMPT : text;
    return this.track(ctx, (c) => this.runCommand(c, parseCommand(said)));
  }

  /** An already-parsed command (platforms with structured commands, e.g. Discord's subcommands). */
  dispatch(ctx: ChatContext, cmd: Command): Promise<void> {
    return this.track(ctx, (c) => this.runCommand(c, cmd));
  }

  private async runCommand(c: ChatContext, parsed: Command): Promise<void> {
    // `/vibe` (with or without words) inside an ordinary thread builds from the thread's discussion.
    const discussion = await this.discussionThread(c, parsed);
    const cmd: Command = discussion
      ? { kind: 'create', prompt: parsed.kind === 'create' ? parsed.prompt : '' }
      : parsed;
    // Pictures first: one refused costs nothing (no policy counted, no message, no sandbox).
    const images = cmd.kind === 'create' ? await readImages(c.images) : [];
    if (cmd.kind !== 'invalid' && cmd.kind !== 'retry') {
      // A command in an app's thread acts on that app: the policies see which.
      const named = 'appId' in cmd ? cmd.appId : undefined;
      const appId = named ?? (c.threadId ? (await this.deps.store.appForThread(c.threadId))?.id : undefined);
      await this.admit(c, cmd.kind === 'fix' ? 'refine' : cmd.kind === 'data-reset' ? 'data' : cmd.kind, appId);
    }
    switch (cmd.kind) {
      case 'help':
        return void (await c.conv.ephemeral(helpCard(cmd.reason, c.usage)));
      case 'invalid':
        throw new UserError(cmd.message);
      case 'create':
        return this.create(c, cmd.prompt, discussion, images);
      case 'remix':
        return this.remix(c, await this.resolveApp(c, cmd.appId, 'remix'));
      case 'gallery':
        return this.gallery(c, cmd.cursor);
      case 'mine':
        return this.mine(c, cmd.cursor);
      case 'usage':
        return this.usage(c);
      case 'versions':
        return this.versions(c, await this.resolveApp(c, cmd.appId, 'versions'));
      case 'undo':
        return this.undo(c, await this.resolveApp(c, cmd.appId, 'undo'));
      case 'fix':
        return this.fix(c, await this.resolveApp(c, cmd.appId, 'fix'));
      case 'export':
        return this.export(c, await this.resolveApp(c, cmd.appId, 'export'));
      case 'restore':
        return this.restore(c, await this.resolveApp(c, cmd.appId, `restore ${cmd.version}`), cmd.version);
      case 'delete':
        return this.delete(c, await this.resolveApp(c, cmd.appId, 'delete'), cmd.confirmed);
      case 'retry':
        return this.retry(c, cmd.id);
      // shared state (data-flow.ts)
      case 'data':
        return showData(c, await this.resolveApp(c, cmd.appId, 'data'), this.deps.shared);
      case 'data-reset': {
        const app = await this.resolveApp(c, cmd.appId, 'data reset');
        this.requireOwnerOrManager(c, app, 'reset');
        return resetData(c, app, this.deps, cmd.confirmed);
      }
    }
  }

  /** A human message in a thread. Refines the thread's app; ignores threads that are not apps'. */
  threadMessage(ctx: ChatContext, text: string): Promise<void> {
    return this.track(ctx, async (c) => {
      const threadId = c.threadId;
      if (!threadId) return;
      const trimmed = text.trim() || (c.images?.length ? PICTURE_ONLY_CHANGE : '');
      if (/^\/vibe(\s|$)/.test(trimmed)) return this.runCommand(c, parseCommand(trimmed.slice('/vibe'.length)));
      if (this.building.has(threadId)) {
        await c.conv.reply(threadId, { text: 'Still building the first version; reply again once the link is here.' });
        return;
      }
      const app = await this.deps.store.appForThread(threadId);
      if (!app || app.deleted) {
        // Not an app's thread: stay quiet, unless the bot was named.
        if (c.mentioned) throw new UserError(MENTION_HINT);
        return;
      }
      const bad = checkInstruction(trimmed);
      if (bad) throw new UserError(bad);
      const images = await readImages(c.images);
      await this.admit(c, 'refine', app.id);
      await this.refine(c, app, { kind: 'change', instruction: trimmed }, { thread: true, images });
    });
  }

  /**
   * An ordinary thread (not an app's, not building one) that a `/vibe` or `/vibe <words>` came
   * from, where the platform can read threads: the discussion to build from. Undefined otherwise.
   */
  private async discussionThread(c: ChatContext, cmd: Command): Promise<string | undefined> {
    const threadId = c.threadId;
    if (!threadId || !c.conv.history || !(cmd.kind === 'create' || (cmd.kind === 'help' && cmd.empty)))
      return undefined;
    if (this.building.has(threadId)) throw new UserError('An app is already being built from this thread.');
    return (await this.deps.store.appForThread(threadId)) ? undefined : threadId;
  }

  /**
   * Cards for the app links a message carried (Slack's `link_shared`, a Discord message with
   * links): the Conversation shows them on the message. Nobody asked the bot, so nothing is said
   * when there is nothing to show or something fails (it is logged).
   */
  linkShared(ctx: ChatContext, urls: string[]): Promise<void> {
    const { store, runtime, logger } = this.deps;
    const p = (async () => {
      if (!ctx.conv.unfurl || !(await this.isNew(ctx))) return;
      await this.admit(ctx, 'unfurl');
      const threadLink = ctx.conv.threadLink?.bind(ctx.conv);
      const cards = await linkCards({ store, runtime, screenshots: this.screenshots }, { ...ctx, threadLink }, urls);
      if (cards.length > 0) await ctx.conv.unfurl(cards);
    })().catch((err: unknown) => {
      if (err instanceof UserError) logger.info({ reason: err.message }, 'app links not shown: refused');
      else logger.warn({ err }, 'app links could not be shown');
    });
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  /**
   * A person's home (Slack's App Home): their apps and their channels' apps, paged. `ctx.channelId`
   * is a channel of theirs in the workspace; `channels` are the channels the platform says they are in.
   */
  async home(ctx: ChatContext, channels: string[], at?: HomeRequest['at']): Promise<HomeView> {
    await this.admit(ctx, 'mine');
    const { store, runtime } = this.deps;
    const threadLink = ctx.conv.threadLink?.bind(ctx.conv);
    return homeView(
      { store, runtime, screenshots: this.screenshots },
      { userId: ctx.actor.id, channelId: ctx.channelId, channels, ...(at ? { at } : {}), threadLink },
    );
  }

  /** A button press: `action` and `value` come from a card's actions. */
  action(ctx: ChatContext, action: string, value: string): Promise<void> {
    return this.track(ctx, async (c) => {
      if (action === 'retry') return this.retry(c, value); // admitted as what it runs again
      await this.admit(
        c,
        ACTION_KINDS[action as ButtonAction] ?? 'help',
        ['gallery', 'mine'].includes(action) ? undefined : value.split(':')[0],
      );
      if (action === 'gallery') return this.gallery(c, value || undefined);
      if (action === 'mine') return this.mine(c, value || undefined);
      if (action === 'restore') {
        const { appId, version } = parseRestoreValue(value);
        return this.restore(c, await this.resolveApp(c, appId, 'restore'), version);
      }
      if (action === 'fix') {
        const [appId = '', noteId] = value.split(':');
        return this.fix(c, await this.resolveApp(c, appId, 'fix'), noteId);
      }
      const app = await this.resolveApp(c, value, action);
      switch (action) {
        case 'undo':
          return this.undo(c, app);
        case 'versions':
          return this.versions(c, app);
        case 'export':
          return this.export(c, app);
        case 'delete':
          return this.delete(c, app, false);
        case 'delete-confirm':
          return this.delete(c, app, true);
        case 'remix':
          return this.remix(c, app);
        case 'data-reset': // shared state (data-flow.ts)
        case 'data-reset-confirm':
          this.requireOwnerOrManager(c, app, 'reset');
          return resetData(c, app, this.deps, action === 'data-reset-confirm');
        default:
          throw new UserError(`Unknown button "${action}".`);
      }
    });
  }

  /** Resolves when every request under way has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  // ------------------------------------------------------------------ flows

  /** A new app; `discussion`: the ordinary thread it is built from (its card goes there, not into a new thread). */
  private async create(
    ctx: ChatContext,
    prompt: string,
    discussion?: string,
    images: ModelImage[] = [],
  ): Promise<void> {
    const { runtime, model, store, logger } = this.deps;
    const thread = discussion ? await this.readThread(ctx, discussion, { before: ctx.messageId }) : undefined;
    if (thread?.length === 0 && !prompt)
      throw new UserError('There is nothing in this thread to build from yet: say what the app should do first.');
    const what = discussion
      ? `Building from this thread${prompt ? `: "${truncate(prompt, 50)}"` : ''}`
      : `Building "${truncate(prompt, 60)}"`;
    const ref = discussion
      ? await ctx.conv.reply(discussion, queuedCard(what, 0))
      : await ctx.conv.post(queuedCard(what, 0));
    const threadId = discussion ?? (await ctx.conv.startThread(ref, truncate(prompt, 80)));
    const appId = newId();
    const status = this.status(ctx.conv, ref);
    this.building.add(threadId);
    // Held from boot to the last write: never stopped for room while the model is still writing.
    const release = runtime.hold(appId);
    const untrack = await this.journal(ctx, {
      kind: 'create',
      appId,
      status: ref,
      what,
      text: prompt,
      ...(discussion ? { threadId: discussion } : {}),
    });
    try {
      const { first, built } = await this.build(
        { appId, kind: 'create', ctx },
        what,
        status,
        (onWait) => runtime.boot(appId, undefined, { channel: ctx.channelId }, { wait: true, onWait }),
        (onProgress, signal) => model.generate(prompt, onProgress, signal, thread, images),
      );
      if (built.errors.length > 0) {
        await runtime.stop(appId);
        await status.finish(
          failureCard(
            what,
            `${stillFailing(built.errors)}, so there is no link. Nothing was saved; try rephrasing the prompt. Last errors:`,
            built.errors,
          ),
        );
        return;
      }
      const title =
        built.turn.title?.trim() ||
        first.title?.trim() ||
        truncate(prompt || thread?.at(-1)?.text || 'Untitled app', 40);
      const summary = built.turn.summary?.trim() || first.summary?.trim() || '';
      await store.createApp({
        id: appId,
        channelId: ctx.channelId,
        threadId,
        ownerId: ctx.actor.id,
        ownerName: ctx.actor.name,
        title,
        summary,
        prompt: withImageNote(prompt || `(built from the thread's discussion)`, images),
      });
      try {
        const version = await store.addVersion(appId, {
          files: built.turn.files,
          instruction: withImageNote(prompt, images),
          authorId: ctx.actor.id,
          usage: built.usage,
          model: model.label,
        });
        // Only now is the thread the app's: a create that dies before its first version leaves no mapping.
        await store.setThread(threadId, appId);
        await this.publish(appId, version);
        const app = await runtime.record(appId, version.number);
        logger.info(
          { appId, version: version.number, repairRounds: built.repairRounds, usage: built.usage },
          'app created',
        );
        await status.finish(this.announceVersion(app, version, built.turn.message ?? first.message, built));
      } catch (err) {
        await store
          .deleteApp(appId)
          .catch((e) => logger.error({ err: e, appId }, 'could not roll back a half-created app'));
        throw err;
      }
    } catch (err) {
      await runtime
        .stop(appId)
        .catch((e) => logger.error({ err: e, appId }, 'could not stop the sandbox of a failed create'));
      await status.finish(this.failure(what, err));
    } finally {
      release();
      this.building.delete(threadId);
      await untrack();
    }
  }

  /** A change to the app; `thread`: its request carries the thread's earlier messages since the last version. */
  private async refine(
    ctx: ChatContext,
    app: AppRecord,
    change: ChangeRequest,
    opts: { thread?: boolean; images?: ModelImage[] } = {},
  ): Promise<void> {
    const images = opts.images ?? [];
    const instruction = changeLabel(change);
    const what = `Changing: "${truncate(instruction, 60)}"`;
    this.refuseIfLineFull(app.id, 'refine');
    // Join the queue before posting, so concurrent replies see their true place in line.
    const posted = ctx.conv.reply(app.threadId, queuedCard(what, this.queue.depth(app.id)));
    posted.catch(() => undefined); // awaited in the task; this only marks it handled while queued
    await this.inLine(app.id, async () => {
      const { runtime, model, store, logger } = this.deps;
      const ref = await posted;
      const status = this.status(ctx.conv, ref);
      const release = runtime.hold(app.id);
      const untrack = await this.journal(ctx, {
        kind: 'refine',
        appId: app.id,
        threadId: app.threadId,
        status: ref,
        what,
        text: instruction,
        ...(change.kind === 'fix' ? { report: change.report } : {}),
      });
      let working: VersionRecord | undefined;
      try {
        const fresh = await store.getApp(app.id);
        if (!fresh || fresh.deleted) throw new UserError('This app was deleted.');
        const current = await store.getVersion(app.id, fresh.latestVersion);
        if (!current) throw new Error(`app ${app.id} lacks version ${fresh.latestVersion}`);
        working = current;
        const window = { since: current.createdAt, before: ctx.messageId };
        const thread = opts.thread ? await this.readThread(ctx, app.threadId, window) : undefined;
        const { built } = await this.build(
          { appId: app.id, kind: 'refine', ctx },
          what,
          status,
          (onWait) => runtime.ensure(app.id, { wait: true, onWait }),
          (onProgress, signal) => model.refine(current.files, change, onProgress, signal, thread, images),
        );
        if (built.errors.length > 0) {
          const refused = await runtime.write(app.id, current.files); // put the working version back
          if (refused.length > 0)
            logger.warn({ appId: app.id, refused }, 'the stored version was refused on write-back');
          await status.finish(
            failureCard(
              what,
              `${stillFailing(built.errors, 'The change')}, so it was not applied; the app is unchanged at v${current.number}. Last errors:`,
              built.errors,
            ),
          );
          return;
        }
        // Compare-and-set: only on top of the version this change was made from.
        const version = await store.addVersion(
          app.id,
          {
            files: built.turn.files,
            instruction: withImageNote(instruction, images),
            authorId: ctx.actor.id,
            usage: built.usage,
            model: model.label,
          },
          { expectLatest: current.number },
        );
        runtime.synced(app.id, version.number);
        await this.publish(app.id, version);
        const updated = built.turn.title
          ? await store.updateApp(app.id, { title: built.turn.title, summary: built.turn.summary ?? fresh.summary })
          : fresh;
        logger.info(
          { appId: app.id, version: version.number, repairRounds: built.repairRounds, usage: built.usage },
          'app refined',
        );
        working = undefined; // stored: it is the working version now
        await status.finish(this.announceVersion(updated, version, built.turn.message, built));
      } catch (err) {
        if (err instanceof StaleVersionError) {
          // Another process's change landed first (its lease ran out mid-change): the sandbox
          // gets the store's newest version, and the person an honest answer.
          working = (await store.getVersion(app.id, err.latest).catch(() => undefined)) ?? working;
          err = new UserError(
            `Another change to this app landed while this one was being made (it is at v${err.latest} now), so this one was not applied. Send it again to apply it on top.`,
          );
        }
        // Whatever the sandbox holds now was never stored: viewers get the working version back.
        if (working && runtime.isRunning(app.id))
          await runtime
            .write(app.id, working.files)
            .catch((e) => logger.error({ err: e, appId: app.id }, 'could not put the working version back'));
        await status.finish(this.failure(what, err));
      } finally {
        release();
        await untrack();
      }
    });
  }

  /**
   * The shape every code-writing turn shares: the sandbox (booted or woken) and the model start
   * together, so the sandbox is warm when the code arrives; then the write, check and repair loop.
   * The caller holds the app for the whole of it.
   */
  private async build(
    job: { appId: string; kind: 'create' | 'refine'; ctx: ChatContext },
    what: string,
    status: StatusMessage,
    startSandbox: (onWait: () => void) => Promise<unknown>,
    ask: (onProgress: (p: ModelProgress) => void, signal: AbortSignal) => Promise<CodeTurn>,
  ): Promise<{ first: CodeTurn; built: BuildResult }> {
    const { runtime, model } = this.deps;
    const { appId, ctx } = job;
    // A slot first: neither the model nor a sandbox starts for a build that waits its turn.
    const release = await this.slots.acquire(ctx.actor.id, (place) =>
      status.set(slotWaitCard(what, place, this.deps.limits?.maxConcurrentBuilds)),
    );
    const started = Date.now();
    const spending = new Spending(this.meter, { userId: ctx.actor.id, channelId: ctx.channelId }, model.label, (err) =>
      this.deps.logger.warn({ err, appId }, 'spending could not be counted'),
    );
    const progress = new BuildProgress(status, what, ctx.conv, this.deps.logger);
    const onProgress = this.onModelProgress(progress, spending);
    let outcome: 'live' | 'failed' | 'error' = 'error';
    const abort = new AbortController();
    let sandboxReady = false;
    progress.stage({ stage: 'writing', files: [] });
    const starting = startSandbox(() => progress.stage({ stage: 'waiting' })).then(() => void (sandboxReady = true));
    starting.catch(() => abort.abort()); // no sandbox: stop paying for tokens
    try {
      const first = await ask(onProgress, abort.signal).catch(async (err) => {
        await starting; // a failed start explains the abort
        throw err;
      });
      if (!sandboxReady) progress.stage({ stage: 'starting' });
      await starting;
      const built = await writeCheckRepair({
        first,
        target: {
          write: (files) => runtime.write(appId, files),
          check: () => this.timed('typecheck', () => runtime.check(appId)),
          render: () => this.timed('browser', () => runtime.render(appId)),
        },
        onStage: (s) => progress.stage(s),
        onProgress,
      });
      outcome = built.errors.length > 0 ? 'failed' : 'live';
      return { first, built };
    } catch (err) {
      abort.abort();
      throw err;
    } finally {
      release();
      await progress.end(outcome === 'live'); // the stream ends before the final card lands
      await spending.settled();
      this.deps.metrics?.buildFinished(job.kind, outcome, (Date.now() - started) / 1000);
      // One line per build, whatever became of it: what it cost, and for whom.
      this.deps.logger.info(
        {
          build: {
            kind: job.kind,
            appId,
            userId: ctx.actor.id,
            channelId: ctx.channelId,
            team: workspaceOf(ctx.channelId),
            outcome,
            ms: Date.now() - started,
            model: model.label,
            usage: spending.total,
            tokensByModel: spending.byModel,
            costUsd: spending.costUsd,
          },
        },
        'build usage',
      );
    }
  }

  /** Records a build in the store's journal for as long as it runs (crash recovery); the returned function ends it. */
  private async journal(
    ctx: ChatContext,
    build: Omit<BuildRecord, 'id' | 'startedAt' | 'channelId' | 'actorId'>,
  ): Promise<() => Promise<void>> {
    const journal = this.deps.journal;
    if (!journal) return async () => undefined;
    return journal.track({ ...build, channelId: ctx.channelId, actorId: ctx.actor.id }).catch((err: unknown) => {
      this.deps.logger.warn({ err, appId: build.appId }, 'the build could not be journaled');
      return async () => undefined;
    });
  }

  /**
   * Another bot process died with builds in progress (see BuildJournal): their status messages
   * say so honestly, with a Retry button; a create's half-made app is deleted; the sandboxes they
   * used are no longer the apps' (the caller stops them: see `app.ts`). One process recovers each
   * dead one; a build whose channel no chat here can reach is left for a process that can.
   * Returns the app ids whose sandboxes are strays now.
   */
  async recover(): Promise<Set<string>> {
    const { journal, store, logger } = this.deps;
    const strays = new Set<string>();
    if (!journal) return strays;
    for (const { owner, builds } of await journal.dead()) {
      const lease = await store.acquireLease(`recover:${owner}`, 60_000);
      if (!lease) continue; // another process is on it
      const left: BuildRecord[] = [];
      for (const build of builds) {
        const conv = [...this.outbound].map((f) => f(build.channelId)).find(Boolean);
        if (!conv) {
          left.push(build);
          continue;
        }
        try {
          const app = await store.getApp(build.appId);
          if (build.kind !== 'refine' && app && app.latestVersion === 0) await store.deleteApp(app.id);
          if (build.kind === 'refine' && app?.sandboxId)
            await store.updateApp(app.id, { sandboxId: undefined, sandboxUrl: undefined });
          strays.add(build.appId);
          await store.putNote(`retry:${build.id}`, build, RETRY_KEPT_MS);
          await conv.update(build.status, interruptedCard(build.what, build.id));
          logger.info(
            { owner, build: { id: build.id, kind: build.kind, appId: build.appId } },
            'recovered a build of a process that died',
          );
        } catch (err) {
          logger.warn({ err, owner, buildId: build.id }, 'could not recover a build of a process that died');
          left.push(build);
        }
      }
      if (left.length > 0) await store.setBuilds(owner, left);
      else await store.forgetInstance(owner);
      await store.releaseLease(`recover:${owner}`, lease);
    }
    return strays;
  }

  /** Runs an interrupted build again (its Retry button), once, as the person who presses it. */
  private async retry(ctx: ChatContext, id: string): Promise<void> {
    const { store } = this.deps;
    const build = await store.getNote<BuildRecord>(`retry:${id}`);
    if (!build || build.channelId !== ctx.channelId)
      throw new UserError('There is nothing to retry here: it is too old, or from another channel.');
    if (build.kind === 'create') {
      await this.admit(ctx, 'create');
      if (!(await store.firstSeen(`retried:${id}`, RETRY_KEPT_MS))) throw new UserError('This was retried already.');
      return this.create(ctx, build.text, build.threadId);
    }
    if (build.kind === 'remix') {
      const source = await this.resolveApp(ctx, build.text, 'remix');
      await this.admit(ctx, 'remix', source.id);
      if (!(await store.firstSeen(`retried:${id}`, RETRY_KEPT_MS))) throw new UserError('This was retried already.');
      return this.remix(ctx, source);
    }
    const app = await this.resolveApp(ctx, build.appId, 'retry');
    await this.admit(ctx, 'refine', app.id);
    if (!(await store.firstSeen(`retried:${id}`, RETRY_KEPT_MS))) throw new UserError('This was retried already.');
    return this.refine(
      ctx,
      app,
      build.report ? { kind: 'fix', report: build.report } : { kind: 'change', instruction: build.text },
    );
  }

  /**
   * Runs a change to one app in its line: first in this process's per-app queue (in order), then
   * holding the app's lease in the store, so no other bot process changes it at the same time.
   */
  private inLine<T>(appId: string, task: () => Promise<T>, opts?: { counted: false }): Promise<T> {
    return this.queue.run(appId, () => (this.leases ? this.leases.with(appId, task) : task()), opts);
  }

  /**
   * Publishes a version that was just stored, while its sandbox still serves it. A failed publish
   * costs viewers nothing but a wait: the version stands, and the first view publishes it.
   */
  private async publish(appId: string, version: VersionRecord): Promise<void> {
    const { publisher, logger } = this.deps;
    if (!publisher) return;
    await publisher.publish(appId, version).catch((err: unknown) => {
      logger.warn({ err, appId, version: version.number }, 'the version was not published; its first view will be');
    });
  }

  /**
   * Publishes the app's newest version if it is not (its first view, for an app stored before
   * publishing): in the app's line, so it never races a change to the same app, but once however
   * many viewers ask, and not counted among the changes waiting there (viewers are strangers:
   * their page loads must not fill the line the owner's changes are capped in).
   */
  publishLatest(appId: string): Promise<BuildManifest | undefined> {
    const { publisher } = this.deps;
    if (!publisher) return Promise.resolve(undefined);
    return publisher.publishLatest(appId, (task) => this.inLine(appId, task, { counted: false }));
  }

  /**
   * The tail shared by create, refine, undo, restore and remix: the card of a version that just
   * went live, with the browser check's screenshot (or a footer when no browser checked it). The
   * screenshot is kept as the app's newest (link cards and the home show it).
   */
  private announceVersion(
    app: AppRecord,
    version: VersionRecord,
    given: string | undefined,
    checked: { rendered?: RenderResult; warnings?: CheckError[] },
  ): Card {
    const shot = checked.rendered?.screenshot;
    if (shot) this.keepScreenshot(app.id, version.number, shot);
    const warned = checked.warnings?.[0];
    const note = [
      given ? truncate(given, 300) : undefined,
      warned ? truncate(`The browser console still reports: ${formatCheckError(warned)}`, 300) : undefined,
    ]
      .filter(Boolean)
      .join('\n');
    return liveCard(
      { ...app, latestVersion: version.number },
      version,
      this.deps.runtime.link(app),
      note || undefined,
      {
        screenshot: checked.rendered?.screenshot,
        browserChecked: checked.rendered !== undefined,
      },
    );
  }

  private async restoreVersion(ctx: ChatContext, app: AppRecord, target: number, instruction: string): Promise<void> {
    this.requireOwnerOrManager(ctx, app, instruction);
    await this.inLine(app.id, async () => {
      const { store, runtime } = this.deps;
      const latest = (await store.getApp(app.id))?.latestVersion ?? app.latestVersion;
      const version = await store.getVersion(app.id, target);
      if (!version)
        throw new UserError(`Version ${target} does not exist; this app has versions 1 to ${app.latestVersion}.`);
      const { refused, rendered } = await runtime.pinned(app.id, async () => {
        await runtime.ensure(app.id);
        const refused = await runtime.write(app.id, version.files);
        return { refused, rendered: refused.length > 0 ? undefined : await runtime.render(app.id) };
      });
      if (refused.length > 0)
        throw new UserError(`Version ${target} cannot be restored: ${formatCheckError(refused[0]!)}`);
      // An old version that fails in the browser is still restored (it was asked for), with a warning.
      const broken = rendered?.errors[0];
      const saved = await store
        .addVersion(
          app.id,
          {
            files: version.files,
            instruction,
            authorId: ctx.actor.id,
            usage: zeroUsage(),
            model: 'none',
            basedOn: target,
          },
          { expectLatest: latest },
        )
        .catch((err: unknown) => {
          if (err instanceof StaleVersionError)
            throw new UserError(
              `Another change to this app landed first (it is at v${err.latest} now); nothing was restored.`,
            );
          throw err;
        });
      runtime.synced(app.id, saved.number);
      await runtime.pinned(app.id, () => this.publish(app.id, saved));
      const fresh = (await store.getApp(app.id)) ?? app;
      const note = broken
        ? `Restored v${target} as v${saved.number}, but it fails when opened in a browser: ${formatCheckError(broken)}`
        : `Restored v${target} as v${saved.number}.`;
      await ctx.conv.reply(app.threadId, this.announceVersion(fresh, saved, note, { rendered }));
    });
  }

  private async undo(ctx: ChatContext, app: AppRecord): Promise<void> {
    const latest = await this.deps.store.getVersion(app.id, app.latestVersion);
    const effective = latest?.basedOn ?? app.latestVersion; // undo after undo walks further back
    if (effective <= 1) throw new UserError('Nothing to undo: the app is at its first version.');
    await this.restoreVersion(ctx, app, effective - 1, `undo (back to v${effective - 1})`);
  }

  private async restore(ctx: ChatContext, app: AppRecord, n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1) throw new UserError('Give a version number, for example `/vibe restore 2`.');
    if (n > app.latestVersion)
      throw new UserError(`Version ${n} does not exist; this app has versions 1 to ${app.latestVersion}.`);
    await this.restoreVersion(ctx, app, n, `restore v${n}`);
  }

  /**
   * "Fix it" (the noted error `noteId`) or `/vibe fix` (the latest noted one): a refinement, open
   * to anyone a thread reply is, from an error the thread was shown.
   */
  private async fix(ctx: ChatContext, app: AppRecord, noteId?: string): Promise<void> {
    const error = this.viewerErrors.take(app.id, app.latestVersion, noteId);
    if (!error)
      throw new UserError(
        `No error from a viewer of v${app.latestVersion} is waiting to be fixed (a fix may already be under way, or the bot restarted since). If it happens again, a new note comes with its own Fix it.`,
      );
    await this.refine(ctx, app, fixRequest(error));
  }

  private async noteViewerError(appId: string, report: ViewerErrorReport): Promise<void> {
    const error = readViewerError(report, appId);
    if (!error || this.queue.depth(appId) > 0) return;
    const app = await this.deps.store.getApp(appId);
    if (!app || app.deleted || app.latestVersion === 0) return;
    if (!this.viewerErrors.record(app.id, app.latestVersion, error)) return;
    const conv = [...this.outbound].map((f) => f(app.channelId)).find(Boolean);
    if (!conv) {
      // Said once per error and version: the chats connected do not change while the bot runs.
      this.deps.logger.warn({ appId, channelId: app.channelId }, 'no chat connected for the channel of a viewer error');
      return;
    }
    const out = this.deps.model.offline ? withFooter(conv, OFFLINE_NOTE) : conv;
    try {
      await out.reply(app.threadId, viewerErrorCard(app, error));
    } catch (err) {
      this.viewerErrors.unnote(app.id, error);
      throw err;
    }
    this.deps.logger.info({ appId, version: app.latestVersion }, 'viewer error noted');
  }

  /** `/vibe usage`: the caller's and the channel's use in the current windows, and the limits (private). */
  private async usage(ctx: ChatContext): Promise<void> {
    const who = { userId: ctx.actor.id, channelId: ctx.channelId };
    const used = await this.meter.snapshot(who, [this.deps.model.label]);
    const card = usageCard(used, this.deps.limits ?? {}, {
      hourResets: this.meter.resetsAt(HOUR_MS),
      dayResets: this.meter.resetsAt(DAY_MS),
      now: this.meter.now(),
    });
    await ctx.conv.ephemeral(withTokensByModel(card, used.userByModel));
  }

  /**
   * `/vibe export`: the latest version as a zip in the app's thread (open to anyone who can see
   * the app). Waits for changes under way; the build is made in the app's sandbox, never here.
   */
  private async export(ctx: ChatContext, app: AppRecord): Promise<void> {
    const { store, runtime, logger, packer } = this.deps;
    if (!packer) throw new UserError('This bot cannot export apps.');
    this.refuseIfLineFull(app.id, 'export');
    await this.inLine(app.id, async () => {
      const fresh = await store.getApp(app.id);
      if (!fresh || fresh.deleted) throw new UserError('This app was deleted.');
      const version = await store.getVersion(app.id, fresh.latestVersion);
      if (!version) throw new Error(`app ${app.id} lacks version ${fresh.latestVersion}`);
      const built = await runtime
        .pinned(app.id, async () => {
          await runtime.ensure(app.id);
          return runtime.exportBuild(app.id);
        })
        .catch((err: unknown) => {
          logger.warn({ err, appId: app.id }, 'the export build failed; the zip has the source only');
          return undefined;
        });
      // shared state goes with it as data.json (a failed read leaves it out, never fails the export)
      const data = await this.deps.shared?.exportData(app.id).catch((err: unknown) => {
        logger.warn({ err, appId: app.id }, 'the shared data could not be read; the zip has none');
        return undefined;
      });
      const file = packer.pack(fresh, version, built, data);
      logger.info(
        { appId: app.id, version: version.number, bytes: file.bytes.length, built: Boolean(built) },
        'app exported',
      );
      await ctx.conv.reply(fresh.threadId, exportCard(fresh, version, file, built !== undefined));
    });
  }

  private async versions(ctx: ChatContext, app: AppRecord): Promise<void> {
    const list = await this.deps.store.listVersions(app.id, 10);
    await ctx.conv.ephemeral(versionsCard(app, list));
  }

  private async delete(ctx: ChatContext, app: AppRecord, confirmed: boolean): Promise<void> {
    if (ctx.actor.id !== app.ownerId)
      throw new UserError(`Only the app's owner (${app.ownerName ?? app.ownerId}) can delete it.`);
    if (!confirmed) return void (await ctx.conv.ephemeral(confirmDeleteCard(app)));
    await this.inLine(app.id, async () => {
      // Deleted first: a visit from here on cannot wake it again, and a wake under way checks again before serving.
      await this.deps.store.deleteApp(app.id);
      await this.deps.runtime.stop(app.id);
      // Its shared state goes with it (open pages are closed).
      await this.deps.shared
        ?.remove(app.id)
        .catch((err: unknown) =>
          this.deps.logger.warn({ err, appId: app.id }, 'the shared data of a deleted app was not removed'),
        );
    });
    this.deps.logger.info({ appId: app.id, by: ctx.actor.id }, 'app deleted');
    await ctx.conv.reply(app.threadId, { title: `Deleted "${app.title}"`, text: 'Its link no longer works.' });
  }

  private async gallery(ctx: ChatContext, cursor?: string): Promise<void> {
    const page = await this.deps.store.appsInChannel(ctx.channelId, this.deps.galleryPageSize ?? 5, cursor);
    await this.showApps(ctx, page, 'gallery');
  }

  /** The caller's own apps, in every channel of this workspace or server, paged like the gallery. */
  private async mine(ctx: ChatContext, cursor?: string): Promise<void> {
    // The user index spans every workspace the id was seen in; pages of it are read until this
    // workspace's apps fill one (a few reads at most), so a page is never needlessly short.
    const size = this.deps.galleryPageSize ?? 5;
    const here = workspaceOf(ctx.channelId);
    const first = await this.deps.store.appsOfUser(ctx.actor.id, size, cursor);
    const items = first.items.filter((a) => workspaceOf(a.channelId) === here);
    let next = first.next;
    for (let reads = 1; next && items.length < size && reads < 5; reads++) {
      const more = await this.deps.store.appsOfUser(ctx.actor.id, size, next);
      items.push(...more.items.filter((a) => workspaceOf(a.channelId) === here));
      next = more.next;
    }
    await this.showApps(ctx, { items, next, prev: first.prev }, 'mine');
  }

  private async showApps(ctx: ChatContext, page: Page<AppRecord>, list: 'gallery' | 'mine'): Promise<void> {
    const items: GalleryEntry[] = page.items
      .filter((a) => !a.deleted && a.latestVersion > 0)
      .map((app) => ({
        app,
        live: this.deps.runtime.isRunning(app.id),
        url: this.deps.runtime.link(app).open,
        threadUrl: ctx.conv.threadLink?.(app.threadId),
      }));
    const card = galleryCard({ ...page, items }, list);
    // Only the person who asked sees it, so paging changes nobody else's view and the channel stays quiet.
    if (ctx.source) await ctx.conv.update(ctx.source, card);
    else await ctx.conv.ephemeral(card);
  }

  /** Remix: see flows/remix.ts. */
  private remix(ctx: ChatContext, source: AppRecord): Promise<void> {
    return remixApp(this.remixKit(), ctx, source);
  }

  private remixKit(): RemixKit {
    const { store, runtime, logger, model } = this.deps;
    return {
      store,
      runtime,
      logger,
      conversationFor: (channelId) => {
        const conv = [...this.outbound].map((f) => f(channelId)).find(Boolean);
        return conv && model.offline ? withFooter(conv, OFFLINE_NOTE) : conv;
      },
      status: (conv, ref) => this.status(conv, ref),
      journal: (ctx, build) => this.journal(ctx, build),
      publish: (appId, version) => this.publish(appId, version),
      announce: (app, version, note, checked) => this.announceVersion(app, version, note, checked),
      failure: (what, err) => this.failure(what, err),
      building: this.building,
    };
  }

  // ------------------------------------------------------------------ helpers

  /** The thread's human messages for a model request (see flows/thread-spec.ts). */
  private readThread(ctx: ChatContext, threadId: string, window: ThreadWindow) {
    return readThread(ctx.conv, threadId, window, this.deps.logger);
  }

  /** Keeps a new version's screenshot as the app's newest, in the background (a failure is logged). */
  private keepScreenshot(appId: string, version: number, png: Uint8Array): void {
    const p = this.screenshots
      .keep(appId, version, png)
      .catch((err: unknown) => this.deps.logger.warn({ err, appId, version }, 'the screenshot could not be kept'));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async resolveApp(ctx: ChatContext, appId: string | undefined, what: string): Promise<AppRecord> {
    const app = appId
      ? await this.deps.store.getApp(appId)
      : ctx.threadId
        ? await this.deps.store.appForThread(ctx.threadId)
        : undefined;
    if (!app && !appId) throw new UserError(`Use \`/vibe ${what}\` in an app's thread, or add the app's id.`);
    if (!app || app.deleted) throw new UserError(`There is no app "${appId ?? ''}" (it may have been deleted).`);
    return app;
  }

  private requireOwnerOrManager(ctx: ChatContext, app: AppRecord, what: string): void {
    // Manager rights are the ones held where the app lives: the platform tells them for the
    // channel the request came from, so they count only there (or in the app's thread).
    if (ctx.actor.id === app.ownerId || (ctx.actor.isManager && ctx.channelId === app.channelId)) return;
    throw new UserError(
      `Only the app's owner (${app.ownerName ?? app.ownerId}) or a channel manager can ${what.split(' ')[0]} it.`,
    );
  }

  private status(conv: Conversation, ref: MessageRef): StatusMessage {
    return new StatusMessage(conv, ref, {
      minIntervalMs: this.deps.statusIntervalMs ?? 1000,
      onError: (err) => this.deps.logger.warn({ err }, 'status edit failed'),
    });
  }

  private onModelProgress(progress: BuildProgress, spending: Spending): (p: ModelProgress) => void {
    return (p) => {
      if (p.kind === 'file') progress.stage({ stage: 'writing', files: p.files } satisfies Stage);
      if (p.kind === 'narration') progress.narrate(p.text);
      if (p.kind === 'usage') {
        spending.add(p.usage);
        this.deps.metrics?.tokensUsed(p.usage);
      }
    };
  }

  /** Runs one check of a build, reporting how long it took. */
  private async timed<T>(check: 'typecheck' | 'browser', run: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await run();
    } finally {
      this.deps.metrics?.checkFinished(check, (Date.now() - t0) / 1000);
    }
  }

  /** A failure as a card: UserErrors say what happened; anything else is logged under an id. */
  private failure(what: string, err: unknown): Card {
    if (err instanceof UserError) return failureCard(what, err.message, undefined);
    const id = newId(6);
    this.deps.logger.error({ err, errorId: id }, `${what} failed`);
    return failureCard(what, `Something went wrong on our side (error ${id}). Nothing was saved.`, undefined);
  }

  /** False for events to ignore: written by a bot, or an id already handled (a platform's re-delivery). */
  private async isNew(ctx: ChatContext): Promise<boolean> {
    if (ctx.fromBot) return false;
    if (ctx.eventId && !(await this.deps.store.firstSeen(ctx.eventId, EVENT_DEDUPE_MS))) {
      this.deps.logger.info({ eventId: ctx.eventId }, 'duplicate event ignored');
      return false;
    }
    return true;
  }

  /** Every registered policy, in order, for one request; the first refusal (a UserError) wins. */
  private async admit(ctx: ChatContext, kind: RequestKind, appId?: string): Promise<void> {
    // The per-app line is this process's (the policies cannot see it), and is checked first: a
    // change refused here is not counted as a build. (Checked again where it joins the line.)
    if ((kind === 'refine' || kind === 'export') && appId) this.refuseIfLineFull(appId, kind);
    for (const policy of this.deps.policies ?? []) await policy.admit({ kind, ctx, ...(appId ? { appId } : {}) });
  }

  /**
   * At most MAX_QUEUED_CHANGES requests wait behind the one under way on an app. Exports wait
   * in the same line (each runs a build in the app's sandbox), so a flood of Export presses
   * cannot hold the app's changes up. Called with no await before joining the line.
   */
  private refuseIfLineFull(appId: string, kind: 'refine' | 'export'): void {
    if (this.queue.depth(appId) <= MAX_QUEUED_CHANGES) return;
    throw new UserError(
      kind === 'export'
        ? `This app already has ${MAX_QUEUED_CHANGES} requests waiting behind the one under way. Please ask for the export again once they are done.`
        : `This app already has ${MAX_QUEUED_CHANGES} changes waiting behind the one under way. Please wait for the current changes to finish, then ask again.`,
    );
  }

  /**
   * Runs a handler with what every inbound event needs, once for all platforms: bots ignored,
   * re-delivered events handled once, error reporting, the offline footer, in-flight tracking.
   */
  private track(ctx: ChatContext, handler: (ctx: ChatContext) => Promise<void>): Promise<void> {
    const c = this.deps.model.offline ? { ...ctx, conv: withFooter(ctx.conv, OFFLINE_NOTE) } : ctx;
    const p = this.isNew(ctx)
      .then((fresh) => (fresh ? handler(c) : undefined))
      .catch(async (err: unknown) => {
        const card = err instanceof UserError ? errorCard(err.message) : this.failure('Request', err);
        await c.conv.ephemeral(card).catch((e) => this.deps.logger.error({ err: e }, 'could not report an error'));
      });
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }
}

/** The request kind of each button. */
const ACTION_KINDS: Record<ButtonAction, RequestKind> = {
  gallery: 'gallery',
  mine: 'mine',
  restore: 'restore',
  undo: 'undo',
  versions: 'versions',
  delete: 'delete',
  'delete-confirm': 'delete',
  fix: 'refine',
  export: 'export',
  retry: 'create', // admitted as what it runs again (see retry())
  remix: 'remix',
  home: 'mine', // the adapter pages the home itself (see home()); here only as a stray press
  'data-reset': 'data',
  'data-reset-confirm': 'data',
};

/** Where each Conversation method that sends a card takes it. */
const CARD_ARGUMENT: Partial<Record<keyof Conversation, number>> = { post: 0, update: 1, reply: 1, ephemeral: 0 };

/**
 * `conv` with a footer added to every card sent through it (the offline model's note). A
 * proxy, so every other method of the port (an optional one added later included) passes through.
 */
function withFooter(conv: Conversation, footer: string): Conversation {
  const add = (card: Card): Card => ({ ...card, footer: card.footer ? `${card.footer} · ${footer}` : footer });
  return new Proxy(conv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const at = CARD_ARGUMENT[prop as keyof Conversation];
      return (...args: unknown[]) => {
        if (at !== undefined) args[at] = add(args[at] as Card);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** How a build that kept failing is described: in the browser, or in the type check. */
function stillFailing(errors: CheckError[], what = 'The code'): string {
  return errors.every((e) => e.source === 'browser')
    ? `${what} still failed when opened in a browser after ${MAX_REPAIR_ROUNDS} repair rounds`
    : `${what} still had errors after ${MAX_REPAIR_ROUNDS} repair rounds`;
}
