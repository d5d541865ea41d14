import type { AppRecord, Card } from '../ports/index.ts';
import type { SharedDataStats } from '../ports/shared.ts';

// The cards of `/vibe data` (an app's shared state, `@vibe/shared`).

const num = (n: number) => n.toLocaleString('en-US');
const size = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1 << 20
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${+(bytes / (1 << 20)).toFixed(2)} MB`;

/** `/vibe data`: what the app's shared state holds, against its limits. */
export function dataCard(app: AppRecord, s: SharedDataStats): Card {
  const items = s.lists.reduce((n, l) => n + l.items, 0);
  const empty = s.keys === 0 && items === 0;
  return {
    title: `${app.title}: shared data`,
    text: [
      empty
        ? 'Nothing stored yet. Apps that use `@vibe/shared` keep here what every viewer sees (votes, sign-ups, boards).'
        : 'What everyone using the app sees and changes, kept by the bot.',
      'Undo and restore change the code only: the data stays as it is. `/vibe data reset` clears it (the owner or a channel manager).',
    ].join('\n'),
    fields: [
      { label: 'Size', value: `${empty ? '0 B' : size(s.bytes)} of ${size(s.limits.bytes)}` },
      { label: 'List items', value: `${num(items)} of ${num(s.limits.items)}` },
      ...(s.lists.length > 0
        ? [
            {
              label: 'Lists',
              value: s.lists
                .slice(0, 10)
                .map((l) => `${l.name} (${num(l.items)})`)
                .join(', '),
            },
          ]
        : []),
      { label: 'Shared values', value: num(s.keys) },
      { label: 'Open pages', value: num(s.connections) },
    ],
    actions: empty ? [] : [{ label: 'Reset data', action: 'data-reset', value: app.id, style: 'danger' }],
    meta: { appId: app.id },
  };
}

export function confirmDataResetCard(app: AppRecord): Card {
  return {
    title: `Clear the shared data of "${app.title}"?`,
    text: 'Every vote, item and value the app stored is removed for everyone, and open pages start empty. The app itself stays.',
    actions: [
      {
        label: 'Yes, clear it',
        action: 'data-reset-confirm',
        value: app.id,
        style: 'danger',
        confirm: { title: 'Clear the data?', text: 'This cannot be undone.', yes: 'Clear', no: 'Keep it' },
      },
    ],
  };
}

export function dataResetCard(app: AppRecord): Card {
  return { title: `Cleared the shared data of "${app.title}"`, text: 'Open pages start again empty.' };
}
