import { randomUUID } from 'node:crypto';
import { ServerError, Status, type CallContext } from 'nice-grpc';
import type { ControlPlane } from './control-plane.ts';
import type { FakeExec } from './fake-exec.ts';
import type { FakeSandbox } from './fake-sandbox.ts';
import type { RpcHandler } from './grpc-service.ts';

interface Req {
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Handlers of the task command router service: exec, its stdio, readiness. */
export class CommandRouter {
  constructor(private readonly cp: ControlPlane) {}

  /** The sandbox the router JWT was issued for; the request's task must be that sandbox's. */
  authenticate(ctx: CallContext, request: unknown): void {
    const auth = ctx.metadata.get('authorization') ?? '';
    const jwt = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const sandboxId = [...this.cp.routerJwts.entries()].find(([, t]) => t.jwt === jwt)?.[0];
    if (!sandboxId) throw new ServerError(Status.UNAUTHENTICATED, 'invalid command router token');
    const taskId = Array.isArray(request) ? (request[0] as Req | undefined)?.start?.taskId : (request as Req).taskId;
    // The JWT's task, even once its sandbox is forgotten: the handler then answers NOT_FOUND.
    if (taskId !== undefined && taskId !== this.cp.routerJwts.get(sandboxId)?.taskId)
      throw new ServerError(Status.PERMISSION_DENIED, `token is not valid for task ${taskId}`);
  }

  #task(taskId: string): FakeSandbox {
    const sb = this.cp.sandboxByTask(taskId);
    if (!sb) throw new ServerError(Status.NOT_FOUND, `task ${taskId} not found`);
    return sb;
  }

