/**
 * What the `vite build --watch` child sends its parent over the IPC channel. `source` is the
 * source hash (source-hash.ts) of the files the build started from.
 */
export type BuildMessage =
  | { type: 'vibe:build-start'; source: string }
  | { type: 'vibe:build-done'; source: string; files: { path: string; base64: string }[] }
  | { type: 'vibe:build-failed'; source: string; message: string };

export function isBuildMessage(m: unknown): m is BuildMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as { type?: unknown }).type === 'string' &&
    (m as { type: string }).type.startsWith('vibe:build-')
  );
}
