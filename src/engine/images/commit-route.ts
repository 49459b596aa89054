// POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes= (docker commit, docker-py's
// container.commit, dockerode's container.commit), the body an optional container config: 201
// {Id}. A running container is paused for the diff unless pause=0, as dockerd does.
import { InvalidArgumentError } from "../../common/errors.ts";
import { queryBool } from "../api/query.ts";
import type { ApiServer } from "../api/server.ts";
import type { ContainerSubject } from "../events/emit.ts";
import { applyChanges, MAX_CHANGE_CHARS, MAX_CHANGES } from "./changes.ts";
import { mergeCommitConfig } from "./commit.ts";
import { parseTagTarget } from "./reference.ts";
import type { ImageService } from "./service.ts";

const MAX_TEXT = 4096;

/** What commit needs of a container (the containers side, which this module does not import). */
export interface CommitSource {
  get(ref: string): ContainerSubject & {
    Image: string;
    Path: string;
    Args: string[];
    State: { Running: boolean; Paused: boolean };
  };
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
}

export function addCommitRoute(api: ApiServer, images: ImageService, containers: CommitSource): void {
  api.route("POST", "/commit", async (ctx) => {
    const q = ctx.query;
    const r = containers.get(q.get("container") ?? "");
    const repo = q.get("repo") ?? "";
    const tag = q.get("tag") ?? "";
    const comment = q.get("comment") ?? "";
    const author = q.get("author") ?? "";
    const changes = q.getAll("changes");
    if ([repo, tag, comment, author].some((v) => v.length > MAX_TEXT))
      throw new InvalidArgumentError(`commit: a parameter longer than ${MAX_TEXT} characters`);
    if (changes.length > MAX_CHANGES || changes.some((c) => c.length > MAX_CHANGE_CHARS))
      throw new InvalidArgumentError(
        `commit: more than ${MAX_CHANGES} changes, or one longer than ${MAX_CHANGE_CHARS}`,
      );
    const ref = repo ? parseTagTarget(repo, tag) : undefined;
    const body = await ctx.readJson();
    if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body)))
      throw new InvalidArgumentError("commit: the body must be a container config (a JSON object)");
    const requested = applyChanges((body ?? {}) as Record<string, unknown>, changes);
    const config = mergeCommitConfig(requested, r.Config as unknown as Record<string, unknown>);
    const pause = queryBool(q, "pause", true) && r.State.Running && !r.State.Paused;
    if (pause) await containers.pause(r.ID);
    try {
      const id = await images.commit({
        container: r,
        imageId: r.Image,
        ...(ref ? { ref } : {}),
        config,
        author,
        comment,
        createdBy: [r.Path, ...r.Args].join(" "),
      });
      return { status: 201, json: { Id: id } };
    } finally {
      if (pause) await containers.unpause(r.ID).catch(() => {});
    }
  });
}
