import { describe, expect, it } from 'vitest';
import { actionFromId, LIMITS, renderSlackMessage } from '../../adapters/slack/render-blocks.ts';
import { escapeMrkdwn } from '../../adapters/slack/slack-text.ts';
import type { Card } from '../../src/core/ports/index.ts';

const PINGS = '<!channel> <!here> <!everyone> <@U0BOSS> <#C0SECRET> <https://evil.example|click>';

describe('Slack rendering', () => {
  it('neutralises every mention and link a user or the model could smuggle in', () => {
    const card: Card = {
      title: `Title ${PINGS}`,
      text: `Summary ${PINGS}`,
      fields: [{ label: `L ${PINGS}`, value: `V ${PINGS}` }],
      items: [
        { title: `Item ${PINGS}`, text: PINGS, fields: [{ label: 'Owner', value: PINGS, userId: 'slack:T1:U0OWNER' }] },
      ],
      footer: PINGS,
    };
    for (const mentions of [false, true]) {
      const msg = renderSlackMessage(card, { mentions });
      const all = JSON.stringify(msg).replaceAll('<@U0OWNER>', ''); // the one mention we render on purpose
      expect(all).not.toMatch(/<[!@#]/);
      expect(all).not.toContain('<https://evil');
      expect(msg.text).toContain('&lt;!channel&gt;');
    }
    // The owner mention appears only where asked for (ephemeral messages cannot notify anyone).
    expect(JSON.stringify(renderSlackMessage(card, { mentions: true }))).toContain('<@U0OWNER>');
    expect(JSON.stringify(renderSlackMessage(card))).not.toContain('<@U0OWNER>');
  });

  it('escapes mrkdwn control characters', () => {
    expect(escapeMrkdwn('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
  });

  it('stays within Block Kit limits however long the input', () => {
    const long = 'x'.repeat(10_000);
    const card: Card = {
      title: long,
      text: long,
      fields: Array.from({ length: 14 }, (_, i) => ({ label: `f${i}`, value: long })),
      items: Array.from({ length: 30 }, (_, i) => ({
        title: `app ${i}`,
        text: long,
        links: [{ label: long, url: 'https://x.test' }],
      })),
      actions: Array.from({ length: 30 }, (_, i) => ({ label: long, action: 'gallery', value: long })),
    };
    const { text, blocks } = renderSlackMessage(card);
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    expect(text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    for (const b of blocks) {
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
      if (b.type === 'section') {
        if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
        expect(b.fields?.length ?? 0).toBeLessThanOrEqual(LIMITS.fields);
        for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
      }
      if (b.type === 'actions') {
        expect(b.elements.length).toBeLessThanOrEqual(LIMITS.actionsElements);
        const ids = b.elements.map((e) => (e as { action_id: string }).action_id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const e of b.elements)
          expect((e as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
      }
    }
  });

  it('gives buttons unique action ids that map back to the action', () => {
    const { blocks } = renderSlackMessage({
      links: [{ label: 'Open', url: 'https://a.test' }],
      actions: [
        { label: 'Previous', action: 'gallery', value: 'p' },
        { label: 'Next', action: 'gallery', value: 'n' },
      ],
    });
    const actions = blocks.find((b) => b.type === 'actions');
    const ids =
      actions && actions.type === 'actions' ? actions.elements.map((e) => (e as { action_id: string }).action_id) : [];
    expect(ids).toEqual(['vibe:link:0', 'vibe:gallery:1', 'vibe:gallery:2']);
    expect(ids.map(actionFromId)).toEqual([undefined, 'gallery', 'gallery']);
    expect(actionFromId('vibe:delete-confirm:4')).toBe('delete-confirm');
    expect(actionFromId('other:thing')).toBeUndefined();
  });
});
