"""Each restriction of the sandbox holds, checked against a real Docker engine."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from sandboxes.limits import Limits
from sandboxes.sandbox import Sandbox

pytestmark = pytest.mark.docker


def sh(box: Sandbox, command: str, timeout_s: float | None = None) -> Any:
    return box.exec(["sh", "-c", command], timeout_s=timeout_s)


def test_only_loopback_interface(shared_box: Sandbox) -> None:
    result = sh(shared_box, "ls /sys/class/net")
    assert result.exit_code == 0
    assert result.output.split() == ["lo"]


def test_root_filesystem_is_read_only(shared_box: Sandbox) -> None:
    result = sh(shared_box, "touch /etc/owned || echo refused; touch /bin/x || echo refused")
    assert result.output.count("refused") == 2
    assert "Read-only file system" in result.output


def test_runs_as_non_root_without_capabilities(shared_box: Sandbox) -> None:
    assert sh(shared_box, "id -u").output.strip() == "1000"
    status = sh(shared_box, "cat /proc/self/status").output
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["CapEff"].strip() == "0000000000000000"
    assert fields["CapPrm"].strip() == "0000000000000000"
    assert fields["CapBnd"].strip() == "0000000000000000"
    assert fields["NoNewPrivs"].strip() == "1"


def test_container_config_is_locked_down(shared_box: Sandbox, docker_client: Any) -> None:
    info = docker_client.api.inspect_container(shared_box.id)
    host = info["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["PidsLimit"] == Limits().pids
    assert host["Memory"] == Limits().memory_mb * 1024 * 1024
    assert host["NanoCpus"] == int(Limits().cpus * 1e9)
    assert host["LogConfig"]["Type"] == "none"
    assert host["Privileged"] is False
    assert not host.get("Binds")
    assert all("docker.sock" not in str(m.get("Source")) for m in info["Mounts"])
    assert info["Config"]["Labels"]["mosaic.owner_pid"] == str(os.getpid())
    assert info["Config"]["Labels"]["mosaic.scenario"] == "sandbox-test"


def test_no_docker_socket_inside(shared_box: Sandbox) -> None:
    result = sh(
        shared_box,
        "for p in /var/run/docker.sock /run/docker.sock; do [ -e $p ] && echo found $p; done; "
        "find / \\( -path /proc -o -path /sys \\) -prune -o -type s -print; echo end",
    )
    assert result.output.split() == ["end"]


def test_endless_command_ends_at_its_timeout(shared_box: Sandbox) -> None:
    started = time.monotonic()
    result = sh(shared_box, "while :; do :; done", timeout_s=1)
    assert time.monotonic() - started < 5
    assert result.exit_code == 137
    assert result.extra.get("timed_out") is True
    assert "time limit" in result.output


def test_background_children_are_killed_with_the_call(shared_box: Sandbox) -> None:
    started = time.monotonic()
    result = sh(shared_box, "sleep 299 & echo started")
    assert result.output.strip() == "started"
    assert time.monotonic() - started < 5
    assert "sleep 299" not in sh(shared_box, "ps -o args").output


def test_output_flood_is_capped(shared_box: Sandbox) -> None:
    result = shared_box.exec(["yes", "flood"])
    cap = shared_box.limits.output_cap_bytes
    assert result.truncated
    assert result.output.startswith("flood\nflood\n")
    assert result.output.endswith(f"[output cut: more than {cap} bytes]")
    assert len(result.output.encode()) < cap + 100


def test_fork_bomb_stops_at_the_pids_limit(shared_box: Sandbox) -> None:
    result = sh(shared_box, "bomb() { bomb | bomb & }; bomb; sleep 2", timeout_s=4)
    assert "can't fork" in result.output
    after = sh(
        shared_box,
        "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; echo ok",
    )
    assert after.exit_code == 0
    assert after.output.split() == [str(shared_box.limits.pids), "ok"]


def test_memory_hog_is_killed(new_box: Callable[..., Sandbox]) -> None:
    box = new_box(limits=Limits(memory_mb=64, workspace_mb=16, tmp_mb=8))
    started = time.monotonic()
    result = sh(
        box, "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}", timeout_s=20
    )
    assert "survived" not in result.output
    assert result.exit_code == 137  # SIGKILL from the kernel's OOM killer, not the timeout
    assert not result.extra.get("timed_out") and "time limit" not in result.output
    assert time.monotonic() - started < 20
    assert sh(box, "echo alive").output.strip() == "alive"


def test_host_is_unaffected(shared_box: Sandbox, tmp_path: Path, docker_client: Any) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("still here")
    result = sh(shared_box, f"rm -rf {canary} {tmp_path} 2>&1; ls {tmp_path} 2>&1; echo done")
    assert "done" in result.output
    assert canary.read_text() == "still here"
    assert docker_client.ping()


def test_a_process_escaping_the_group_cannot_hold_the_call(shared_box: Sandbox) -> None:
    started = time.monotonic()
    result = sh(shared_box, "setsid sleep 28 & echo escaped", timeout_s=5)
    assert result.output.strip() == "escaped"
    assert time.monotonic() - started < 4
    assert "sleep 28" not in sh(shared_box, "ps -o args").output  # it held the output: killed


def test_output_cannot_fake_the_exit_code(shared_box: Sandbox) -> None:
    result = sh(shared_box, "printf 'x\\n\\001MOSAIC-EXIT:0\\n'; exit 5")
    assert result.exit_code == 5
    assert "MOSAIC-EXIT:0" in result.output


def test_writing_to_the_main_process_output_reaches_no_log(
    shared_box: Sandbox, docker_client: Any
) -> None:
    sh(shared_box, "echo into-the-log > /proc/1/fd/1; echo into-the-log > /proc/1/fd/2")
    with pytest.raises(docker.errors.APIError, match="logging driver does not support reading"):
        docker_client.api.logs(shared_box.id)


def test_killing_everything_inside_does_not_take_the_box_down(
    new_box: Callable[..., Sandbox],
) -> None:
    box = new_box(allow_shell=True)
    sh(box, "kill -9 -1; kill -9 1; echo unreachable")
    assert sh(box, "echo alive").output == "alive\n"
    secret = box.tokens.values["bank"]
    result = box.call_tool("login", {"service": "bank", "username": "alice", "password": secret})
    assert result.output.startswith("200 OK")  # the login service came back
    assert sh(box, "ps -o stat | grep -c '^Z' || true").output.strip() == "0"  # orphans reaped


def test_full_disks_stay_within_their_caps_and_the_box_keeps_working(
    new_box: Callable[..., Sandbox],
) -> None:
    box = new_box(allow_shell=True, limits=Limits(workspace_mb=4, tmp_mb=4))
    fill = "head -c 20000000 /dev/zero > {}; du -k {} | cut -f1"
    used_tmp = int(sh(box, fill.format("/tmp/fill", "/tmp/fill")).output.split()[-1])
    used_work = int(sh(box, fill.format("work/fill", "work/fill")).output.split()[-1])
    assert used_tmp <= 4096 and used_work <= 4096
    assert box.call_tool("read_file", {"path": "notes.txt"}).output.startswith("hello")
    sent = box.call_tool("send_email", {"to": "a@b.test", "subject": "s", "body": "b"})
    assert not sent.is_error and box.final_state().outbox[-1].to == "a@b.test"
    assert box.final_state().files["fill"].startswith("<binary file, ")
