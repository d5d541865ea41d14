import Anthropic from '@anthropic-ai/sdk';
import type { ModelInfo } from '@anthropic-ai/sdk/resources/models';
import { ConfigError } from '../config.ts';
import type { Logger } from '../core/ports/index.ts';
import { DEFAULT_MODEL } from './default-model.ts';

/** How the bot asks a model to think (see conversation.ts). */
export type ThinkingMode = 'adaptive' | 'budget' | 'none';

/** The model the bot will use, as the start-up check settled it. */
export interface CheckedModel {
  id: string;
  thinking: ThinkingMode;
  /** False only when the Models API says the model takes no image input. */
  images: boolean;
}

/** How long the start-up check waits for the Models API before going on without it. */
const CHECK_TIMEOUT_MS = 15_000;

/**
 * Asks the Models API (`GET /v1/models`) which models the key can use, once, at start-up:
 * - `VIBE_MODEL` set: used if listed (or an alias of a listed model); otherwise the bot refuses to
 *   start, naming it and listing the Sonnet- and Opus-class models it could use instead;
 * - unset: the pinned DEFAULT_MODEL if listed, else the newest Sonnet-class model listed (said
 *   once in the log);
 * - the API unreachable (network, timeout, 5xx, a proxy without the endpoint): a warning, and the
 *   configured or pinned id is kept. A key the API refuses (401) stops the bot: every build would fail.
 */
export async function checkModel(opts: {
  client: Anthropic;
  /** VIBE_MODEL, when set. */
  configured?: string;
  logger: Logger;
}): Promise<CheckedModel> {
  const { client, configured, logger } = opts;
  const wanted = configured ?? DEFAULT_MODEL;
  let listed: ModelInfo[];
  try {
    listed = await listModels(client);
  } catch (err) {
    if (err instanceof Anthropic.AuthenticationError)
      throw new ConfigError(`the Anthropic API refused ANTHROPIC_API_KEY (${err.message}). Check the key.`);
    logger.warn(
      { err, model: wanted },
      `could not reach the Models API to check the model; using ${wanted} unchecked (builds will say so if it is unavailable)`,
    );
    return { id: wanted, thinking: guessThinking(wanted), images: true };
  }
  const usable = listed.filter((m) => m.lifecycle !== 'retired');
  const found = usable.find((m) => m.id === wanted) ?? (await resolveAlias(client, wanted, usable));
  if (found) {
    if (found.lifecycle === 'deprecated')
      logger.warn(
        { model: wanted, retiresAt: found.retires_at },
        `${wanted} is deprecated${found.retires_at ? ` and retires on ${found.retires_at.slice(0, 10)}` : ''}; choose a newer model soon`,
      );
    logger.info({ model: wanted }, `model ${wanted} is available`);
    return describe(wanted, found);
  }
  const choices = `Sonnet-class: ${names(usable, 'sonnet')}; Opus-class: ${names(usable, 'opus')}`;
  if (configured)
    throw new ConfigError(
      `VIBE_MODEL=${configured} is not among the models this API key can use (it may have been retired). Models it can use: ${choices}. Set VIBE_MODEL to one of them, or unset it to use ${DEFAULT_MODEL} or the newest Sonnet-class model.`,
    );
  const newest = newestOf(usable, 'sonnet');
  if (!newest)
    throw new ConfigError(
      `${DEFAULT_MODEL} is not available to this API key, and no Sonnet-class model is. Models it can use: ${choices}. Set VIBE_MODEL to one of them.`,
    );
  logger.warn(
    { pinned: DEFAULT_MODEL, model: newest.id },
    `${DEFAULT_MODEL} is not available to this API key; using ${newest.id}, the newest Sonnet-class model it lists`,
  );
  return describe(newest.id, newest);
}

/** Every model the key can list (the SDK follows the pages). */
async function listModels(client: Anthropic): Promise<ModelInfo[]> {
  const out: ModelInfo[] = [];
  for await (const m of client.models.list({ limit: 1000 }, { timeout: CHECK_TIMEOUT_MS, maxRetries: 1 })) out.push(m);
  return out;
}

/** `claude-sonnet-4-5` and the like name a dated model: the API resolves them (GET /v1/models/{id}). */
async function resolveAlias(client: Anthropic, id: string, usable: ModelInfo[]): Promise<ModelInfo | undefined> {
  const resolved = await client.models
    .retrieve(id, {}, { timeout: CHECK_TIMEOUT_MS, maxRetries: 1 })
    .catch(() => undefined);
  return resolved ? usable.find((m) => m.id === resolved.id) : undefined;
}

function describe(id: string, m: ModelInfo): CheckedModel {
  const types = m.capabilities?.thinking?.types;
  const thinking: ThinkingMode = !m.capabilities
    ? guessThinking(id)
    : types?.adaptive?.supported
      ? 'adaptive'
      : types?.enabled?.supported
        ? 'budget'
        : 'none';
  return { id, thinking, images: m.capabilities?.image_input?.supported ?? true };
}

/**
 * Without the Models API's word: adaptive thinking (the current models' way), except on the
 * Claude 4 and 4.5 models that predate it, which take a thinking budget.
 */
function guessThinking(id: string): ThinkingMode {
  return /^claude-(?:(?:sonnet|opus|haiku)-4-5|opus-4-1|(?:sonnet|opus)-4)(?:-\d{8})?$/.test(id)
    ? 'budget'
    : 'adaptive';
}

/** The model's line: the API's `line`, or (only where the API sends none) the name in its id. */
function lineOf(m: ModelInfo): string | undefined {
  if (m.line !== undefined) return m.line ?? undefined;
  return /-(sonnet|opus|haiku)-/.exec(`${m.id}-`)?.[1];
}

function newestOf(models: ModelInfo[], line: string): ModelInfo | undefined {
  return models.filter((m) => lineOf(m) === line).sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
}

function names(models: ModelInfo[], line: string): string {
  const ids = models
    .filter((m) => lineOf(m) === line)
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .map((m) => m.id);
  return ids.length ? ids.join(', ') : 'none';
}
