/**
 * The Block Kit limits Slack enforces with `invalid_blocks`, so a test fails the way Slack would
 * when an adapter sends an oversized card. Only the block types a bot like ours sends are checked
 * in depth; any other block just needs a `type`.
 */

const MAX_BLOCKS = 50;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const textOf = (v: unknown): string | undefined => (isObj(v) && typeof v.text === 'string' ? v.text : undefined);

/** Returns Slack-style error strings (empty when the blocks would be accepted). `max`: 50 in a message, 100 in a view. */
export function blockKitProblems(blocks: unknown, max = MAX_BLOCKS): string[] {
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  const problems: string[] = [];
  if (blocks.length > max) problems.push(`no more than ${max} items allowed [json-pointer:/blocks]`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `[json-pointer:/blocks/${i}`;
    if (!isObj(block) || typeof block.type !== 'string')
      return void problems.push(`missing required field: type ${at}]`);
    if (typeof block.block_id === 'string') {
      if (block.block_id.length > 255) problems.push(`must be less than 256 characters ${at}/block_id]`);
      if (blockIds.has(block.block_id)) problems.push(`duplicate block_id ${at}/block_id]`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'header': {
        const t = textOf(block.text);
        if (t === undefined) problems.push(`missing required field: text ${at}]`);
        else if (t.length > 150) problems.push(`must be less than 151 characters ${at}/text/text]`);
        break;
      }
      case 'section': {
        const t = textOf(block.text);
        const fields = Array.isArray(block.fields) ? block.fields : undefined;
        if (t === undefined && !fields) problems.push(`must provide either text or fields ${at}]`);
        if (t !== undefined && t.length > 3000) problems.push(`must be less than 3001 characters ${at}/text/text]`);
        if (t !== undefined && t.length === 0) problems.push(`must be more than 0 characters ${at}/text/text]`);
        if (fields && fields.length > 10) problems.push(`no more than 10 items allowed ${at}/fields]`);
        fields?.forEach((f, j) => {
          if ((textOf(f) ?? '').length > 2000)
            problems.push(`must be less than 2001 characters ${at}/fields/${j}/text]`);
        });
        break;
      }
      case 'context': {
        const elements = Array.isArray(block.elements) ? block.elements : [];
        if (elements.length === 0 || elements.length > 10)
          problems.push(`must have between 1 and 10 elements ${at}/elements]`);
        break;
      }
      case 'actions': {
        const elements = Array.isArray(block.elements) ? block.elements : [];
        if (elements.length === 0 || elements.length > 25)
          problems.push(`must have between 1 and 25 elements ${at}/elements]`);
        const actionIds = new Set<string>();
        elements.forEach((el, j) => problems.push(...elementProblems(el, `${at}/elements/${j}`, actionIds)));
        break;
      }
      case 'image': {
        if (typeof block.image_url !== 'string' && !isObj(block.slack_file))
          problems.push(`missing required field: image_url ${at}]`);
        if (typeof block.alt_text !== 'string') problems.push(`missing required field: alt_text ${at}]`);
        break;
      }
      default:
        break;
    }
  });
  return problems;
}

function elementProblems(el: unknown, at: string, actionIds: Set<string>): string[] {
  if (!isObj(el) || typeof el.type !== 'string') return [`missing required field: type ${at}]`];
  const problems: string[] = [];
  if (typeof el.action_id === 'string') {
    if (el.action_id.length > 255) problems.push(`must be less than 256 characters ${at}/action_id]`);
    if (actionIds.has(el.action_id)) problems.push(`duplicate action_id ${at}/action_id]`);
    actionIds.add(el.action_id);
  }
  if (el.type === 'button') {
    const t = textOf(el.text);
    if (t === undefined) problems.push(`missing required field: text ${at}]`);
    else if (t.length > 75) problems.push(`must be less than 76 characters ${at}/text/text]`);
    if (typeof el.value === 'string' && el.value.length > 2000)
      problems.push(`must be less than 2001 characters ${at}/value]`);
    if (typeof el.url === 'string' && el.url.length > 3000)
      problems.push(`must be less than 3001 characters ${at}/url]`);
  }
  return problems;
}