  #exec(taskId: string, execId: string): FakeExec {
    const exec = this.#task(taskId).execs.get(execId);
    if (!exec) throw new ServerError(Status.NOT_FOUND, `exec ${execId} not found`);
    return exec;
  }

  /** An exec whose stdin may still be written: refused once the process has exited. */
  #liveExec(taskId: string, execId: string): FakeExec {
    const exec = this.#exec(taskId, execId);
    if (!exec.running) throw new ServerError(Status.FAILED_PRECONDITION, `exec ${execId} has already exited`);
    return exec;
  }

  handlers(): Record<string, RpcHandler> {
    const self = this; // the streaming handlers are generator functions
    const exitOf = (exec: FakeExec): object =>
      exec.exit === undefined
        ? {}
        : exec.exit.signal !== null
          ? { signal: exec.exit.signal }
          : { code: exec.exit.code ?? 0 };
    return {
      TaskExecStart: async (req: Req) => {
        const sb = this.#task(req.taskId);
        if (sb.finished) throw new ServerError(Status.FAILED_PRECONDITION, `Sandbox ${sb.id} has finished`);
        // We could not confirm what Modal answers before the container runs; FAILED_PRECONDITION
        // because the SDK does not retry it, so a caller that does not wait fails, as it may there.
        if (!sb.running) throw new ServerError(Status.FAILED_PRECONDITION, `Task ${req.taskId} is not running yet`);
        if (sb.execs.has(req.execId)) return {}; // a retried start
        const env: Record<string, string> = { ...(req.env ?? {}) };
        for (const source of (req.secretSources ?? []) as Req[]) Object.assign(env, source.env?.contents ?? {});
        await sb.exec(req.execId, req.commandArgs, {
          env,
          workdir: req.workdir || undefined,
          keepStdout: req.stdoutConfig === 1,
          keepStderr: req.stderrConfig === 1,
          timeoutSecs: req.timeoutSecs || undefined,
        });
        return {};
      },

      // fileDescriptor: 0 = stdout, 1 = stderr (TaskExecStdioFileDescriptor).
      TaskExecStdioRead: async function* (req: Req, ctx: CallContext) {
        const exec = self.#exec(req.taskId, req.execId);
        const stream = req.fileDescriptor === 1 ? exec.stderr : exec.stdout;
        for await (const data of stream.readFrom(req.offset ?? 0, ctx.signal)) yield { data };
      },

      TaskExecStdinWrite: async (req: Req) => {
        this.#liveExec(req.taskId, req.execId).writeStdin(
          req.offset ?? 0,
          req.data ?? new Uint8Array(),
          req.eof ?? false,
        );
        return {};
      },

      TaskExecStdinWriteStream: async (messages: Req[]) => {
        const start = messages[0]?.start as Req | undefined;
        if (!start) throw new ServerError(Status.INVALID_ARGUMENT, 'the first message must be `start`');
        const exec = this.#liveExec(start.taskId, start.execId);
        let offset = start.offset ?? 0;
        for (const m of messages.slice(1)) {
          if (m.data) {
            exec.writeStdin(offset, m.data, false);
            offset += m.data.length;
          } else if (m.end) exec.writeStdin(offset, new Uint8Array(), true);
        }
        return {};
      },

      TaskExecStdinStatus: async (req: Req) => {
        const exec = this.#exec(req.taskId, req.execId);
        return { numBytesWritten: exec.stdinBytesWritten, closed: exec.stdinClosed };
      },

      TaskExecPoll: async (req: Req) => exitOf(this.#exec(req.taskId, req.execId)),

      TaskExecWait: async (req: Req, ctx: CallContext) => {
        const exec = this.#exec(req.taskId, req.execId);
        await exec.waitExit(55_000, ctx.signal);
        if (exec.running) throw new ServerError(Status.DEADLINE_EXCEEDED, 'still running');
        return exitOf(exec);
      },

      SandboxWaitUntilReady: async (req: Req, ctx: CallContext) => {
        const sb = this.#task(req.taskId);
        const probe = sb.spec.readinessProbe;
        if (!probe) throw new ServerError(Status.FAILED_PRECONDITION, 'Sandbox has no readiness probe');
        const deadline = Date.now() + (req.timeout ? req.timeout * 1000 : 300_000);
        const interval = probe.intervalMs || 100;
        // While the container is scheduled, this waits for it, then for the probe.
        while (Date.now() < deadline && !ctx.signal.aborted) {
          if (sb.finished) {
            const tail = `${sb.stdout.text()}\n${sb.stderr.text()}`.trim().split('\n').slice(-15).join('\n');
            throw new ServerError(
              Status.FAILED_PRECONDITION,
              `Sandbox ${sb.id} has finished (${sb.status}); its output ends:\n${tail}`,
            );
          }
          if (sb.running && (await probeOnce(sb, probe, `probe-${randomUUID()}`)))
            return { readyAt: Date.now() / 1000 };
          await new Promise((r) => setTimeout(r, interval));
        }
        throw new ServerError(Status.DEADLINE_EXCEEDED, 'Sandbox is not ready');
      },

      // The sandbox command's own output (sb.stdout / sb.stderr): 0 = stdout, 1 = stderr.
      SandboxStdioReadV2: async function* (req: Req, ctx: CallContext) {
        const sb = self.#task(req.taskId);
        const stream = req.fileDescriptor === 1 ? sb.stderr : sb.stdout;
        let offset = req.offset ?? 0;
        for await (const data of stream.readFrom(offset, ctx.signal)) {
          yield { data, startingOffset: offset };
          offset += data.length;
        }
      },
    };
  }
}

async function probeOnce(
  sb: FakeSandbox,
  probe: { tcpPort?: number; execArgv?: string[] },
  execId: string,
): Promise<boolean> {
  if (probe.tcpPort) {
    const sock = await sb.connect(probe.tcpPort);
    sock?.destroy();
    return sock !== null;
  }
  if (probe.execArgv?.length) {
    const exec = await sb.exec(execId, probe.execArgv, {
      env: {},
      keepStdout: false,
      keepStderr: false,
      timeoutSecs: 10,
    });
    const exit = await exec.waitExit(10_000);
    sb.execs.delete(execId);
    return exit?.code === 0;
  }
  return true;
}
