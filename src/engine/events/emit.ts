// What the rest of berthd calls to report an event, with the actor's attributes as dockerd gives
// them: a container's labels, then its image (as the client named it) and its name (no slash),
// then the action's own (exitCode, signal, oldName, execID, ...); an image's name. Whoever has no
// bus (a test, a tool) gets NO_EVENTS.
import type { EventBus } from "./bus.ts";

/** What a container event needs of a container record. */
export interface ContainerSubject {
  ID: string;
  /** "/name", as records keep it. */
  Name: string;
  Config: { Image: string; Labels?: Readonly<Record<string, string>> | null };
}

export interface EngineEvents {
  /** A container event: create, start, die (exitCode), kill (signal), exec_create: ..., ... */
  container(c: ContainerSubject, action: string, extra?: Readonly<Record<string, string>>): void;
  /** An image event; attributes as dockerd's: {name} (a reference, or the id), or prune's {reclaimed}. */
  image(id: string, action: string, attributes: Readonly<Record<string, string>>): void;
  /** A prune's event: no actor id, what it freed (dockerd's `reclaimed`). */
  pruned(type: "container" | "image", reclaimed: number): void;
}

export const NO_EVENTS: EngineEvents = { container: () => {}, image: () => {}, pruned: () => {} };

export function busEvents(bus: EventBus): EngineEvents {
  return {
    container(c, action, extra = {}) {
      const attributes: Record<string, string> = {
        ...c.Config.Labels,
        image: c.Config.Image,
        name: c.Name.replace(/^\//, ""),
        ...extra,
      };
      bus.publish("container", action, { ID: c.ID, Attributes: attributes });
    },
    image(id, action, attributes) {
      bus.publish("image", action, { ID: id, Attributes: { ...attributes } });
    },
    pruned(type, reclaimed) {
      bus.publish(type, "prune", { ID: "", Attributes: { reclaimed: String(reclaimed) } });
    },
  };
}
