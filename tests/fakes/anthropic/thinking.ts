import { createHmac, randomBytes } from 'node:crypto';

/**
 * Extended thinking as the fake answers and checks it. Every thinking block the fake sends is
 * signed (an HMAC of its text, as opaque to the client as the real signature), and remembered with
 * the message it came in. On each later request:
 * - a thinking block whose signature does not match its text (it was changed) is a 400, as on the
 *   real API ("Invalid `signature` in `thinking` block");
 * - an assistant message the fake sent with thinking that comes back without it is noted as a
 *   `thinking_block_dropped` warning (tests assert there is none); when it is the turn's last
 *   assistant message, answered by tool results, with thinking on, it is also a 400, as on the
 *   real API, which needs that message to start with its thinking.
 */

export interface FakeWarning {
  type: 'thinking_block_dropped';
  /** Index of the assistant message in the request's `messages`. */
  message: number;
  /** Index of the request (see RecordedRequest.index). */
  request: number;
}

type Block = { type: string; [key: string]: unknown };
type Message = { role: string; content: unknown };

export class ThinkingLedger {
  private readonly key = randomBytes(32);
  /** Fingerprint of an assistant message's other blocks -> the thinking blocks it was sent with. */
  private readonly issued = new Map<string, Block[]>();
  private readonly redacted = new Set<string>();
  readonly warnings: FakeWarning[] = [];

  sign(thinking: string): string {
    return createHmac('sha256', this.key).update(thinking).digest('base64');
  }

  /** Opaque data for a redacted_thinking block the fake sends. */
  redactedData(): string {
    const data = randomBytes(24).toString('base64');
    this.redacted.add(data);
    return data;
  }

  /** Remembers a message the fake answered with (its thinking blocks, keyed by everything else in it). */
  remember(content: Block[]): void {
    const thinking = content.filter(isThinking);
    if (thinking.length > 0) this.issued.set(fingerprint(content), thinking);
  }

  /** The request's thinking blocks checked against what was sent; an error message, or undefined. */
  check(messages: Message[], thinkingOn: boolean, requestIndex: number): string | undefined {
    for (const [i, m] of messages.entries()) {
      if (m.role !== 'assistant' || !Array.isArray(m.content)) continue;
      const blocks = m.content as Block[];
      for (const [j, b] of blocks.entries()) {
        if (b.type === 'thinking' && (typeof b.thinking !== 'string' || b.signature !== this.sign(b.thinking)))
          return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
        if (b.type === 'redacted_thinking' && !this.redacted.has(String(b.data)))
          return `messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`;
      }
      const sent = this.issued.get(fingerprint(blocks));
      if (!sent) continue;
      const back = blocks.filter(isThinking);
      if (back.length === 0) {
        this.warnings.push({ type: 'thinking_block_dropped', message: i, request: requestIndex });
        const next = messages[i + 1];
        const lastTurn = i === messages.length - 2 && hasToolResults(next);
        if (thinkingOn && lastTurn)
          return `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${blocks[0]?.type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks).`;
        continue;
      }
      if (JSON.stringify(back.map(strip)) !== JSON.stringify(sent.map(strip)))
        return `messages.${i}: the thinking blocks of an assistant message must be passed back exactly as they were received, in order`;
      if (!isThinking(blocks[0]!))
        return `messages.${i}.content.0: thinking blocks must come first in an assistant message`;
    }
    return undefined;
  }
}

function isThinking(b: Block): boolean {
  return b.type === 'thinking' || b.type === 'redacted_thinking';
}

function strip(b: Block): unknown {
  return b.type === 'thinking' ? [b.thinking, b.signature] : [b.data];
}

function hasToolResults(m: Message | undefined): boolean {
  return m?.role === 'user' && Array.isArray(m.content) && (m.content as Block[]).some((b) => b.type === 'tool_result');
}

/** What identifies an assistant message without its thinking: its tool calls' ids and its text. */
function fingerprint(blocks: Block[]): string {
  return JSON.stringify(
    blocks
      .filter((b) => !isThinking(b))
      .map((b) => (b.type === 'tool_use' ? ['tool_use', b.id] : b.type === 'text' ? ['text', b.text] : [b.type])),
  );
}
