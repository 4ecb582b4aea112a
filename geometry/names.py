"""Names of the physical groups that every flexotip mesh carries.

Downstream code asks for a region or boundary by one of these names and looks up its
integer tag in the mesh's ``physical_groups``; tag numbers are never hard-coded.

Coordinates: z points up, the film top is the plane z = 0, the film occupies
-thickness < z < 0, the substrate lies below it and the optional air layer above it.
"""

FILM = "film"
"""Volume of the SrTiO3 film."""
SUBSTRATE = "substrate"
"""Volume of the (conducting Nb:STO) substrate below the film."""
AIR = "air"
"""Volume of the air layer above the film (present when its thickness is > 0)."""

CONTACT = "contact"
"""The contact disc on the film top (r <= contact radius around the tip axis)."""
FILM_TOP = "film_top"
"""The film top outside the contact disc (traction-free)."""
FILM_SUBSTRATE = "film_substrate"
"""The interface between film and substrate (z = -thickness)."""
SUBSTRATE_BOTTOM = "substrate_bottom"
"""The bottom of the substrate, clamped by default."""
AIR_TOP = "air_top"
"""The top of the air layer."""

WALL_XMIN = "wall_xmin"
"""Lateral wall at x = -half_width (full domain only)."""
WALL_XMAX = "wall_xmax"
"""Lateral wall at x = +half_width."""
WALL_YMIN = "wall_ymin"
"""Lateral wall at y = -half_width (full and half domains)."""
WALL_YMAX = "wall_ymax"
"""Lateral wall at y = +half_width."""
SYMMETRY_X = "symmetry_x"
"""Symmetry plane x = 0 (normal along x), in half and quarter domains."""
SYMMETRY_Y = "symmetry_y"
"""Symmetry plane y = 0 (normal along y), in quarter domains."""

CONTACT_EDGE = "contact_edge"
"""The circle (or arc) r = contact radius on the film top: a curve."""

VOLUMES = (FILM, SUBSTRATE, AIR)
LATERAL = (WALL_XMIN, WALL_XMAX, WALL_YMIN, WALL_YMAX, SYMMETRY_X, SYMMETRY_Y)
SURFACES = (CONTACT, FILM_TOP, FILM_SUBSTRATE, SUBSTRATE_BOTTOM, AIR_TOP, *LATERAL)
