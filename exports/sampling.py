"""Where the exports sample a solution: the extent and density of profiles and maps.

Lengths are in contact radii (the run's solved or prescribed contact radius): every
profile and map scales with the contact, so runs with different tips compare on the same
relative footprint.
"""

from __future__ import annotations

PROFILE_SAMPLES = 161
"""Points of the axis and surface profiles."""

PROFILE_EXTENT = 4.0
"""Length of the axis and surface profiles (and half side of the maps), in contact radii."""

SURFACE_MAP_SAMPLES = 129
"""Grid points per side of the surface vacancy map (odd: a point sits on the tip axis)."""
