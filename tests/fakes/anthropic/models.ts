/**
 * The fake's Models API: `GET /v1/models` (newest first, paginated with `limit`, `after_id`,
 * `before_id`, `has_more`, `first_id`, `last_id`, as the SDK's auto-pagination reads it) and
 * `GET /v1/models/{id}` (which also resolves an alias to its model). As the real API does, the
 * list holds `active` and `deprecated` models unless `lifecycle` asks for others, so a retired
 * model is not listed.
 */

export interface FakeModel {
  id: string;
  display_name: string;
  /** RFC 3339; the list is sorted by it, newest first. */
  created_at: string;
  line?: 'haiku' | 'sonnet' | 'opus' | null;
  lifecycle?: 'active' | 'deprecated' | 'retired';
  /** Default: thinking with `adaptive` and `enabled`, and image input. */
  capabilities?: Record<string, unknown> | null;
  /** Other names the API resolves to this model (e.g. an undated alias of a dated id). */
  aliases?: string[];
}

const supported = (yes: boolean) => ({ supported: yes });

/** Capabilities in the API's shape: which thinking types the model takes, and pictures. */
export function modelCapabilities(thinking: { adaptive: boolean; enabled: boolean }, images = true) {
  return {
    image_input: supported(images),
    thinking: {
      supported: thinking.adaptive || thinking.enabled,
      types: {
        adaptive: supported(thinking.adaptive),
        enabled: supported(thinking.enabled),
        disabled: supported(true),
      },
    },
  };
}

/** What a key could list in late 2026 (plus a retired model, which the list leaves out). */
export const DEFAULT_FAKE_MODELS: FakeModel[] = [
  {
    id: 'claude-opus-4-7',
    display_name: 'Claude Opus 4.7',
    created_at: '2026-04-16T00:00:00Z',
    line: 'opus',
    capabilities: modelCapabilities({ adaptive: true, enabled: false }),
  },
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-02-17T00:00:00Z', line: 'sonnet' },
  { id: 'claude-opus-4-6', display_name: 'Claude Opus 4.6', created_at: '2026-02-05T00:00:00Z', line: 'opus' },
  {
    id: 'claude-sonnet-4-5-20250929',
    display_name: 'Claude Sonnet 4.5',
    created_at: '2025-09-29T00:00:00Z',
    line: 'sonnet',
    lifecycle: 'deprecated',
    aliases: ['claude-sonnet-4-5'],
    capabilities: modelCapabilities({ adaptive: false, enabled: true }),
  },
  {
    id: 'claude-sonnet-4-20250514',
    display_name: 'Claude Sonnet 4',
    created_at: '2025-05-14T00:00:00Z',
    line: 'sonnet',
    lifecycle: 'retired',
    aliases: ['claude-sonnet-4-0'],
  },
];

type Answer = { status: number; body: unknown };

export class FakeModels {
  constructor(private readonly models: () => FakeModel[]) {}

  /** Answers a GET under /v1/models; `path` is the full path, `query` its search params. */
  answer(path: string, query: URLSearchParams): Answer {
    const rest = path.slice('/v1/models'.length);
    if (rest === '' || rest === '/') return this.list(query);
    const id = decodeURIComponent(rest.slice(1));
    const model = this.models().find((m) => m.id === id || m.aliases?.includes(id));
    if (!model || model.lifecycle === 'retired') return notFound(`model: ${id}`);
    return { status: 200, body: wire(model) };
  }

  private list(query: URLSearchParams): Answer {
    const wanted = query.getAll('lifecycle').flatMap((v) => v.split(','));
    const stages = wanted.length ? wanted : ['active', 'deprecated'];
    const all = [...this.models()]
      .filter((m) => stages.includes(m.lifecycle ?? 'active'))
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
    const limit = query.has('limit') ? Number(query.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return invalid('limit: Input should be greater than or equal to 1 and less than or equal to 1000');
    const after = query.get('after_id');
    const before = query.get('before_id');
    let page: FakeModel[];
    let hasMore: boolean;
    if (before) {
      const end = all.findIndex((m) => m.id === before);
      if (end < 0) return invalid(`before_id: unknown id ${before}`);
      page = all.slice(Math.max(0, end - limit), end);
      hasMore = end - limit > 0;
    } else {
      const start = after ? all.findIndex((m) => m.id === after) + 1 : 0;
      if (after && start === 0) return invalid(`after_id: unknown id ${after}`);
      page = all.slice(start, start + limit);
      hasMore = start + limit < all.length;
    }
    return {
      status: 200,
      body: {
        data: page.map(wire),
        has_more: hasMore,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
      },
    };
  }
}

function wire(m: FakeModel) {
  return {
    type: 'model',
    id: m.id,
    display_name: m.display_name,
    created_at: m.created_at,
    line: m.line ?? null,
    lifecycle: m.lifecycle ?? 'active',
    deprecated_at: m.lifecycle && m.lifecycle !== 'active' ? '2026-06-01T00:00:00Z' : null,
    retires_at: m.lifecycle === 'deprecated' ? '2026-11-30T00:00:00Z' : null,
    max_input_tokens: 200_000,
    max_tokens: 64_000,
    capabilities: m.capabilities === undefined ? modelCapabilities({ adaptive: true, enabled: true }) : m.capabilities,
  };
}

const invalid = (message: string): Answer => ({
  status: 400,
  body: { type: 'error', error: { type: 'invalid_request_error', message } },
});
const notFound = (message: string): Answer => ({
  status: 404,
  body: { type: 'error', error: { type: 'not_found_error', message } },
});
