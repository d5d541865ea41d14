import { createHmac, randomUUID } from 'node:crypto';

/**
 * What Slack sends an app: signed HTTP requests (v0 HMAC signature) and the real payload shapes of
 * slash commands, block actions and Events API callbacks. The payload objects are also what a
 * Socket Mode envelope carries, so `fake.socket.sendEnvelope({ type, payload })` takes them as is.
 */

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/** Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`. */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestamp = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestamp) };
}

export interface BoltRequest {
  /** form: `application/x-www-form-urlencoded` (commands, interactivity); json: Events API. */
  kind: 'form' | 'json';
  /** A raw string is sent as is; an object is encoded for `kind`. */
  body: string | Record<string, unknown>;
  /** Unix seconds used in the signature; default now (set it 10 minutes back to test staleness). */
  timestamp?: number;
  /** Extra or overriding headers (e.g. `x-slack-retry-num`, or a forged signature). */
  headers?: Record<string, string>;
}

export interface BoltResponse {
  status: number;
  text: string;
  /** Time from sending to the full response, in milliseconds. */
  ms: number;
}

/** Signs and POSTs a request to a Bolt HTTP endpoint (e.g. http://127.0.0.1:PORT/slack/events). */
export async function postToBolt(url: string, signingSecret: string, request: BoltRequest): Promise<BoltResponse> {
  const raw = encodeBody(request);
  // Bolt compares content-type exactly: a `; charset=…` suffix would make it parse a form as JSON.
  const contentType = request.kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
  const headers = {
    'content-type': contentType,
    ...signSlackRequest(signingSecret, raw, request.timestamp),
    ...request.headers,
  };
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: raw });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

