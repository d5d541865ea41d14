/** What the `vite build --watch` child sends its parent over the IPC channel. */
export type BuildMessage =
  { type: 'vibe:build-start' } | { type: 'vibe:build-done'; files: { path: string; base64: string }[] };

export function isBuildMessage(m: unknown): m is BuildMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as { type?: unknown }).type === 'string' &&
    (m as { type: string }).type.startsWith('vibe:build-')
  );
}
