// Mounts: the container's mount table, bind mounts (ro/rw, files), tmpfs options, rootfs
// propagation, readonly rootfs, masked paths and readonly paths.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ConformanceCase, conformance, contains, MOUNTINFO, probeCase } from "./harness.ts";

async function hostData(dir: string): Promise<void> {
  await writeFile(join(dir, "hello.txt"), "from the host\n");
}

const cases: ConformanceCase[] = [
  probeCase({
    name: "default spec mount table",
    probe: MOUNTINFO,
    check: contains("mount: / ", "mount: /proc proc proc", "mount: /dev/pts devpts devpts", "mount: /sys sysfs sysfs"),
  }),
  probeCase({
    name: "bind mounts: rw and ro, directory and file",
    before: (h) => hostData(h.scratch),
    spec: (s, h) => {
      s.mounts!.push(
        { destination: "/data-rw", type: "bind", source: h.scratch, options: ["rbind", "rw"] },
        { destination: "/data-ro", type: "bind", source: h.scratch, options: ["bind", "ro"] },
        { destination: "/etc/hello.txt", source: join(h.scratch, "hello.txt"), options: ["bind", "ro", "nosuid"] },
      );
    },
    probe: `cat /data-rw/hello.txt /data-ro/hello.txt /etc/hello.txt
echo written > /data-rw/new.txt && echo "rw write ok"
echo nope > /data-ro/nope.txt || echo "ro write failed"
cat /data-ro/new.txt
${MOUNTINFO}`,
    after: async (h) => `new.txt: ${await readFile(join(h.scratch, "new.txt"), "utf8").catch(() => "missing\n")}`,
    check: contains("rw write ok", "ro write failed", "new.txt: written"),
  }),
  probeCase({
    name: "tmpfs with options, and mount points created under a readonly rootfs",
    spec: (s) => {
      s.mounts!.push(
        {
          destination: "/scratch",
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid", "nodev", "noexec", "size=1m", "mode=1750"],
        },
        { destination: "/deep/new/dir", type: "tmpfs", source: "tmpfs", options: ["ro", "size=64k"] },
      );
    },
    probe: `stat -c '%n %a %u:%g' /scratch /deep/new/dir
df -k /scratch | tail -1 | awk '{print "size", $2}'
echo x > /scratch/f && echo "scratch writable"
touch /deep/new/dir/f || echo "ro tmpfs"
${MOUNTINFO}`,
    check: contains("/scratch 1750", "size 1024", "scratch writable", "ro tmpfs"),
  }),
  // rootfsPropagation: root-propagation-hooks-mountns.test.ts (every value, with the runtime's
  // mounts private and shared).
  probeCase({
    name: "bind mount propagation options",
    before: (h) => hostData(h.scratch),
    spec: (s, h) => {
      s.mounts!.push(
        { destination: "/p-shared", type: "bind", source: h.scratch, options: ["rbind", "rshared"] },
        { destination: "/p-slave", type: "bind", source: h.scratch, options: ["rbind", "rslave"] },
        { destination: "/p-private", type: "bind", source: h.scratch, options: ["rbind", "rprivate"] },
      );
    },
    probe: `grep ' /p-' /proc/self/mountinfo | sed 's/^/mi: /'\n`,
  }),
  probeCase({
    name: "readonly rootfs",
    probe: `touch /x || echo "touch failed"; awk '$5 == "/"' /proc/self/mountinfo | sed 's/^/mi: /'\n`,
    check: contains("touch failed", "Read-only file system"),
  }),
  probeCase({
    name: "writable rootfs",
    spec: (s) => {
      s.root!.readonly = false;
    },
    probe: `touch /x && echo "touch ok"; awk '$5 == "/"' /proc/self/mountinfo | sed 's/^/mi: /'\n`,
    check: contains("touch ok"),
  }),
  probeCase({
    name: "masked paths",
    probe: `for p in /proc/kcore /proc/keys /proc/timer_list /proc/acpi /proc/scsi /sys/firmware; do
  if [ -e $p ]; then echo "$p $(stat -c '%F %a' $p) size=$(wc -c < $p 2>/dev/null) entries=$(ls -A $p 2>/dev/null | wc -l)"; else echo "$p absent"; fi
done
echo x > /proc/acpi/f 2>&1 || echo "acpi not writable"
${MOUNTINFO}`,
    // /proc/kcore only exists on kernels built with CONFIG_PROC_KCORE.
    check: contains("/proc/keys character special file 666 size=0", "/sys/firmware directory 1777 size=0 entries=0"),
  }),
  probeCase({
    name: "masked paths: custom list",
    spec: (s) => {
      s.linux!.maskedPaths = ["/etc/passwd", "/usr/sbin", "/does/not/exist"];
    },
    probe: `echo "passwd: $(wc -c < /etc/passwd)"; echo "sbin: $(ls /usr/sbin | wc -l)"; cat /proc/kcore | head -c 4 | wc -c\n`,
    check: contains("passwd: 0", "sbin: 0"),
  }),
  probeCase({
    name: "readonly paths",
    probe: `echo 1 > /proc/sys/kernel/domainname || echo "proc/sys read-only"
echo h > /proc/sysrq-trigger || echo "sysrq-trigger read-only"
cat /proc/sys/kernel/ostype
grep -E ' /proc/(sys|bus|fs|irq|sysrq-trigger) ' /proc/self/mountinfo | sed 's/^/mi: /'
`,
    check: contains("proc/sys read-only", "sysrq-trigger read-only", "Linux"),
  }),
  probeCase({
    name: "readonly paths: custom list over a writable rootfs",
    spec: (s) => {
      s.root!.readonly = false;
      s.linux!.readonlyPaths = ["/etc", "/missing"];
    },
    probe: `touch /etc/x || echo "etc read-only"; touch /x && echo "root writable"\n`,
    check: contains("etc read-only", "root writable"),
  }),
];

conformance("mounts", cases);
