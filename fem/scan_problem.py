"""A scanning tip: the path of its axis in time, and the prescribed pressure that follows it.

The tip's axis moves at a constant speed along the lines of a raster (trace, and retrace
if asked), pressing with its force or lifted, and jumps lifted from the end of one line to
the start of the next. :class:`ScanPath` is that motion, SI; :class:`MovingTip` puts it into
the prescribed Hertz/Sneddon pressure of :mod:`flexotip.fem.loads`, whose centre and force
are ``fem.Constant`` objects (moving the tip recompiles nothing).

The electromechanics (u, P, φ) follows the tip quasi-statically (P relaxes in ps, the tip
moves a cell in µs at the fastest scans); the vacancies step by backward-Euler
Nernst–Planck between positions (:mod:`flexotip.fem.vacancy_problem`), each step moving
the tip by at most ``step_fraction`` contact radii and ending exactly on every turn of the
path. During a step the vacancies see the field of the tip where the step began
(first order in the tip's motion, like the one-step lag of φ behind the space charge).
"""

from __future__ import annotations

import dataclasses
import math

from flexotip.fem.loads import TipPressure
from flexotip.units import Scales


@dataclasses.dataclass(frozen=True)
class ScanSegment:
    """One straight pass of the tip axis, SI.

    Attributes:
        start: (x, y) at the beginning, m.
        end: (x, y) at the end, m.
        t_start: Time at the beginning, s.
        duration: s.
        pressed: Whether the tip presses on the film during the pass.
        name: "trace" or "retrace".
        line: Index of the raster line.
    """

    start: tuple[float, float]
    end: tuple[float, float]
    t_start: float
    duration: float
    pressed: bool
    name: str
    line: int

    @property
    def t_end(self) -> float:
        """Time at the end, s."""
        return self.t_start + self.duration

    def position(self, t: float) -> tuple[float, float]:
        """(x, y) of the tip axis at time t within the pass, m."""
        s = min(max((t - self.t_start) / self.duration, 0.0), 1.0)
        return (self.start[0] + s * (self.end[0] - self.start[0]),
                self.start[1] + s * (self.end[1] - self.start[1]))


@dataclasses.dataclass(frozen=True)
class ScanPath:
    """The tip's passes in time order, and how far it may move in one time step.

    Attributes:
        segments: The passes; each starts when the one before ends.
        speed: Speed along a pass, m/s.
        max_step: Largest time step, s: ``step_fraction`` contact radii at the speed.
    """

    segments: tuple[ScanSegment, ...]
    speed: float
    max_step: float

    @classmethod
    def raster(cls, lines: list[tuple[tuple[float, float], tuple[float, float]]], speed: float,
               passes: str, force_on: str, contact_radius: float, step_fraction: float) -> ScanPath:
        """The path over raster ``lines`` ((start, end), m): each traced, and retraced if asked.

        Args:
            lines: The lines in scan order.
            speed: m/s.
            passes: "trace" or "trace-retrace".
            force_on: "both" (pressing on trace and retrace) or "trace".
            contact_radius: m, the unit of ``step_fraction``.
            step_fraction: Largest tip displacement per time step, in contact radii.
        """
        segments, t = [], 0.0
        for index, (start, end) in enumerate(lines):
            duration = math.hypot(end[0] - start[0], end[1] - start[1]) / speed
            legs = [(start, end, "trace", True)]
            if passes == "trace-retrace":
                legs.append((end, start, "retrace", force_on == "both"))
            for a, b, name, pressed in legs:
                segments.append(ScanSegment(tuple(a), tuple(b), t, duration, pressed, name, index))
                t += duration
        return cls(tuple(segments), speed, step_fraction * contact_radius / speed)

    @property
    def duration(self) -> float:
        """Time at the end of the last pass, s."""
        return self.segments[-1].t_end

    @property
    def turns(self) -> tuple[float, ...]:
        """Times at which a pass ends (the steps end on them exactly), s."""
        return tuple(segment.t_end for segment in self.segments)

    def segment_at(self, t: float) -> ScanSegment:
        """The pass under way at time t; at a turn, the one that begins there (the last at the end)."""
        for segment in self.segments:
            if t < segment.t_end * (1 - 1e-12):
                return segment
        return self.segments[-1]

    def position(self, t: float) -> tuple[float, float]:
        """(x, y) of the tip axis at time t, m."""
        return self.segment_at(t).position(t)

    def pressed(self, t: float) -> bool:
        """Whether the tip presses on the film at time t."""
        return self.segment_at(t).pressed

    def pressed_lines(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """The passes made pressing, (start, end), m: the area they sweep is the scanned one."""
        return [(s.start, s.end) for s in self.segments if s.pressed]


class MovingTip:
    """The prescribed pressure of a tip that follows a :class:`ScanPath`.

    Args:
        load: The prescribed pressure, its centre and force ``fem.Constant`` objects (scaled).
        path: The motion, SI.
        force: The tip's force when pressing, N.
        scales: Unit scales.
    """

    def __init__(self, load: TipPressure, path: ScanPath, force: float, scales: Scales):
        self.load, self.path, self.force, self.scales = load, path, force, scales

    def place(self, t: float) -> None:
        """Put the tip where the path has it at time t (s), pressing or lifted."""
        x, y = self.path.position(t)
        self.load.center.value[:] = (x / self.scales.length, y / self.scales.length)
        self.load.force.value = (self.force if self.path.pressed(t) else 0.0) / self.scales.force
