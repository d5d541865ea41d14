import { zeroUsage } from '../../src/core/limits/usage.ts';
import type { AppStore } from '../../src/core/ports/index.ts';

/** An app in `store` with one version whose src/App.tsx is `text` (core tests of sandboxes and wakes). */
export async function storedApp(store: AppStore, id: string, text: string): Promise<void> {
  await store.createApp({ id, channelId: 'c', threadId: `t-${id}`, ownerId: 'u', title: id, summary: '', prompt: '' });
  await store.addVersion(id, {
    files: { 'src/App.tsx': text },
    instruction: '',
    authorId: 'u',
    usage: zeroUsage(),
    model: 'm',
  });
}
