"""Problems found in a dataset, collected so that all of them are reported at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding: the file it is in, where in that file (line, name), and what is wrong."""

    severity: Severity
    file: str
    where: str
    message: str

    def __str__(self) -> str:
        location = f"{self.file}: {self.where}" if self.where else self.file
        return f"{self.severity.upper()} {location}: {self.message}"


@dataclass
class ProblemLog:
    """Collects problems; readers keep going after a problem so every one is reported."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, file: str, where: str, message: str) -> None:
        self.problems.append(Problem("error", file, where, message))

    def warning(self, file: str, where: str, message: str) -> None:
        self.problems.append(Problem("warning", file, where, message))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
