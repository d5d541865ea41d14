import { emptyMessage, invalidFormBody, type DiscordApiError, type FieldError } from './api-error.ts';

/**
 * Discord's documented limits for a message body (create or edit), checked the way Discord checks
 * them: an over-limit field is a 400 `50035 Invalid Form Body`, a create with nothing in it is
 * `50006`. An adapter that renders cards must stay inside these, so the fake refuses what Discord
 * would refuse instead of accepting anything.
 */

export const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  authorName: 256,
  actionRows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
  url: 512,
} as const;

const IS_COMPONENTS_V2 = 1 << 15;

/**
 * Returns the error Discord would answer with, or null when the body is acceptable. `uploads`: how
 * many files came with it (files alone make a message). An embed's image or thumbnail may be
 * `attachment://<filename>`; whether it names an upload is checked where attachments are (state.ts).
 */
export function checkMessageBody(
  body: Record<string, any>,
  kind: 'create' | 'edit',
  uploads = 0,
): DiscordApiError | null {
  const errors: FieldError[] = [];
  const tooLong = (path: (string | number)[], value: unknown, max: number): void => {
    if (typeof value === 'string' && [...value].length > max) {
      errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` });
    }
  };
  const badUrl = (path: (string | number)[], value: unknown): void => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string' || !/^https?:\/\/[^\s/]+/i.test(value)) {
      errors.push({ path, code: 'URL_TYPE_INVALID_URL', message: 'Not a well formed URL.' });
    } else tooLong(path, value, LIMITS.url);
  };

  tooLong(['content'], body.content, LIMITS.content);
  checkEmbeds(body.embeds, errors, tooLong, badUrl);
  if (!((body.flags ?? 0) & IS_COMPONENTS_V2)) checkActionRows(body.components, errors, tooLong, badUrl);

  if (errors.length) return invalidFormBody(errors);
  if (kind === 'create' && uploads === 0 && isEmpty(body)) return emptyMessage();
  return null;
}

type Check = (path: (string | number)[], value: unknown, max: number) => void;
type UrlCheck = (path: (string | number)[], value: unknown) => void;

function checkEmbeds(embeds: unknown, errors: FieldError[], tooLong: Check, badUrl: UrlCheck): void {
  if (!Array.isArray(embeds)) return;
  if (embeds.length > LIMITS.embeds) {
    errors.push({
      path: ['embeds'],
      code: 'BASE_TYPE_MAX_LENGTH',
      message: `Must be ${LIMITS.embeds} or fewer in length.`,
    });
  }
  let total = 0;
  embeds.forEach((e: Record<string, any>, i) => {
    tooLong(['embeds', i, 'title'], e.title, LIMITS.title);
    tooLong(['embeds', i, 'description'], e.description, LIMITS.description);
    tooLong(['embeds', i, 'footer', 'text'], e.footer?.text, LIMITS.footer);
    tooLong(['embeds', i, 'author', 'name'], e.author?.name, LIMITS.authorName);
    badUrl(['embeds', i, 'url'], e.url);
    for (const key of ['image', 'thumbnail'] as const) {
      const url = e[key]?.url;
      if (typeof url === 'string' && /^attachment:\/\/[^/\s]+$/.test(url)) continue;
      badUrl(['embeds', i, key, 'url'], url);
    }
    total += len(e.title) + len(e.description) + len(e.footer?.text) + len(e.author?.name);
    const fields: Record<string, any>[] = Array.isArray(e.fields) ? e.fields : [];
    if (fields.length > LIMITS.fields) {
      errors.push({
        path: ['embeds', i, 'fields'],
        code: 'BASE_TYPE_MAX_LENGTH',
        message: `Must be ${LIMITS.fields} or fewer in length.`,
      });
    }
    fields.forEach((f, j) => {
      for (const key of ['name', 'value'] as const) {
        if (typeof f[key] !== 'string' || f[key].length === 0) {
          errors.push({
            path: ['embeds', i, 'fields', j, key],
            code: 'BASE_TYPE_REQUIRED',
            message: 'This field is required',
          });
        }
      }
      tooLong(['embeds', i, 'fields', j, 'name'], f.name, LIMITS.fieldName);
      tooLong(['embeds', i, 'fields', j, 'value'], f.value, LIMITS.fieldValue);
      total += len(f.name) + len(f.value);
    });
  });
  if (total > LIMITS.embedTotal) {
    errors.push({
      path: ['embeds'],
      code: 'MAX_EMBED_SIZE_EXCEEDED',
      message: `Embed size exceeds maximum size of ${LIMITS.embedTotal}`,
    });
  }
}

function checkActionRows(components: unknown, errors: FieldError[], tooLong: Check, badUrl: UrlCheck): void {
  if (!Array.isArray(components)) return;
  if (components.length > LIMITS.actionRows) {
    errors.push({
      path: ['components'],
      code: 'BASE_TYPE_MAX_LENGTH',
      message: `Must be ${LIMITS.actionRows} or fewer in length.`,
    });
  }
  const customIds = new Set<string>();
  components.forEach((row: Record<string, any>, i) => {
    if (row.type !== 1) {
      errors.push({
        path: ['components', i, 'type'],
        code: 'UNION_TYPE_CHOICES',
        message: 'Value of field "type" must be one of (1,).',
      });
      return;
    }
    const children: Record<string, any>[] = Array.isArray(row.components) ? row.components : [];
    if (children.length < 1 || children.length > LIMITS.buttonsPerRow) {
      errors.push({
        path: ['components', i, 'components'],
        code: 'BASE_TYPE_BAD_LENGTH',
        message: `Must be between 1 and ${LIMITS.buttonsPerRow} in length.`,
      });
    }
    children.forEach((c, j) => {
      const at = ['components', i, 'components', j];
      if (c.type !== 2) return;
      tooLong([...at, 'label'], c.label, LIMITS.buttonLabel);
      if (c.label === undefined && c.emoji === undefined) {
        errors.push({
          path: at,
          code: 'BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED',
          message: 'A label or emoji is required',
        });
      }
      if (c.style === 5) {
        if (c.custom_id !== undefined)
          errors.push({
            path: [...at, 'custom_id'],
            code: 'BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED',
            message: 'A custom id cannot be set on a link button',
          });
        if (c.url === undefined)
          errors.push({ path: [...at, 'url'], code: 'BUTTON_COMPONENT_URL_REQUIRED', message: 'A url is required' });
        badUrl([...at, 'url'], c.url);
      } else if (c.style !== 6) {
        if (typeof c.custom_id !== 'string' || c.custom_id.length === 0) {
          errors.push({
            path: [...at, 'custom_id'],
            code: 'BUTTON_COMPONENT_CUSTOM_ID_REQUIRED',
            message: 'A custom id is required',
          });
        } else if (customIds.has(c.custom_id)) {
          errors.push({
            path: [...at, 'custom_id'],
            code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
            message: 'Component custom id cannot be duplicated',
          });
        }
        tooLong([...at, 'custom_id'], c.custom_id, LIMITS.customId);
        if (typeof c.custom_id === 'string') customIds.add(c.custom_id);
      }
    });
  });
}

function isEmpty(body: Record<string, any>): boolean {
  const has = (v: unknown): boolean => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== '');
  return !['content', 'embeds', 'components', 'attachments', 'sticker_ids', 'poll'].some((k) => has(body[k]));
}

const len = (v: unknown): number => (typeof v === 'string' ? [...v].length : 0);
