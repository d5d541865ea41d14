import { NotFoundError, ResourceExhaustedError } from 'modal';

/** gRPC status codes (nice-grpc's ClientError.code) the Modal provider tells apart. */
const GRPC = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8 };
const grpcCode = (err: unknown): unknown => (err as { code?: unknown } | null)?.code;

/** The SDK raises its own ResourceExhaustedError for some calls and a gRPC status for others. */
export function isResourceExhausted(err: unknown): boolean {
  return err instanceof ResourceExhaustedError || grpcCode(err) === GRPC.RESOURCE_EXHAUSTED;
}

export function isDeadlineExceeded(err: unknown): boolean {
  return grpcCode(err) === GRPC.DEADLINE_EXCEEDED;
}

/**
 * The sandbox no longer exists for this client: NOT_FOUND once Modal forgot it;
 * PERMISSION_DENIED or INVALID_ARGUMENT for an id of another workspace or token, or a malformed one.
 */
export function isGone(err: unknown): boolean {
  const code = grpcCode(err);
  return (
    err instanceof NotFoundError ||
    code === GRPC.NOT_FOUND ||
    code === GRPC.PERMISSION_DENIED ||
    code === GRPC.INVALID_ARGUMENT
  );
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
