// Progress of long image work (pull, push, unpack), as events a CLI can draw as one bar per blob
// (docker pull style) and a daemon can forward as JSON messages.

export type ProgressPhase =
  | "resolved"
  | "waiting"
  | "downloading"
  | "downloaded"
  | "exists"
  | "extracting"
  | "extracted"
  | "uploading"
  | "uploaded"
  | "done";

export interface ProgressEvent {
  phase: ProgressPhase;
  /** The blob (or the image's root descriptor for "resolved"/"done"). */
  digest: string;
  mediaType?: string;
  /** Bytes done and total for the blob, when the phase has a size. */
  current?: number;
  total?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const noProgress: ProgressListener = () => {};

/** Limits how often byte-count events go out: a bar needs ~10 updates a second, not one per chunk. */
export function throttledBytes(
  emit: ProgressListener,
  base: Omit<ProgressEvent, "current">,
  intervalMs = 100,
): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = Date.now();
    if (now - last < intervalMs && current !== base.total) return;
    last = now;
    emit({ ...base, current });
  };
}
