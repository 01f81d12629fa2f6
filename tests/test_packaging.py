"""pyproject.toml and environment.yml list the same packages; CI runs the README's test command."""

import pathlib
import re

import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def normalise(requirement: str) -> str:
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + spec.replace(" ", "")


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}


def environment_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip_lines = [line.strip()[2:] for line in lines[start + 1 :] if line.strip().startswith("- ")]
    return {normalise(r) for r in pip_lines if not r.startswith("-e")}


def test_environment_yml_mirrors_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_torch_is_a_range_not_a_pin():
    deps = {normalise(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    torch = next(d for d in deps if d.startswith("torch>") or d.startswith("torch="))
    assert "==" not in torch and ">=" in torch


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    commands = [line for block in blocks[:2] for line in block.splitlines() if line and not line.startswith("#")]
    return commands


def test_readme_has_the_two_commands_and_ci_runs_the_test_one():
    build, test = readme_commands()
    assert "jupyter-book build ." in build
    assert test.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines(), "the README's test command must appear verbatim in .ci/run"


def test_the_book_extra_is_part_of_dev():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {normalise(r) for r in extras["book"]} <= {normalise(r) for r in extras["dev"]}


def test_no_cpu_kernels_are_pinned_for_the_chapters():
    """Checked outputs hold on any CPU, so neither nbval nor the README's re-execute command pins kernels."""
    assert "ATEN_CPU_CAPABILITY" not in (ROOT / "book" / "conftest.py").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "ALEXNET_QUICK=1 jupyter execute --inplace" in readme and "ONEDNN_MAX_CPU_ISA=AVX2" not in readme
