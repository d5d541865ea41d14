import { ServerError, Status, type CallContext } from 'nice-grpc';
import type { CallLog } from './call-log.ts';
import type { FaultQueue } from './faults.ts';
import type { ServiceDefinition } from './service-definitions.ts';

/** A handler gets the decoded request (all messages, for client streams) and the call context. */
export type RpcHandler = (request: any, ctx: CallContext) => Promise<unknown> | AsyncIterable<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ServiceWiring {
  service: 'ModalClient' | 'TaskCommandRouter';
  log: CallLog;
  faults: FaultQueue;
  /** Throws (UNAUTHENTICATED) when the call's credentials are wrong. */
  authenticate(method: string, ctx: CallContext, request: unknown): void;
}

/**
 * A nice-grpc implementation of every method in `def`: each call is recorded, may fail with an
 * injected fault, is authenticated, then handled; methods without a handler answer UNIMPLEMENTED.
 */
export function implementService(
  def: ServiceDefinition,
  handlers: Record<string, RpcHandler>,
  w: ServiceWiring,
): Record<string, unknown> {
  const impl: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(def.methods)) {
    const name = method.name;
    const handler = handlers[name];
    const begin = (request: unknown, ctx: CallContext): void => {
      const call = { method: name, service: w.service, request, at: Date.now() } as const;
      const fail = (err: ServerError): never => {
        w.log.record({ ...call, error: Status[err.code] });
        throw err;
      };
      const fault = w.faults.take(name);
      if (fault) fail(fault);
      if (!handler) fail(new ServerError(Status.UNIMPLEMENTED, `fake Modal does not implement ${name}`));
      try {
        w.authenticate(name, ctx, request);
      } catch (err) {
        if (err instanceof ServerError) fail(err);
        throw err;
      }
      w.log.record(call);
    };
    if (method.responseStream) {
      impl[key] = async function* (request: unknown, ctx: CallContext) {
        const req = method.requestStream ? await collect(request as AsyncIterable<unknown>) : request;
        begin(req, ctx);
        yield* handler!(req, ctx) as AsyncIterable<unknown>;
      };
    } else {
      impl[key] = async (request: unknown, ctx: CallContext) => {
        const req = method.requestStream ? await collect(request as AsyncIterable<unknown>) : request;
        begin(req, ctx);
        return await (handler!(req, ctx) as Promise<unknown>);
      };
    }
  }
  return impl;
}

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const m of stream) all.push(m);
  return all;
}
