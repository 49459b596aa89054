"""A user's session with docker-py (the Python Docker SDK) against one Engine API socket.

Usage: python3 docker_py_scenario.py SOCKET IMAGE PREFIX [--skip STEP]...

IMAGE is an image the daemon already has (nothing is pulled: no traffic leaves the machine);
PREFIX starts every name this script makes, so two runs side by side do not meet. Each check
prints one line "ok <name>"; the first that fails raises (exit 1, the traceback on stderr). At the
end one JSON line with the client's version, the API version it negotiated and the checks made.
Everything made is removed, also after a failure. The same script passes against Debian's dockerd
(test/interop/clients-docker-py.test.ts runs it against both).
"""

import json
import sys
import time

import docker
from docker.errors import ContainerError, ImageNotFound, NotFound

checks = []


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name}: {detail}")
    checks.append(name)
    print(f"ok {name}", flush=True)


def poll(what, timeout=20):
    """what() until it returns something true; that value (an AssertionError after timeout s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout} s")
        time.sleep(0.1)


def system(client):
    check("ping", client.ping() is True)
    version = client.version()
    check("version", version["Os"] == "linux" and version["ApiVersion"] and version["Version"], version)
    info = client.info()
    check(
        "info",
        isinstance(info["Containers"], int) and isinstance(info["Images"], int) and info["ServerVersion"],
        info,
    )
    check("api version negotiated", client.api.api_version == version["ApiVersion"], client.api.api_version)


def images(client, image, prefix):
    tags = [t for i in client.images.list() for t in i.tags]
    check("images.list shows the image", image in tags, tags)
    img = client.images.get(image)
    check("images.get id", img.id.startswith("sha256:") and len(img.id) == 71, img.id)
    attrs = img.attrs
    check(
        "image attrs",
        attrs["Os"] == "linux" and attrs["RootFS"]["Type"] == "layers" and len(attrs["RootFS"]["Layers"]) >= 1,
        attrs,
    )
    # (docker-py 5 shortens to 10 hex digits, 7 to 12)
    check("image short_id", img.id.startswith(img.short_id) and len(img.short_id) >= 17, img.short_id)
    repo = f"{prefix}-tagged"
    check("image.tag", img.tag(repo, "v1") is True)
    tagged = client.images.get(f"{repo}:v1")
    check("the tag names the same image", tagged.id == img.id, tagged.id)
    listed = client.images.list(name=repo)
    check("images.list(name=) by reference", [i.id for i in listed] == [img.id], listed)
    check("images.list(filters=dangling false)", img.id in [i.id for i in client.images.list(filters={"dangling": False})])
    client.images.remove(f"{repo}:v1")
    try:
        client.images.get(f"{repo}:v1")
        check("a removed tag is gone", False, "still there")
    except ImageNotFound:
        check("a removed tag is gone", True)
    check("the image itself stays", client.images.get(image).id == img.id)
    try:
        client.containers.create(f"{prefix}-absent:1", ["true"])
        check("create of an absent image", False, "created")
    except ImageNotFound:
        check("create of an absent image", True)


def running_container(client, image, prefix, skip):
    name = f"{prefix}-runner"
    script = "echo made > /made; echo out; echo err >&2; while true; do sleep 1; done"
    c = client.containers.run(
        image,
        ["sh", "-c", script],
        detach=True,
        name=name,
        labels={"suite": prefix},
        environment={"GREETING": "hi"},
    )
    try:
        check("containers.run(detach) gives a Container", len(c.id) == 64, c.id)
        c.reload()
        check("it runs", c.status == "running", c.status)
        check("its name", c.name == name, c.name)
        check("containers.get by name", client.containers.get(name).id == c.id)
        check("containers.get by short id", client.containers.get(c.id[:12]).id == c.id)
        ids = lambda cs: [x.id for x in cs]  # noqa: E731
        check("containers.list", c.id in ids(client.containers.list()))
        check("list(filters=label)", ids(client.containers.list(filters={"label": f"suite={prefix}"})) == [c.id])
        check("list(filters=name)", ids(client.containers.list(filters={"name": name})) == [c.id])
        check("list(filters=status running)", c.id in ids(client.containers.list(filters={"status": "running"})))
        check(
            "list(all, filters=status exited) leaves it out",
            c.id not in ids(client.containers.list(all=True, filters={"status": "exited"})),
        )
        check("list(filters=id)", ids(client.containers.list(filters={"id": c.id[:10]})) == [c.id])
        inspect_shapes(client, c, name, image)

        poll(lambda: b"out" in c.logs())
        check("logs(stdout)", c.logs(stdout=True, stderr=False) == b"out\n", c.logs(stdout=True, stderr=False))
        check("logs(stderr)", c.logs(stdout=False, stderr=True) == b"err\n", c.logs(stdout=False, stderr=True))
        streamed = b"".join(c.logs(stream=True, follow=False))
        check("logs(stream) has both lines", sorted(streamed.split()) == [b"err", b"out"], streamed)
        stamped = c.logs(timestamps=True, stderr=False).decode()
        check("logs(timestamps)", stamped.endswith(" out\n") and stamped[:4].isdigit() and "T" in stamped, stamped)
        check("logs(tail=1) is one line", len(c.logs(tail=1).splitlines()) == 1, c.logs(tail=1))

        top = c.top()
        check("top", "PID" in top["Titles"] and len(top["Processes"]) >= 1, top)

        if "exec" not in skip:
            execs(c)

        commit(client, c, image, prefix)

        c.pause()
        c.reload()
        check("pause", c.status == "paused", c.status)
        c.unpause()
        c.reload()
        check("unpause", c.status == "running", c.status)

        c.stop(timeout=1)
        # sh as pid 1 ignores SIGTERM: the stop ends with SIGKILL after the timeout.
        check("wait after stop", c.wait(timeout=30) == {"StatusCode": 137, "Error": None}, c.wait())
        c.reload()
        check("exited", c.status == "exited" and c.attrs["State"]["ExitCode"] == 137, c.attrs["State"])
        check(
            "list(all, filters=status exited) has it",
            c.id in ids(client.containers.list(all=True, filters={"status": "exited"})),
        )
        check("list() leaves a stopped one out", c.id not in ids(client.containers.list()))
        c.remove()
        try:
            client.containers.get(name)
            check("removed", False, "still there")
        except NotFound:
            check("removed", True)
    finally:
        try:
            c.remove(force=True)
        except NotFound:
            pass


def inspect_shapes(client, c, name, image):
    """api.inspect_container's fields that clients and compose read, with dockerd's types."""
    j = client.api.inspect_container(c.id)
    check("inspect Id, Name", j["Id"] == c.id and j["Name"] == f"/{name}", (j["Id"], j["Name"]))
    check("inspect Created", isinstance(j["Created"], str) and j["Created"].startswith("20"), j["Created"])
    check("inspect Path/Args", j["Path"] == "sh" and j["Args"][0] == "-c", (j["Path"], j["Args"]))
    state = j["State"]
    check(
        "inspect State",
        state["Status"] == "running"
        and state["Running"] is True
        and state["Paused"] is False
        and state["Pid"] > 0
        and state["ExitCode"] == 0
        and isinstance(state["StartedAt"], str)
        and state["OOMKilled"] is False,
        state,
    )
    check("inspect Image is the image id", j["Image"] == client.images.get(image).id, j["Image"])
    config = j["Config"]
    check("inspect Config.Image", config["Image"] == image, config["Image"])
    check("inspect Config.Env", "GREETING=hi" in config["Env"], config["Env"])
    check("inspect Config.Labels", config["Labels"].get("suite") == name.rsplit("-", 1)[0], config["Labels"])
    check("inspect Config.Cmd", config["Cmd"][0] == "sh", config["Cmd"])
    host = j["HostConfig"]
    check("inspect HostConfig", isinstance(host["NetworkMode"], str) and "RestartPolicy" in host, host)
    check("inspect Mounts", isinstance(j["Mounts"], list), j.get("Mounts"))
    check("inspect NetworkSettings", isinstance(j["NetworkSettings"], dict), j.get("NetworkSettings"))
    check("inspect LogPath", isinstance(j["LogPath"], str), j.get("LogPath"))


def commit(client, c, image, prefix):
    """container.commit of a running container: its file, the --change and its config in the image."""
    repo = f"{prefix}-committed"
    since = int(time.time()) - 1
    img = c.commit(repository=repo, tag="v1", message="snap", author="me", changes=['CMD ["cat", "/made"]'])
    check("commit names the image", img.tags == [f"{repo}:v1"], img.tags)
    a = img.attrs
    check(
        "commit's config: the change, the container's env and labels",
        a["Config"]["Cmd"] == ["cat", "/made"]
        and "GREETING=hi" in a["Config"]["Env"]
        and a["Config"]["Labels"].get("suite") == prefix,
        a["Config"],
    )
    check("commit's comment and author", (a["Comment"], a["Author"]) == ("snap", "me"), (a["Comment"], a["Author"]))
    parent = client.images.get(image).attrs
    check(
        "commit adds one layer",
        a["RootFS"]["Layers"][:-1] == parent["RootFS"]["Layers"] and len(a["RootFS"]["Layers"]) == len(parent["RootFS"]["Layers"]) + 1,
        a["RootFS"],
    )
    events = list(
        client.events(
            since=since, until=int(time.time()) + 1, filters={"event": "commit", "container": c.id}, decode=True
        )
    )
    attrs = [e["Actor"]["Attributes"] for e in events]
    check(
        "one commit event with the comment, the new id and the name",
        [(a.get("comment"), a.get("imageID"), a.get("imageRef")) for a in attrs] == [("snap", img.id, f"{repo}:v1")],
        attrs,
    )
    check("commit's history entry", img.history()[0]["CreatedBy"].startswith("sh -c echo made"), img.history()[0])
    c.reload()
    check("the container runs on after the commit (unpaused)", c.status == "running", c.status)
    out = client.containers.run(img.id, remove=True)
    check("the committed image has the container's file", out == b"made\n", out)
    client.images.remove(f"{repo}:v1")
    try:
        client.api.commit(f"{prefix}-no-such")
        check("commit of an unknown container", False, "committed")
    except NotFound:
        check("commit of an unknown container", True)


def execs(c):
    r = c.exec_run(["sh", "-c", "echo $GREETING from exec; exit 3"])
    check("exec_run output and exit code", r.exit_code == 3 and r.output == b"hi from exec\n", r)
    r = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    check("exec_run(demux)", r.output == (b"o\n", b"e\n"), r)
    r = c.exec_run(["sh", "-c", 'echo "$PWD $EXTRA"'], workdir="/tmp", environment={"EXTRA": "x"})
    check("exec_run(workdir, environment)", r.output == b"/tmp x\n", r)
    r = c.exec_run(["id", "-u"], user="1000")
    check("exec_run(user)", r.output == b"1000\n", r)
    chunks = c.exec_run(["sh", "-c", "echo a; sleep 0.2; echo b"], stream=True).output
    check("exec_run(stream)", b"".join(chunks) == b"a\nb\n")


def short_lived(client, image, prefix):
    out = client.containers.run(image, ["sh", "-c", "echo run"], remove=True, name=f"{prefix}-rm")
    check("containers.run(remove) gives the output", out == b"run\n", out)
    check("and nothing is left", not client.containers.list(all=True, filters={"name": f"{prefix}-rm"}))
    try:
        client.containers.run(image, ["sh", "-c", "echo bad >&2; exit 2"], name=f"{prefix}-fail")
        check("a failing run raises ContainerError", False, "no error")
    except ContainerError as e:
        check("a failing run raises ContainerError", e.exit_status == 2 and b"bad" in e.stderr, (e.exit_status, e.stderr))
    finally:
        client.containers.get(f"{prefix}-fail").remove(force=True)

    c = client.containers.create(image, ["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done; exit 4"])
    try:
        check("containers.create", c.status == "created", c.status)
        c.start()
        followed = b"".join(c.logs(stream=True, follow=True))
        check("logs(stream, follow) ends with the container", followed == b"line1\nline2\nline3\n", followed)
        check("wait gives the exit code", c.wait(timeout=30)["StatusCode"] == 4)
        c.rename(f"{prefix}-renamed")
        c.reload()
        check("rename", c.name == f"{prefix}-renamed", c.name)
    finally:
        c.remove(force=True)

    c = client.containers.run(image, ["sleep", "1000"], detach=True)
    try:
        c.kill(signal="SIGKILL")
        check("kill → 137", c.wait(timeout=30)["StatusCode"] == 137)
    finally:
        c.remove(force=True)
    prune_label = {"prune": prefix}
    exited = client.containers.run(image, ["true"], detach=True, labels=prune_label)
    created = client.containers.create(image, ["true"], labels=prune_label)
    running = client.containers.run(image, ["sleep", "1000"], detach=True, labels=prune_label)
    other = client.containers.create(image, ["true"], labels={"prune": f"{prefix}-other"})
    try:
        exited.wait(timeout=30)
        pruned = client.containers.prune(filters={"label": f"prune={prefix}"})
        check(
            "containers.prune(label) takes the exited and the created one",
            sorted(pruned["ContainersDeleted"]) == sorted([exited.id, created.id])
            and isinstance(pruned["SpaceReclaimed"], int),
            pruned,
        )
        left = [c.id for c in client.containers.list(all=True, filters={"label": "prune"})]
        check("the running one and the unmatched one stay", sorted(left) == sorted([running.id, other.id]), left)
        none = client.containers.prune(filters={"label": f"prune={prefix}", "until": "2000-01-01T00:00:00Z"})
        check("prune(until) before they were made takes none", none["ContainersDeleted"] is None, none)
    finally:
        for c in (exited, created, running, other):
            try:
                c.remove(force=True)
            except NotFound:
                pass

    try:
        client.containers.get(f"{prefix}-no-such")
        check("get of an unknown name", False, "found")
    except NotFound:
        check("get of an unknown name", True)


def main():
    sock, image, prefix = sys.argv[1:4]
    skip = set(sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--skip")
    client = docker.DockerClient(base_url=f"unix://{sock}", version="auto", timeout=60)
    try:
        system(client)
        images(client, image, prefix)
        running_container(client, image, prefix, skip)
        short_lived(client, image, prefix)
    finally:
        for c in client.containers.list(all=True):
            if c.name.startswith(prefix):
                c.remove(force=True)
    summary = {"docker_py": docker.__version__, "api": client.api.api_version, "checks": len(checks)}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
