// The system prompt's part about `@vibe/shared` (see docs/shared-state.md): the API, one
// example, when to use it and when not.

export const SHARED_STATE_PROMPT = `# Shared data: \`@vibe/shared\`
An app lives in a team chat, so everyone with the link uses the same app. For data several people should see (votes, sign-ups, boards, scores, queues, a shared counter), import \`@vibe/shared\` (the only exception to "no network"): every open page gets each change live, and the data survives reloads.
\`\`\`ts
export type SharedStatus = 'connecting' | 'live' | 'offline';
/** One value per key for the whole app; last writer wins; every open page sees a change. */
export function useSharedState<T>(key: string, initial: T): [T, (next: T | ((prev: T) => T)) => void, SharedStatus];
/** Items that never conflict with each other (a poll: one item per voter; a board: one per note). Oldest first. */
export function useSharedList<T>(name: string): {
  items: Array<{ id: string; value: T; by: string; at: number }>; // by: the writer's viewer id; at: server time (ms)
  put(id: string, value: T): void; // insert or replace the item with this id
  add(value: T): string;           // put under a new random id, returned
  remove(id: string): void;
  status: SharedStatus;
};
/** This browser's viewer: a stable random id, and a display name the viewer may set. */
export function useViewer(): { id: string; name: string | null; setName(name: string): void };
\`\`\`
Example, a vote per person that everyone sees:
\`\`\`tsx
const me = useViewer();
const votes = useSharedList<{ choice: string }>('votes');
const vote = (choice: string) => votes.put(me.id, { choice }); // one item per viewer: voting again replaces it
const count = (c: string) => votes.items.filter((v) => v.value?.choice === c).length;
\`\`\`
- Prefer \`useSharedList\` with one item per person or per thing (\`put(me.id, …)\`, \`add(note)\`): items never overwrite each other. \`useSharedState\` is for a single value everyone edits (last write wins).
- Not for one person's drafts, settings or in-progress input: keep those in React state or localStorage.
- Values are plain JSON, at most 16 KB each; an app holds at most 1,000 list items and 1 MB in all. Writes are limited to about one a second per page, so save on a click or on submit, never on every keystroke or in a timer.
- Stored data may have been written by an earlier version of the app: read it defensively (\`v.value?.choice\`, check arrays with \`Array.isArray\`, fall back to defaults), never assume its shape.
- Show \`status\` unobtrusively when it is not \`'live'\` (e.g. "offline: changes will sync"). Changes made offline are kept and sent when the page reconnects.
- Ask for the viewer's name (\`setName\`, a small input shown once) only when the app shows who did what (who voted, who signed up); otherwise do not ask. Store the name in the item's value when others should see it.`;
