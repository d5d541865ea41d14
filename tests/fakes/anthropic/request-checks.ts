import sharp from 'sharp';

/**
 * Request checks of the real Messages API that the fake applies on top of the tool-loop ones in
 * server.ts: the thinking settings and what they forbid, prompt-cache TTL order, and image blocks.
 */

type Body = Record<string, any>;

/** Whether the request turns thinking on (`enabled` with a budget, or `adaptive`). */
export function thinkingOn(b: Body): boolean {
  return b.thinking?.type === 'enabled' || b.thinking?.type === 'adaptive';
}

/** The thinking settings, and the sampling settings thinking does not allow. */
export function thinkingProblem(b: Body): string | undefined {
  const t = b.thinking;
  if (t === undefined) return undefined;
  if (typeof t !== 'object' || t === null) return 'thinking: Input should be an object';
  if (t.type === 'enabled') {
    if (!Number.isInteger(t.budget_tokens)) return 'thinking.enabled.budget_tokens: Field required';
    if (t.budget_tokens < 1024) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
    if (t.budget_tokens >= b.max_tokens) return '`max_tokens` must be greater than `thinking.budget_tokens`.';
  } else if (t.type !== 'adaptive' && t.type !== 'disabled') {
    return `thinking.type: Input tag '${String(t.type)}' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'`;
  }
  if (!thinkingOn(b)) return undefined;
  if (b.temperature !== undefined && b.temperature !== 1)
    return '`temperature` may only be set to 1 when thinking is enabled or in adaptive mode.';
  if (b.top_k !== undefined) return '`top_k` cannot be set when thinking is enabled or in adaptive mode.';
  if (b.top_p !== undefined && (b.top_p < 0.95 || b.top_p > 1))
    return '`top_p` must be between 0.95 and 1 when thinking is enabled or in adaptive mode.';
  if (b.tool_choice?.type === 'any' || b.tool_choice?.type === 'tool')
    return 'Thinking may not be enabled when tool_choice forces tool use.';
  return undefined;
}

/**
 * Cache breakpoints in prompt order (tools, system, messages): a `1h` entry may not come after
 * a `5m` one (the default TTL), and no other TTL exists.
 */
export function cacheTtlProblem(b: Body): string | undefined {
  const marks: unknown[] = [];
  const collect = (blocks: unknown) => {
    if (Array.isArray(blocks)) for (const x of blocks) if (x?.cache_control) marks.push(x.cache_control);
  };
  collect(b.tools);
  collect(b.system);
  for (const m of Array.isArray(b.messages) ? b.messages : []) collect(m?.content);
  let shortSeen = false;
  for (const cc of marks as { type?: string; ttl?: string }[]) {
    const ttl = cc.ttl ?? '5m';
    if (ttl !== '5m' && ttl !== '1h') return `cache_control.ttl: Input should be '5m' or '1h'`;
    if (ttl === '1h' && shortSeen)
      return "A cache_control block with ttl='1h' must not come after one with ttl='5m' (tools, then system, then messages).";
    if (ttl === '5m') shortSeen = true;
  }
  return undefined;
}

const MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
/** The API's limits for one image: 5 MB of base64, 8000 px on a side. */
const MAX_BASE64 = 5 * 1024 * 1024;
const MAX_SIDE = 8000;

/** Image blocks in user messages (and in tool results): declared type, real bytes, size and dimensions. */
export async function imageProblem(b: Body): Promise<string | undefined> {
  const messages: { role?: string; content?: unknown }[] = Array.isArray(b.messages) ? b.messages : [];
  for (const [i, m] of messages.entries()) {
    if (!Array.isArray(m.content)) continue;
    for (const [j, block] of (m.content as Body[]).entries()) {
      const inner: Body[] = block?.type === 'tool_result' && Array.isArray(block.content) ? block.content : [block];
      for (const x of inner) {
        if (x?.type !== 'image') continue;
        const at = `messages.${i}.content.${j}.image.source`;
        if (m.role !== 'user') return `messages.${i}: images are only allowed in user messages`;
        const source = x.source ?? {};
        if (source.type !== 'base64') return `${at}: only base64 sources are served by the fake`;
        if (!MEDIA_TYPES.includes(source.media_type))
          return `${at}.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`;
        if (typeof source.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(source.data))
          return `${at}.base64.data: invalid base64 data`;
        if (source.data.length > MAX_BASE64) return `${at}.base64: image exceeds 5 MB maximum`;
        const meta = await sharp(Buffer.from(source.data, 'base64'))
          .metadata()
          .catch(() => undefined);
        if (!meta) return `${at}: Could not process image`;
        if (`image/${meta.format}` !== source.media_type)
          return `${at}: Image does not match the provided media type ${source.media_type}`;
        if ((meta.width ?? 0) > MAX_SIDE || (meta.height ?? 0) > MAX_SIDE)
          return `${at}: image dimensions exceed max allowed size: ${MAX_SIDE} pixels`;
      }
    }
  }
  return undefined;
}
