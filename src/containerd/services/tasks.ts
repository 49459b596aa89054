// containerd.services.tasks.v1: tasks are run by shims. Each call finds the task's shim through the
// runtime manager and forwards to its containerd.task.v2.Task service; Create first starts the
// shim with the container's spec, runtime and options, and Delete releases it. The shim publishes
// the task events itself (over the daemon's ttrpc socket). Every call to a shim carries the trace
// of the call being served (ttrpc metadata `traceparent`), so the shim and the runtime log it too.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError, NotImplementedError } from "../../common/errors.ts";
import { validateMounts } from "../../common/mount/mount.ts";
import type { Tasks } from "../../proto/gen/containerd/services/tasks/v1/tasks_pb.js";
import type { StateResponse } from "../../proto/gen/containerd/task/v2/shim_pb.js";
import type { CallOptions, RequestContext } from "../../rpc/context.ts";
import type { Impl } from "../../rpc/service.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import type { ShimManager } from "../runtime/manager.ts";
import { namespaceOf, type ServiceDeps, snapshotterOf } from "./deps.ts";

const processOf = (containerId: string, s: StateResponse) => ({
  containerId,
  id: s.id,
  pid: s.pid,
  status: s.status,
  stdin: s.stdin,
  stdout: s.stdout,
  stderr: s.stderr,
  terminal: s.terminal,
  exitStatus: s.exitStatus,
  exitedAt: s.exitedAt,
});

/** Options of a call to a task's shim: the served call's trace goes on to the shim. */
const toShim = (ctx: RequestContext, timeoutMs?: number): CallOptions => ({ trace: ctx.trace, timeoutMs });

export function tasksService(deps: ServiceDeps, shims: ShimManager): Impl<typeof Tasks> {
  return {
    create: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      if (req.checkpoint) throw new NotImplementedError("checkpoint restore is not supported");
      const c = deps.db.containers.get(ns, req.containerId);
      if (!c.spec) throw new InvalidArgumentError(`container "${c.id}": has no spec`);
      deps.log.withTrace(ctx.trace).info("create task", { namespace: ns, id: c.id });
      let rootfs = req.rootfs;
      // A client's mounts reach mount(8) in the shim when mount(2) cannot take them.
      validateMounts(rootfs, "rootfs");
      if (rootfs.length === 0 && c.snapshotKey !== "") {
        const mounts = await snapshotterOf(deps, c.snapshotter).mounts(ns, c.snapshotKey);
        rootfs = mounts.map((m) => ({
          type: m.type,
          source: m.source,
          target: "",
          options: m.options,
        })) as typeof rootfs;
      }
      const options = req.options ?? c.runtime.options;
      const shim = await shims.start(ns, c.id, c.spec.value, c.runtime.name, req.runtimePath, undefined);
      try {
        const r = await shim.task.create(
          {
            id: c.id,
            bundle: shim.bundle,
            rootfs,
            terminal: req.terminal,
            stdin: req.stdin,
            stdout: req.stdout,
            stderr: req.stderr,
            options: options ? { typeUrl: options.typeUrl, value: options.value } : undefined,
          },
          toShim(ctx, 60_000),
        );
        return { containerId: c.id, pid: r.pid };
      } catch (err) {
        await shims.abandon(shim, ctx.trace);
        throw err;
      } finally {
        shims.settled(shim);
        shims.warmSpare();
      }
    },

    start: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      return { pid: (await h.task.start({ id: req.containerId, execId: req.execId }, toShim(ctx))).pid };
    },

    delete: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      const r = await h.task.delete({ id: req.containerId }, toShim(ctx));
      await shims.release(h, ctx.trace);
      return { id: req.containerId, pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt };
    },

    deleteProcess: async (req, ctx) => {
      if (req.execId === "") throw new InvalidArgumentError("delete the init process with Delete, not DeleteProcess");
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      const r = await h.task.delete({ id: req.containerId, execId: req.execId }, toShim(ctx));
      return { id: req.execId, pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt };
    },

    get: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      const s = await h.task.state({ id: req.containerId, execId: req.execId }, toShim(ctx, 10_000));
      return { process: processOf(req.containerId, s) };
    },

    list: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const match = parseFilters(req.filter ? [req.filter] : []);
      await shims.revivalsSettled();
      const out = [];
      for (const h of shims.list(ns)) {
        try {
          const s = await h.task.state({ id: h.id }, toShim(ctx, 10_000));
          const p = processOf(h.id, s);
          if (match(recordAdaptor({ id: h.id, container_id: h.id, pid: String(s.pid) }))) out.push(p);
        } catch (err) {
          deps.log.warn("shim did not answer State", { namespace: ns, id: h.id, error: String(err) });
        }
      }
      return { tasks: out };
    },

    kill: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      await h.task.kill({ id: req.containerId, execId: req.execId, signal: req.signal, all: req.all }, toShim(ctx));
      return {};
    },

    exec: async (req, ctx) => {
      if (req.execId === "") throw new InvalidArgumentError("exec id must not be empty");
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      await h.task.exec(
        {
          id: req.containerId,
          execId: req.execId,
          terminal: req.terminal,
          stdin: req.stdin,
          stdout: req.stdout,
          stderr: req.stderr,
          spec: req.spec ? { typeUrl: req.spec.typeUrl, value: req.spec.value } : undefined,
        },
        toShim(ctx),
      );
      return {};
    },

    resizePty: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      await h.task.resizePty(
        { id: req.containerId, execId: req.execId, width: req.width, height: req.height },
        toShim(ctx),
      );
      return {};
    },

    closeIO: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      await h.task.closeIO({ id: req.containerId, execId: req.execId, stdin: req.stdin }, toShim(ctx));
      return {};
    },

    pause: async (req, ctx) => {
      await (await shims.ready(namespaceOf(ctx), req.containerId)).task.pause({ id: req.containerId }, toShim(ctx));
      return {};
    },

    resume: async (req, ctx) => {
      await (await shims.ready(namespaceOf(ctx), req.containerId)).task.resume({ id: req.containerId }, toShim(ctx));
      return {};
    },

    listPids: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      const r = await h.task.pids({ id: req.containerId }, toShim(ctx));
      return { processes: r.processes.map((p) => ({ pid: p.pid, info: p.info })) };
    },

    checkpoint: async () => {
      throw new NotImplementedError("checkpoint is not supported");
    },

    update: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      await h.task.update(
        {
          id: req.containerId,
          resources: req.resources ? { typeUrl: req.resources.typeUrl, value: req.resources.value } : undefined,
          annotations: req.annotations,
        },
        toShim(ctx),
      );
      return {};
    },

    metrics: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const match = parseFilters(req.filters);
      const metrics = [];
      for (const h of shims.list(ns)) {
        if (!match(recordAdaptor({ id: h.id }))) continue;
        try {
          const r = await h.task.stats({ id: h.id }, toShim(ctx, 10_000));
          metrics.push({ timestamp: timestampFromDate(new Date()), id: h.id, data: r.stats });
        } catch (err) {
          deps.log.debug("no stats", { id: h.id, error: String(err) });
        }
      }
      return { metrics };
    },

    wait: async (req, ctx) => {
      const h = await shims.ready(namespaceOf(ctx), req.containerId);
      const r = await h.task.wait({ id: req.containerId, execId: req.execId }, toShim(ctx));
      return { exitStatus: r.exitStatus, exitedAt: r.exitedAt };
    },
  };
}
