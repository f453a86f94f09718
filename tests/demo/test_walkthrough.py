"""docs/walkthrough.md stays true: its bash blocks are run in order, in one bash session,
against a real `gateway serve --with-worker` (Lincolnshire, a fresh SQLite file, the loopback
Mosaic and NHS services configured), and each block's output must contain what the ```json
block after it shows. Then what the page claims is checked where it landed: the casenotes in
Mosaic, the Bundle at the NHS team, the clock met before it was due."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from simulators.mosaic import DEFAULT_PASSWORD, MosaicSimulator, running_mosaic
from simulators.nhs import NhsTeamSimulator, running_nhs_team

DOC = pathlib.Path(__file__).parents[2] / "docs" / "walkthrough.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
UPN = "G990200019001"  # the walkthrough's child, as the page sets it
NHS_NUMBER = "9990000018"


@dataclass(frozen=True)
class Block:
    number: int
    code: str
    expected: Any  # the JSON the page says the block prints (a subset), or None


def blocks(text: str) -> list[Block]:
    """The page's bash blocks in order, each with the json block that follows it (before the
    next bash block), if any."""
    found: list[Block] = []
    for lang, body in FENCE.findall(text):
        if lang == "bash":
            found.append(Block(len(found) + 1, body, None))
        elif lang == "json":
            assert found, "a json block before any bash block"
            last = found[-1]
            assert last.expected is None, f"two json blocks after bash block {last.number}"
            found[-1] = Block(last.number, last.code, json.loads(body))
    return found


def contains(actual: Any, expected: Any, where: str = "$") -> list[str]:
    """Where ``actual`` does not show what ``expected`` says: objects by their keys (more keys
    are fine), lists as an ordered subsequence (each expected item matched by a later actual
    item), anything else by equality."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        problems: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += contains(actual[key], value, f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r}"]
        start = 0
        for index, item in enumerate(expected):
            match = next(
                (i for i in range(start, len(actual)) if not contains(actual[i], item)), None
            )
            if match is None:
                return [f"{where}[{index}]: {item!r} not found (in order) in {actual!r}"]
            start = match + 1
        return []
    return [] if actual == expected else [f"{where}: expected {expected!r}, got {actual!r}"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Served:
    url: str
    env: dict[str, str]
    folder: pathlib.Path
    mosaic: MosaicSimulator
    nhs: NhsTeamSimulator


@pytest.fixture
def served(tmp_path: pathlib.Path) -> Iterator[Served]:
    assert shutil.which("curl"), "the walkthrough's commands need curl"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_mosaic() as mosaic, running_nhs_team() as nhs:
        mosaic.add_person("4100001", upn=UPN, nhs_number=NHS_NUMBER)
        venv_bin = str(pathlib.Path(sys.executable).parent)
        env = {
            **os.environ,
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'walkthrough.db'}",
            "GATEWAY_POLICY": "lincolnshire",
            "GATEWAY_MOSAIC_URL": mosaic.url,
            "GATEWAY_MOSAIC_PASSWORD": DEFAULT_PASSWORD,
            "GATEWAY_NHS_FHIR_URL": nhs.base_url,
            "GATEWAY_PUBLIC_BASE_URL": url,
            "GATEWAY_WORKER_POLL_SECONDS": "0.2",
            "GW": url,
        }
        subprocess.run(
            [sys.executable, "-m", "gateway", "migrate"],
            env=env,
            cwd=tmp_path,
            check=True,
            capture_output=True,
            timeout=60,
        )
        log = (tmp_path / "serve.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--with-worker"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
            yield Served(url, env, tmp_path, mosaic, nhs)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            log.close()


def run_blocks(served: Served, page: list[Block]) -> list[str]:
    """Every block in one bash session (variables carry over), each block's stdout kept on
    its own; the session stops at the first failing command."""
    out = served.folder / "out"
    out.mkdir()
    script = ["set -euo pipefail"]
    for block in page:
        script.append(f"{{\n{block.code}\n}} > {out / str(block.number)}")
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        env=served.env,
        cwd=served.folder,
        capture_output=True,
        text=True,
        timeout=180,
    )
    outputs = [
        (out / str(b.number)).read_text() if (out / str(b.number)).exists() else "" for b in page
    ]
    ran = sum(1 for b in page if (out / str(b.number)).exists())
    assert done.returncode == 0, (
        f"block {ran} failed ({done.returncode}):\n{done.stderr[-3000:]}\n"
        f"it printed:\n{outputs[ran - 1][-2000:]}"
    )
    return outputs


def test_the_walkthrough_runs_as_written(served: Served) -> None:
    page = blocks(DOC.read_text(encoding="utf-8"))
    assert len(page) >= 12, "the walkthrough lost its steps"
    assert sum(1 for b in page if b.expected is not None) >= 10
    outputs = run_blocks(served, page)
    for block, output in zip(page, outputs, strict=True):
        if block.expected is None:
            continue
        try:
            actual = json.loads(output)
        except json.JSONDecodeError:
            pytest.fail(f"block {block.number} printed no JSON:\n{output[:2000]}")
        problems = contains(actual, block.expected)
        assert not problems, f"block {block.number}:\n" + "\n".join(problems)

    # What the page claims, where it landed: the request crossed to the NHS team as a FHIR
    # message, and the case's entries reached the child's Mosaic record.
    [bundle] = served.nhs.received
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "message"
    notes = served.mosaic.notes
    assert {n.person_id for n in notes} == {"4100001"}
    subjects = [n.subject for n in notes]
    assert any("Health advice" in s for s in subjects), subjects
    assert all(UPN not in n.body and NHS_NUMBER not in n.body for n in notes)


def test_every_variable_the_blocks_set_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("| variable |") : text.index("## 1.")]
    documented = set(re.findall(r"`([A-Z_]+)`", table))
    assigned: set[str] = set()
    for block in blocks(text):
        assigned |= set(re.findall(r"(?:^|\s|;)([A-Z][A-Z_]+)=", block.code, re.MULTILINE))
        assigned |= set(re.findall(r"\bfor ([A-Z][A-Z_]+) in\b", block.code))
    assert assigned, "no variables found: the pattern no longer matches the page"
    assert assigned <= documented, f"set but not documented: {sorted(assigned - documented)}"


def test_the_expectations_can_fail() -> None:
    """The comparison the walkthrough test relies on tells a mismatch from a match."""
    actual = {"a": 1, "items": [{"k": "x", "n": 1}, {"k": "y", "n": 2}], "more": True}
    assert contains(actual, {"a": 1, "items": [{"k": "y"}]}) == []
    assert contains(actual, {"items": [{"k": "x"}, {"k": "y"}]}) == []
    assert contains(actual, {"items": [{"k": "y"}, {"k": "x"}]})  # order matters
    assert contains(actual, {"a": 2})
    assert contains(actual, {"b": 1})
    assert contains(actual, {"items": [{"k": "z"}]})
    assert contains(actual, {"a": [1]})