function encodeBody(request: BoltRequest): string {
  if (typeof request.body === 'string') return request.body;
  if (request.kind === 'json') return JSON.stringify(request.body);
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(request.body)) {
    if (value !== undefined) form.append(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return form.toString();
}

// ------------------------------------------------------------------ payloads

const DEFAULTS = {
  token: 'fake-verification-token',
  team_id: 'T0FAKE',
  team_domain: 'fake-team',
  api_app_id: 'A0FAKE',
  channel_id: 'C0FAKE',
  channel_name: 'general',
  user_id: 'U0USER',
  user_name: 'alice',
};

/** A trigger id in Slack's format (`<digits>.<digits>.<hex>`). */
export function fakeTriggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e12)}.${randomUUID().replace(/-/g, '')}`;
}

export interface SlashCommandInput {
  text: string;
  /** Use `fake.responseUrl(...)`: Bolt's respond() POSTs here. */
  response_url: string;
  command?: string;
  team_id?: string;
  team_domain?: string;
  channel_id?: string;
  channel_name?: string;
  user_id?: string;
  user_name?: string;
  api_app_id?: string;
  trigger_id?: string;
}

/** The form fields of a slash command (Bolt's `SlashCommand`); every value is a string, as on the wire. */
export function slashCommand(input: SlashCommandInput): Record<string, string> {
  return {
    token: DEFAULTS.token,
    team_id: input.team_id ?? DEFAULTS.team_id,
    team_domain: input.team_domain ?? DEFAULTS.team_domain,
    channel_id: input.channel_id ?? DEFAULTS.channel_id,
    channel_name: input.channel_name ?? DEFAULTS.channel_name,
    user_id: input.user_id ?? DEFAULTS.user_id,
    user_name: input.user_name ?? DEFAULTS.user_name,
    command: input.command ?? '/vibe',
    text: input.text,
    api_app_id: input.api_app_id ?? DEFAULTS.api_app_id,
    is_enterprise_install: 'false',
    response_url: input.response_url,
    trigger_id: input.trigger_id ?? fakeTriggerId(),
  };
}

export interface ButtonClick {
  action_id: string;
  block_id?: string;
  value?: string;
  /** The button's label. Default: the action id. */
  text?: string;
}

export interface BlockActionsInput {
  actions: ButtonClick[];
  /** ts of the message holding the buttons. */
  message_ts: string;
  response_url: string;
  /** The message as the app posted it; Slack omits `message` for ephemeral containers. */
  message?: { text?: string; blocks?: unknown[]; user?: string; thread_ts?: string };
  is_ephemeral?: boolean;
  channel_id?: string;
  channel_name?: string;
  user_id?: string;
  user_name?: string;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  trigger_id?: string;
}

/** A `block_actions` payload for button clicks (Bolt's `BlockAction<ButtonAction>`). */
export function blockActions(input: BlockActionsInput): Record<string, unknown> {
  const team_id = input.team_id ?? DEFAULTS.team_id;
  const channel_id = input.channel_id ?? DEFAULTS.channel_id;
  const isEphemeral = input.is_ephemeral ?? false;
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  const message = input.message ?? {};
  return {
    type: 'block_actions',
    user: {
      id: input.user_id ?? DEFAULTS.user_id,
      username: input.user_name ?? DEFAULTS.user_name,
      name: input.user_name ?? DEFAULTS.user_name,
      team_id,
    },
    api_app_id: input.api_app_id ?? DEFAULTS.api_app_id,
    token: DEFAULTS.token,
    container: {
      type: 'message',
      message_ts: input.message_ts,
      channel_id,
      is_ephemeral: isEphemeral,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    },
    trigger_id: input.trigger_id ?? fakeTriggerId(),
    team: { id: team_id, domain: input.team_domain ?? DEFAULTS.team_domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel_id, name: input.channel_name ?? DEFAULTS.channel_name },
    ...(isEphemeral
      ? {}
      : {
          message: {
            type: 'message',
            user: message.user ?? 'U0BOT',
            ts: input.message_ts,
            text: message.text ?? '',
            team: team_id,
            ...(message.blocks ? { blocks: message.blocks } : {}),
            ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
          },
        }),
    state: { values: {} },
    response_url: input.response_url,
    actions: input.actions.map((a) => ({
      action_id: a.action_id,
      block_id: a.block_id ?? randomUUID().slice(0, 5),
      text: { type: 'plain_text', text: a.text ?? a.action_id, emoji: true },
      ...(a.value !== undefined ? { value: a.value } : {}),
      type: 'button',
      action_ts: actionTs,
    })),
  };
}

export interface MessageEventInput {
  channel: string;
  user?: string;
  text?: string;
  /** Default: a fresh ts (use `fake.nextTs()` to interleave with bot messages). */
  ts?: string;
  thread_ts?: string;
  /** Set (with user = the bot user) for the bot's own messages, which a bot must ignore. */
  bot_id?: string;
  subtype?: string;
  channel_type?: 'channel' | 'group' | 'im' | 'mpim';
  [key: string]: unknown;
}

export interface EventCallbackInput {
  /** A message event (defaults filled in) or any other event object with a `type`. */
  event: MessageEventInput | ({ type: string } & Record<string, unknown>);
  team_id?: string;
  api_app_id?: string;
  event_id?: string;
  event_time?: number;
  /** The bot user the event is authorized for (`authorizations[0].user_id`). Default U0BOT. */
  authorized_user_id?: string;
}

/** An Events API `event_callback` envelope (Bolt's `EnvelopedEvent`), as Slack POSTs it as JSON. */
export function eventCallback(input: EventCallbackInput): Record<string, unknown> {
  const team_id = input.team_id ?? DEFAULTS.team_id;
  const event =
    'type' in input.event && input.event.type !== 'message'
      ? { ...input.event }
      : messageEvent(input.event as MessageEventInput, team_id);
  const serial = randomUUID().replace(/-/g, '').slice(0, 9).toUpperCase();
  return {
    token: DEFAULTS.token,
    team_id,
    context_team_id: team_id,
    context_enterprise_id: null,
    api_app_id: input.api_app_id ?? DEFAULTS.api_app_id,
    event,
    type: 'event_callback',
    event_id: input.event_id ?? `Ev0${serial}`,
    event_time: input.event_time ?? Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id,
        user_id: input.authorized_user_id ?? 'U0BOT',
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${serial}`,
  };
}

