// The interfaces the core owns. Adapters, models, sandboxes and stores implement them;
// the core imports nothing concrete.

export type * from './logger.ts';
export type * from './sandbox.ts';
export type * from './model.ts';
export type * from './browser.ts';
export type * from './store.ts';
export type * from './chat.ts';
export type * from './metrics.ts';
export type * from './packer.ts';
