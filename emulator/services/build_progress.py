"""How far the first MinIO build is, and roughly how long it has left (pure: fed the lines ``go install -v`` prints).

``go install -v`` prints ``go: downloading <module>`` while it fetches modules, then one line per package it
compiles. The pinned MinIO commit compiles a known number of packages (counted from a build of the pin), so the
share of packages done, and the compile rate so far, give an estimate of the time left. Downloads are reported as a
count: their speed depends on the network, not on the work left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Packages ``go install -v`` compiles for the pinned MinIO commit with Go 1.26 (1,299 in the build of
#: v0.0.0-20260212201848-7aac2a2c5b7c; another Go release differs by a few standard-library packages).
EXPECTED_PACKAGES = 1300
#: An estimate needs some compile history: before this many packages it would be noise.
MIN_PACKAGES_FOR_ESTIMATE = 40
#: The last packages (MinIO's ``cmd``, then the link) take far longer than the average one: about 150 s of the
#: 750 s first build on a busy 2-core machine. Added to the estimate until they are done.
FINAL_STEP_S = 120.0
#: Packages left when the build reaches those last ones.
FINAL_PACKAGES = 3


@dataclass
class BuildProgress:
    """Feed each output line with the seconds since the build started; :meth:`describe` says where it stands."""

    expected_packages: int = EXPECTED_PACKAGES
    downloads: int = 0
    packages: int = 0
    _compile_started_s: float | None = field(default=None, repr=False)
    _last_s: float = 0.0

    def feed(self, line: str, elapsed_s: float) -> None:
        self._last_s = elapsed_s
        text = line.strip()
        if not text:
            return
        if text.startswith("go: downloading "):
            self.downloads += 1
        elif not text.startswith("go: "):
            if self._compile_started_s is None:
                self._compile_started_s = elapsed_s
            self.packages += 1

    def seconds_left(self) -> float | None:
        """Estimated seconds until the last package, or ``None`` while there is too little to go on."""
        if self._compile_started_s is None or self.packages < MIN_PACKAGES_FOR_ESTIMATE:
            return None
        spent = max(self._last_s - self._compile_started_s, 1e-3)
        left = max(self.expected_packages - self.packages, 0)
        if left <= FINAL_PACKAGES:
            return 0.0
        return left * spent / self.packages + FINAL_STEP_S

    def describe(self) -> str:
        if self._compile_started_s is None:
            return f"downloading modules ({self.downloads} so far)"
        done = min(self.packages, self.expected_packages)
        share = f"compiling: {done}/{self.expected_packages} packages"
        left = self.seconds_left()
        if left is None:
            return f"{share}, estimating the time left"
        if left == 0:
            return f"{share}, compiling and linking the minio command itself (the longest step, a minute or two)"
        return f"{share}, about {_duration(left)} left"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{round(seconds / 10) * 10:.0f} s"
    return f"{round(seconds / 60):.0f} min"
