import { DiscordApiError } from './api-error.ts';
import type { ApplicationCommands } from './commands.ts';
import type { InteractionBook } from './interactions.ts';
import { checkMessageBody } from './message-limits.ts';
import { isEphemeral, type DiscordState, type UploadedFile } from './state.ts';

/** What a route handler may touch. */
export interface RouteContext {
  state: DiscordState;
  interactions: InteractionBook;
  commands: ApplicationCommands;
  gatewayUrl: string;
  params: string[];
  query: Record<string, string>;
  body: any;
  /** Files of a multipart request, in form order. */
  files: UploadedFile[];
}

/** 204 No Content when `json` is undefined. */
export interface RouteResult {
  status?: number;
  json?: unknown;
}

export interface Route {
  method: string;
  /** Matched against the path after `/api/v10`; capture groups become `params`. */
  pattern: RegExp;
  /** Bot routes want `Authorization: Bot <token>`; interaction callbacks and webhooks take none. */
  auth: boolean;
  handle: (ctx: RouteContext) => RouteResult;
}

const ID = '(\\d+)';
const TOKEN = '([^/]+)';
const route = (method: string, path: string, auth: boolean, handle: Route['handle']): Route => ({
  method,
  pattern: new RegExp(`^${path}$`),
  auth,
  handle,
});

/** `uploads`: how many files came with the request (a message of files alone is not empty). */
function checked(body: Record<string, any>, kind: 'create' | 'edit', uploads = 0): Record<string, any> {
  const error = checkMessageBody(body ?? {}, kind, uploads);
  if (error) throw error;
  return body ?? {};
}

function ownMessage(ctx: RouteContext, channelId: string, messageId: string): void {
  if (ctx.state.getMessage(channelId, messageId).author.id !== ctx.state.fixture.bot.id) {
    throw new DiscordApiError(403, 50005, 'Cannot edit a message authored by another user');
  }
}

