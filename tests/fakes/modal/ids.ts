import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

// Modal-shaped ids. Sandbox ids must NOT look like V1 ids (`sb-` + 22 chars), or the SDK
// would use the V1 RPCs for them: V2 ids here get 24 characters.
export const newAppId = (): string => `ap-${randomChars(22)}`;
export const newImageId = (): string => `im-${randomChars(22)}`;
export const newEnvironmentId = (): string => `en-${randomChars(22)}`;
export const newSandboxId = (): string => `sb-${randomChars(24)}`;
export const newTaskId = (): string => `ta-${randomChars(22)}`;

/** An unsigned JWT-shaped token; the SDK only reads its `exp` claim. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.${randomChars(16)}`;
}
