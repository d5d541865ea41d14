import type { SharedDataExport } from './shared.ts';
import type { AppRecord, VersionRecord } from './store.ts';

/** Packs an app to take away (`/vibe export`, see src/export/): its source, the project around it, its build. */
export interface AppPacker {
  pack(
    app: AppRecord,
    version: VersionRecord,
    built: Map<string, Uint8Array> | undefined,
    /** The app's shared state (`data.json`), when it has any. */
    data?: SharedDataExport,
  ): { name: string; bytes: Uint8Array };
}
