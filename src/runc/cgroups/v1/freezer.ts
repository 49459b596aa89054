// v1 freezer: FROZEN stops every task of the cgroup; the kernel moves through FREEZING first.
import { FailedPreconditionError } from "../../../common/errors.ts";
import { readCgroupFile, sleepSync, writeCgroupFile } from "../fsutil.ts";

export function setFrozenV1(dir: string, frozen: boolean): void {
  const want = frozen ? "FROZEN" : "THAWED";
  for (let i = 0; i < 1000; i++) {
    writeCgroupFile(dir, "freezer.state", want);
    if (readCgroupFile(dir, "freezer.state").trim() === want) return;
    // A task in an uninterruptible sleep holds FREEZING; rewriting the state retries it.
    sleepSync(i < 10 ? 1 : 10);
  }
  throw new FailedPreconditionError(`cgroup ${dir} did not reach ${want}`);
}

export function isFrozenV1(dir: string): boolean {
  return readCgroupFile(dir, "freezer.state").trim() !== "THAWED";
}
