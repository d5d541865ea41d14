/** 12 random base-36 characters. */
export function randomId(): string {
  const bytes = new Uint8Array(12);
  const c = (globalThis as unknown as { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
  if (c) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let id = '';
  for (const b of bytes) id += (b % 36).toString(36);
  return id;
}