export const ROUTES: Route[] = [
  // -------------------------------------------------------------- gateway and identity
  route('GET', '/gateway/bot', true, (ctx) => ({
    json: {
      url: ctx.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    },
  })),
  route('GET', '/gateway', false, (ctx) => ({ json: { url: ctx.gatewayUrl } })),
  route('GET', '/users/@me', true, (ctx) => ({ json: ctx.state.fixture.bot })),
  route('GET', '/(?:oauth2/)?applications/@me', true, (ctx) => ({ json: application(ctx) })),

  // -------------------------------------------------------------- interactions
  route('POST', `/interactions/${ID}/${TOKEN}/callback`, false, (ctx) => {
    const [id, token] = ctx.params as [string, string];
    const response = ctx.interactions.respond(id, token, ctx.body ?? {}, ctx.files);
    // Without `with_response=true` Discord answers 204.
    return ctx.query.with_response === 'true' ? { json: response } : {};
  }),
  route('GET', `/webhooks/${ID}/${TOKEN}/messages/(@original|\\d+)`, false, (ctx) => {
    const [app, token, ref] = ctx.params as [string, string, string];
    const interaction = ctx.interactions.byWebhook(app, token);
    return { json: ctx.interactions.getMessage(interaction, ref) };
  }),
  route('PATCH', `/webhooks/${ID}/${TOKEN}/messages/(@original|\\d+)`, false, (ctx) => {
    const [app, token, ref] = ctx.params as [string, string, string];
    const interaction = ctx.interactions.byWebhook(app, token);
    return { json: ctx.interactions.editMessage(interaction, ref, ctx.body ?? {}, ctx.files) };
  }),
  route('DELETE', `/webhooks/${ID}/${TOKEN}/messages/(@original|\\d+)`, false, (ctx) => {
    const [app, token, ref] = ctx.params as [string, string, string];
    ctx.interactions.deleteMessage(ctx.interactions.byWebhook(app, token), ref);
    return {};
  }),
  route('POST', `/webhooks/${ID}/${TOKEN}`, false, (ctx) => {
    const [app, token] = ctx.params as [string, string];
    const message = ctx.interactions.followUp(ctx.interactions.byWebhook(app, token), ctx.body ?? {}, ctx.files);
    return ctx.query.wait === 'true' ? { json: message } : {};
  }),

  // -------------------------------------------------------------- channels and messages
  route('GET', `/channels/${ID}`, true, (ctx) => ({ json: ctx.state.requireChannel(ctx.params[0]!) })),
  route('POST', `/channels/${ID}/typing`, true, (ctx) => {
    ctx.state.requireChannel(ctx.params[0]!);
    return {};
  }),
  route('GET', `/channels/${ID}/messages`, true, (ctx) => {
    ctx.state.requireChannel(ctx.params[0]!);
    const limit = Math.min(Number(ctx.query.limit ?? 50), 100);
    // Newest first, as Discord lists them; ephemeral messages are nobody's history.
    const list = ctx.state
      .messages(ctx.params[0]!)
      .filter((m) => !isEphemeral(m))
      .reverse()
      .slice(0, limit);
    return { json: list.map(({ edits: _e, history: _h, files: _f, ...m }) => m) };
  }),
  route('POST', `/channels/${ID}/messages`, true, (ctx) => ({
    json: ctx.state.createMessage(ctx.params[0]!, checked(ctx.body, 'create', ctx.files.length), { files: ctx.files }),
  })),
  route('GET', `/channels/${ID}/messages/${ID}`, true, (ctx) => ({
    json: ctx.state.getMessage(ctx.params[0]!, ctx.params[1]!),
  })),
  route('PATCH', `/channels/${ID}/messages/${ID}`, true, (ctx) => {
    const [channelId, messageId] = ctx.params as [string, string];
    ownMessage(ctx, channelId, messageId);
    return { json: ctx.state.editMessage(channelId, messageId, checked(ctx.body, 'edit'), ctx.files) };
  }),
  route('DELETE', `/channels/${ID}/messages/${ID}`, true, (ctx) => {
    ctx.state.deleteMessage(ctx.params[0]!, ctx.params[1]!);
    return {};
  }),
  route('POST', `/channels/${ID}/messages/${ID}/threads`, true, (ctx) => {
    const name = ctx.body?.name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 100) {
      throw new DiscordApiError(400, 50035, 'Invalid Form Body', {
        name: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }] },
      });
    }
    return { status: 201, json: ctx.state.startThreadFromMessage(ctx.params[0]!, ctx.params[1]!, ctx.body) };
  }),

  // -------------------------------------------------------------- application commands
  route('PUT', `/applications/${ID}/commands`, true, (ctx) => ({ json: ctx.commands.overwrite(commandList(ctx)) })),
  route('GET', `/applications/${ID}/commands`, true, (ctx) => ({ json: appCommands(ctx).list() })),
  route('PUT', `/applications/${ID}/guilds/${ID}/commands`, true, (ctx) => ({
    json: ctx.commands.overwrite(commandList(ctx), ctx.params[1]!),
  })),
  route('GET', `/applications/${ID}/guilds/${ID}/commands`, true, (ctx) => ({
    json: appCommands(ctx).list(ctx.params[1]!),
  })),
];

function appCommands(ctx: RouteContext): ApplicationCommands {
  if (ctx.params[0] !== ctx.state.fixture.applicationId) throw new DiscordApiError(403, 50001, 'Missing Access');
  return ctx.commands;
}

function commandList(ctx: RouteContext): Record<string, any>[] {
  appCommands(ctx);
  if (!Array.isArray(ctx.body))
    throw new DiscordApiError(400, 50035, 'Invalid Form Body', {
      _errors: [{ code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' }],
    });
  return ctx.body;
}

function application(ctx: RouteContext): Record<string, unknown> {
  const f = ctx.state.fixture;
  return {
    id: f.applicationId,
    name: f.bot.username,
    icon: null,
    description: '',
    summary: '',
    type: null,
    bot: f.bot,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: 0,
    team: null,
    owner: f.user,
    approximate_guild_count: 1,
    install_params: { scopes: ['bot', 'applications.commands'], permissions: '0' },
    integration_types_config: { '0': {} },
  };
}
