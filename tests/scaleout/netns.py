"""Test hosts on one machine: Linux network namespaces joined by veth pairs on a bridge.

Each host is a namespace with one interface (``eth0``, 10.77.0.N/24) whose peer sits on a bridge in a switch
namespace of its own, so nothing is added to the machine's own network. Processes started on a host see only its
interface: they reach the others by IP address, as on a cluster. ``cut`` takes a host's link down (its peers see
silence, not a closed connection, as when a machine loses power). Everything is made and removed here; processes
are ended by their PID. Needs root (``ip netns``); :func:`unavailable` says why not where it cannot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SUBNET = "10.77.0"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def unavailable() -> str | None:
    """Why namespaces cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    name = f"ssprobe-{uuid.uuid4().hex[:6]}"
    try:
        made = _ip("netns", "add", name, check=False)
    except FileNotFoundError:
        return "the ip command (iproute2) is not installed"
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    _ip("netns", "del", name, check=False)
    return None


@dataclass
class Host:
    name: str
    namespace: str
    address: str
    processes: list[subprocess.Popen] = field(default_factory=list)


class Cluster:
    """Hosts named by the caller; the first gets 10.77.0.1, the next .2, and so on."""

    def __init__(self, names: list[str]):
        self.tag = uuid.uuid4().hex[:6]
        self.switch = f"ss{self.tag}-sw"
        self.hosts: dict[str, Host] = {}
        try:
            _ip("netns", "add", self.switch)
            _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.switch, "link", "set", "br0", "up")
            for index, name in enumerate(names, start=1):
                self._add_host(name, index)
        except BaseException:
            self.close()
            raise

    def _add_host(self, name: str, index: int) -> None:
        namespace = f"ss{self.tag}-{name}"
        _ip("netns", "add", namespace)
        self.hosts[name] = host = Host(name, namespace, f"{SUBNET}.{index}")
        port = f"p{index}"
        _ip("-n", self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        _ip("-n", namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")

    def start(self, host: str, args: list[str], *, env: dict[str, str], log: Path, cwd: Path | None = None,
              stdout: Path | None = None) -> subprocess.Popen:
        """Run ``args`` on ``host`` (``ip netns exec`` execs, so the PID is the process's own)."""
        target = self.hosts[host]
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as err, open(stdout or log, "ab") as out:
            process = subprocess.Popen(["ip", "netns", "exec", target.namespace, *args], env=env, cwd=cwd,
                                       stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        target.processes.append(process)
        return process

    def run(self, host: str, args: list[str], *, env: dict[str, str], timeout: float = 120) -> str:
        done = subprocess.run(["ip", "netns", "exec", self.hosts[host].namespace, *args], env=env,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{args} on {host} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def cut(self, host: str) -> None:
        """Take the host's link down at both ends: its connections go silent."""
        index = list(self.hosts).index(host) + 1
        _ip("-n", self.switch, "link", "set", f"p{index}", "down")
        _ip("-n", self.hosts[host].namespace, "link", "set", "eth0", "down")

    def kill(self, host: str) -> None:
        """``kill -9`` every process started on the host."""
        for process in self.hosts[host].processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(30)

    def close(self) -> None:
        """End what was started (by PID), then remove the namespaces (their interfaces go with them)."""
        for host in self.hosts.values():
            for process in host.processes:
                if process.poll() is None:
                    process.terminate()
            for process in host.processes:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(10)
        for host in self.hosts.values():
            _ip("netns", "del", host.namespace, check=False)
        _ip("netns", "del", self.switch, check=False)
