import { ServerError, Status, type CallContext } from 'nice-grpc';
import type { CallLog, RecordedCall } from './call-log.ts';
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
 * A call that fails, here or in its handler, is recorded with its status.
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
    const begin = (request: unknown, ctx: CallContext): RecordedCall => {
      const call: RecordedCall = { method: name, service: w.service, request, at: Date.now() };
      const fail = (err: ServerError): never => {
        w.log.record({ ...call, error: Status[err.code] });
        throw err;
      };
      const fault = w.faults.take(name);
      if (fault) {
        // nice-grpc sends the context's trailer with the error status.
        for (const [key, value] of Object.entries(fault.trailer ?? {})) ctx.trailer.set(key, value);
        fail(fault.error);
      }
      if (!handler) fail(new ServerError(Status.UNIMPLEMENTED, `fake Modal does not implement ${name}`));
      try {
        w.authenticate(name, ctx, request);
      } catch (err) {
        if (err instanceof ServerError) fail(err);
        throw err;
      }
      w.log.record(call);
      return call;
    };
    const noteError = (call: RecordedCall, err: unknown): void => {
      if (err instanceof ServerError) call.error = Status[err.code];
    };
    if (method.responseStream) {
      impl[key] = async function* (request: unknown, ctx: CallContext) {
        const req = method.requestStream ? await collect(request as AsyncIterable<unknown>) : request;
        const call = begin(req, ctx);
        try {
          yield* handler!(req, ctx) as AsyncIterable<unknown>;
        } catch (err) {
          noteError(call, err);
          throw err;
        }
      };
    } else {
      impl[key] = async (request: unknown, ctx: CallContext) => {
        const req = method.requestStream ? await collect(request as AsyncIterable<unknown>) : request;
        const call = begin(req, ctx);
        try {
          return await (handler!(req, ctx) as Promise<unknown>);
        } catch (err) {
          noteError(call, err);
          throw err;
        }
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