function messageEvent(input: MessageEventInput, team_id: string): Record<string, unknown> {
  const ts = input.ts ?? `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'message',
    ...(input.user === undefined && input.bot_id === undefined ? { user: DEFAULTS.user_id } : {}),
    text: '',
    team: team_id,
    channel_type: 'channel',
    ...(input.bot_id === undefined && input.subtype === undefined ? { client_msg_id: randomUUID() } : {}),
    ...input,
    ts,
    event_ts: ts,
  };
}

export interface LinkSharedInput {
  channel: string;
  user: string;
  /** The message the links are in (its ts from `fake.postAsPerson`). */
  message_ts: string;
  links: string[];
  thread_ts?: string;
  /** `composer`: the links are still being typed (Slack then names them by `unfurl_id`). */
  source?: 'conversations_history' | 'composer';
  unfurl_id?: string;
}

/** A `link_shared` event: links of the app's unfurl domains in a message (Slack's shape, `domain` from each URL). */
export function linkSharedEvent(input: LinkSharedInput): { type: string } & Record<string, unknown> {
  return {
    type: 'link_shared',
    channel: input.channel,
    is_bot_user_member: true,
    user: input.user,
    message_ts: input.message_ts,
    ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
    unfurl_id: input.unfurl_id ?? `${input.channel}.${input.message_ts}.${randomUUID().replace(/-/g, '')}`,
    source: input.source ?? 'conversations_history',
    links: input.links.map((url) => ({ domain: new URL(url).hostname, url })),
    event_ts: input.message_ts,
  };
}

/** An `app_home_opened` event: `user` opened the app's Home tab (or its Messages tab). */
export function appHomeOpenedEvent(input: {
  user: string;
  channel?: string;
  tab?: 'home' | 'messages';
}): { type: string } & Record<string, unknown> {
  return {
    type: 'app_home_opened',
    user: input.user,
    channel: input.channel ?? `D0${input.user.slice(1)}`,
    tab: input.tab ?? 'home',
    event_ts: `${(Date.now() / 1000).toFixed(6)}`,
  };
}

/** `block_actions` from a button in a view (the App Home): a `view` container, no channel, no response URL. */
export function viewBlockActions(input: {
  actions: ButtonClick[];
  view: { id: string; private_metadata?: string; blocks?: unknown[] };
  user_id?: string;
  user_name?: string;
  team_id?: string;
}): Record<string, unknown> {
  const team_id = input.team_id ?? DEFAULTS.team_id;
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'block_actions',
    user: {
      id: input.user_id ?? DEFAULTS.user_id,
      username: input.user_name ?? DEFAULTS.user_name,
      name: input.user_name ?? DEFAULTS.user_name,
      team_id,
    },
    api_app_id: DEFAULTS.api_app_id,
    token: DEFAULTS.token,
    container: { type: 'view', view_id: input.view.id },
    trigger_id: fakeTriggerId(),
    team: { id: team_id, domain: DEFAULTS.team_domain },
    enterprise: null,
    is_enterprise_install: false,
    view: {
      id: input.view.id,
      team_id,
      type: 'home',
      blocks: input.view.blocks ?? [],
      private_metadata: input.view.private_metadata ?? '',
      callback_id: '',
      state: { values: {} },
      hash: `${Date.now()}.abc`,
      app_id: DEFAULTS.api_app_id,
      bot_id: 'B0BOT',
    },
    actions: input.actions.map((a) => ({
      action_id: a.action_id,
      block_id: a.block_id ?? randomUUID().slice(0, 5),
      text: { type: 'plain_text', text: a.text ?? a.action_id, emoji: true },
      ...(a.value !== undefined ? { value: a.value } : {}),
      type: 'button',
      action_ts: actionTs,
    })),
  };
}

export interface AppMentionInput {
  channel: string;
  /** The whole text, the mention included, e.g. `<@U0BOT> a timer`. */
  text: string;
  user?: string;
  ts?: string;
  thread_ts?: string;
  /** File objects as `fake.userFile()` returns them. */
  files?: Record<string, unknown>[];
}

/** An `app_mention` event (the bot was named in a channel it is in), for `eventCallback({ event })`. */
export function appMention(input: AppMentionInput): { type: string } & Record<string, unknown> {
  const ts = input.ts ?? `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'app_mention',
    user: input.user ?? DEFAULTS.user_id,
    text: input.text,
    ts,
    event_ts: ts,
    channel: input.channel,
    team: DEFAULTS.team_id,
    client_msg_id: randomUUID(),
    ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
    ...(input.files ? { files: input.files, upload: false, display_as_bot: false } : {}),
  };
}

/** The one unsigned-looking request Slack sends when an Events URL is saved (Bolt answers the challenge). */
export function urlVerification(challenge: string): Record<string, unknown> {
  return { token: DEFAULTS.token, challenge, type: 'url_verification' };
}

// ------------------------------------------------------------------ HTTP bodies

/** Slash commands are form posts of the payload's fields. */
export function commandRequest(
  payload: Record<string, string>,
  extra: Omit<BoltRequest, 'kind' | 'body'> = {},
): BoltRequest {
  return { kind: 'form', body: payload, ...extra };
}

/** Interactivity payloads are a single form field `payload=<json>`. */
export function interactiveRequest(
  payload: Record<string, unknown>,
  extra: Omit<BoltRequest, 'kind' | 'body'> = {},
): BoltRequest {
  return { kind: 'form', body: { payload: JSON.stringify(payload) }, ...extra };
}

/** Events API callbacks and url_verification are JSON. */
export function eventRequest(
  payload: Record<string, unknown>,
  extra: Omit<BoltRequest, 'kind' | 'body'> = {},
): BoltRequest {
  return { kind: 'json', body: payload, ...extra };
}
