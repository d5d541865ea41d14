// The sandbox port: where an app's files are written, checked, built and served (src/sandbox/).

/** An app's source: path relative to the app root (always under `src/`) -> file text. */
export type FileMap = Record<string, string>;

export interface CheckError {
  file: string; // relative to app root, e.g. "src/App.tsx"
  line: number; // 1-based; 0 when unknown
  column: number; // 1-based; 0 when unknown
  message: string; // e.g. "TS2307: Cannot find module './Timer' ..."
  /** Found by loading the app in a browser (it type-checked, then failed when it ran). */
  source?: 'browser';
  /**
   * Worth a repair round, but no reason to withhold the link if it is all that is left (a
   * `console.error` such as React's development warnings, which viewers of the built app never see).
   */
  warning?: boolean;
}

export interface SandboxHandle {
  id: string;
  /** Where the sandbox serves the app (may be an internal address; the core links via `AppLinks`). */
  url: string;
}

export type SandboxStatus = 'running' | 'stopped';

export interface SandboxProvider {
  /**
   * Starts a sandbox for `appId` serving `files` (the template's placeholder when omitted).
   * `labels` (e.g. the channel) are attached where the host supports tags.
   */
  boot(appId: string, files?: FileMap, labels?: Record<string, string>): Promise<SandboxHandle>;
  /**
   * Replaces the app's `src/` with exactly `files` (files not in the map are removed). Files
   * that would make a build tool reach outside `src/` or run code at build time are refused:
   * nothing is written and the refusals come back as check errors (empty = written).
   */
  write(id: string, files: FileMap): Promise<CheckError[]>;
  /** Type errors, unresolved imports and syntax errors, with file and line. Empty = clean. */
  check(id: string): Promise<CheckError[]>;
  /**
   * A production build of the sandbox's current files to take away (`/vibe export`): relative
   * asset paths, none of the bot's own plugins; built path (e.g. "assets/index-x1.js") -> bytes.
   */
  exportBuild?(id: string): Promise<Map<string, Uint8Array>>;
  /**
   * The production build the sandbox made for its light view from exactly the files whose
   * `sourceHash` is `source` (waiting for it while it is being made): built path (e.g.
   * "index.html", "assets/react-x1.js") -> bytes. Throws when that build failed or never came.
   */
  lightBuild?(id: string, source: string): Promise<Map<string, Uint8Array>>;
  status(id: string): Promise<SandboxStatus>;
  stop(id: string): Promise<void>;
  /**
   * The host stops idle sandboxes itself and sees traffic the bot does not (Modal: viewers reach
   * the tunnel directly). The runtime's sweeper then stops nothing; it only forgets the sandboxes
   * the host has stopped.
   */
  readonly idlesItself?: boolean;
  /** Stops every sandbox this provider started (shutdown). */
  stopAll(): Promise<void>;
  /**
   * Re-attaches a sandbox that outlived the bot (after a restart), if the provider can and it
   * still runs; undefined otherwise. Local processes die with the bot, so the local provider has none.
   */
  attach?(appId: string, sandboxId: string): Promise<SandboxHandle | undefined>;
  /**
   * Stops this bot's sandboxes that `owns(appId, sandboxId)` says nothing tracks (start-up
   * clean-up; strays of a process that died), sparing those younger than `graceMs` (another
   * process's build may be using one whose app is not in the store yet).
   */
  stopOrphans?(
    owns: (appId: string, sandboxId: string) => Promise<boolean>,
    opts?: { graceMs?: number },
  ): Promise<string[]>;
}
