"""The electric state of the film: recovered fields, and cuts through them.

* :class:`ElectricFields` recovers E = −∇φ, its depolarisation and applied parts, and the
  flexoelectric field E^fl = −f:∇ε onto P1 vectors (lumped L2 projection), SI.
* :class:`ElectricCuts` samples P, φ and those fields: ``axis_electric.csv`` (the whole film
  depth on the tip axis), ``line_electric.csv`` (along +x at z = −a/4, the depth of the
  paper's x–z maps), ``section_xz.csv`` (the x–z section through the axis, on a grid)
  and the electric keys of summary.json. ``Ez_below_tip_V_per_m`` is the
  mean of E_z on the axis over a/4 ≤ −z ≤ a, ``Ez_contact_edge_V_per_m`` the area mean of
  E_z over the annulus a ≤ r ≤ 1.5a at z = −a/4 (within the meshed part of the annulus);
  docs/outputs.md defines every key.
"""

from __future__ import annotations

import dataclasses

import dolfinx.fem
import numpy as np
import ufl

from flexotip.exports.result import ExportResult
from flexotip.exports.sampling import PROFILE_EXTENT, PROFILE_SAMPLES
from flexotip.fem import electromechanics, postprocess
from flexotip.fem.domains import solid_measure
from flexotip.fem.electromechanical_problem import ElectromechanicalParameters, ElectromechanicalSolution
from flexotip.fem.kinematics import strain
from flexotip.geometry import names
from flexotip.geometry.mesh import StackMesh
from flexotip.units import Scales

AXIS_P_DEPTH = 2e-9
"""Depth of ``Pz_axis_2nm_C_per_m2`` on the tip axis, m: below the depolarised surface layer."""

INSIDE_CONTACT = 0.9
"""``max_abs_P_inside_contact_C_per_m2`` is the max of |P| over r ≤ INSIDE_CONTACT·a."""

SECTION_HALF_WIDTH, SECTION_DEPTH = 3.0, 3.0
"""Extent of ``section_xz.csv`` in contact radii: |x − x0| ≤ 3a, 0 ≤ −z ≤ 3a (or the film)."""
SECTION_SAMPLES = (121, 61)
"""Grid points of the x–z section along x (odd: one on the axis) and z."""

SYMMETRY_SECTORS = {"full": (0.0, 2 * np.pi), "half": (-np.pi / 2, np.pi), "quarter": (0.0, np.pi / 2)}
"""Meshed sector of the film for each [film] symmetry: (first angle, span), radians."""


@dataclasses.dataclass
class ElectricFields:
    """E and its parts on P1 vectors, V/m (SI); the applied ones are None without a bias.

    Attributes:
        field: E = −∇φ, the total field.
        depolarization: E − E_applied: the field of the bound and space charges.
        applied: E_applied = −∇φ_applied, the tip bias's field alone, or None.
        flexo: The flexoelectric field E^fl = −f:∇ε (zero off the film).
        phi_applied: φ_applied (potential scale), or None.
    """

    field: dolfinx.fem.Function
    depolarization: dolfinx.fem.Function
    applied: dolfinx.fem.Function | None
    flexo: dolfinx.fem.Function
    phi_applied: dolfinx.fem.Function | None = None

    @classmethod
    def recover(cls, stack: StackMesh, em: ElectromechanicalSolution, scales: Scales,
                phi_applied: dolfinx.fem.Function | None = None) -> ElectricFields:
        """Recover the fields of a solved state (collective).

        E^fl is computed from the gradient of the recovered (P1) strain. The normal
        components vanish on the symmetry planes (odd components of mirror-symmetric
        fields), which the one-sided cell averages there miss: they are set to zero.
        """
        msh, E_unit = stack.msh, scales.electric_field
        V1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3,)))
        T1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3, 3)))
        field = postprocess.recover(-ufl.grad(em.phi) * E_unit, V1, "electric_field")
        strain_p1 = postprocess.recover(strain(em.u), T1, dx=solid_measure(stack))
        flexo = postprocess.recover(electromechanics.flexo_field(ufl.grad(strain_p1), em.constants)
                                    * em.domains.film_indicator * E_unit, V1, "flexo_field")
        applied = None
        if phi_applied is not None:  # E = E_applied + E_depolarisation
            applied = postprocess.recover(-ufl.grad(phi_applied) * E_unit, V1, "applied_field")
        for vector in (field, flexo, applied):
            if vector is not None:
                _zero_normal_on_symmetry_planes(vector, stack)
        depolarization = dolfinx.fem.Function(V1, name="depolarization_field")
        depolarization.x.array[:] = field.x.array - (applied.x.array if applied is not None else 0.0)
        return cls(field, depolarization, applied, flexo, phi_applied)


def _zero_normal_on_symmetry_planes(vector: dolfinx.fem.Function, stack: StackMesh) -> None:
    """Set the normal component of a recovered vector field to 0 on the symmetry planes."""
    fdim = stack.msh.topology.dim - 1
    for name, component in ((names.SYMMETRY_X, 0), (names.SYMMETRY_Y, 1)):
        if name in stack.groups:
            sub = vector.function_space.sub(component)
            dofs = dolfinx.fem.locate_dofs_topological(sub, fdim, stack.facets(name))
            vector.x.array[dofs] = 0.0


class ElectricCuts:
    """Samples P, φ and the recovered fields on the axis, a line, an annulus and the top.

    Args:
        stack: The mesh.
        params: The (u, P, φ) parameters (material, bias, electric boundary condition).
        scales: Unit scales.
    """

    def __init__(self, stack: StackMesh, params: ElectromechanicalParameters, scales: Scales):
        self.stack, self.params, self.scales = stack, params, scales

    def _evaluator(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> postprocess.PointEvaluator:
        return postprocess.PointEvaluator(self.stack.msh, np.c_[x, y, z])

    def compute(self, em: ElectromechanicalSolution, fields: ElectricFields,
                contact_radius: float) -> ExportResult:
        """Tables and summary keys (``contact_radius`` in the length scale; collective)."""
        a = contact_radius
        axis, axis_keys = self._axis(em, fields, a)
        line, line_keys = self._line(em, fields, a)
        summary = {**axis_keys, **self._nodal_extremes(em, a), **self._contact_edge(fields, a), **line_keys,
                   **self._film_top(em, a)}
        material = self.params.material
        summary |= {"susceptibility": material.susceptibility, "flexo_f11_V": material.f11,
                    "flexo_f12_V": material.f12, "flexo_f44_V": material.f44,
                    "electric_bc": self.params.electric_bc, "tip_bias_V": self.params.bias}
        return ExportResult({"axis_electric.csv": axis, "line_electric.csv": line,
                             "section_xz.csv": self._section(em, fields, a)}, summary)

    def _axis(self, em: ElectromechanicalSolution, fields: ElectricFields, a: float):
        """The whole film depth on the tip axis, densely; E_z averaged over a/4 ≤ −z ≤ a."""
        geometry, s = self.stack.geometry, self.scales
        x0, y0 = geometry.contact_center
        depth = np.linspace(0.0, geometry.film_thickness, 4 * PROFILE_SAMPLES)
        depth[-1] *= 1 - 1e-9
        axis = self._evaluator(np.full_like(depth, x0), np.full_like(depth, y0), -depth)
        P_axis, E_axis = axis(em.P) * s.polarization, axis(fields.field)
        E_dep_axis = axis(fields.depolarization)
        below = (depth >= a / 4) & (depth <= a)
        table = {
            "depth_m": depth * s.length, "P_x_C_per_m2": P_axis[:, 0], "P_y_C_per_m2": P_axis[:, 1],
            "P_z_C_per_m2": P_axis[:, 2], "phi_V": axis(em.phi)[:, 0] * s.potential,
            "E_x_V_per_m": E_axis[:, 0], "E_z_V_per_m": E_axis[:, 2],
            "E_flexo_z_V_per_m": axis(fields.flexo)[:, 2], "E_depolarization_z_V_per_m": E_dep_axis[:, 2],
            "phi_applied_V": (axis(fields.phi_applied)[:, 0] * s.potential if fields.phi_applied is not None
                              else np.zeros_like(depth))}
        P_magnitude = np.linalg.norm(P_axis, axis=1)
        P_2nm = self._evaluator(np.array([x0]), np.array([y0]), np.array([-AXIS_P_DEPTH / s.length]))(em.P)
        keys = {"P_axis_max_C_per_m2": float(np.nanmax(P_magnitude)),
                "P_axis_max_depth_m": float(depth[np.nanargmax(P_magnitude)] * s.length),
                "Pz_axis_2nm_C_per_m2": float(P_2nm[0, 2] * s.polarization),
                "Ez_below_tip_V_per_m": float(np.mean(E_axis[below, 2])),
                "Ez_below_tip_depolarization_V_per_m": float(np.mean(E_dep_axis[below, 2]))}
        return table, keys

    def _line(self, em: ElectromechanicalSolution, fields: ElectricFields, a: float):
        """Along +x at z = −a/4 (the paper's maps are x–z sections through the axis)."""
        geometry, s = self.stack.geometry, self.scales
        x0, y0 = geometry.contact_center
        radius = np.linspace(0.0, min(PROFILE_EXTENT * a, geometry.half_width - abs(x0)), PROFILE_SAMPLES)
        line = self._evaluator(x0 + radius, np.full_like(radius, y0), np.full_like(radius, -a / 4))
        E_line, P_line = line(fields.field), line(em.P) * s.polarization
        extremum = int(np.nanargmin(E_line[:, 0]))
        table = {"r_m": radius * s.length, "z_m": np.full_like(radius, -a / 4) * s.length,
                 "P_x_C_per_m2": P_line[:, 0], "P_z_C_per_m2": P_line[:, 2],
                 "phi_V": line(em.phi)[:, 0] * s.potential,
                 "E_x_V_per_m": E_line[:, 0], "E_z_V_per_m": E_line[:, 2]}
        keys = {"Ex_line_min_V_per_m": float(E_line[extremum, 0]),
                "Ex_line_min_radius_m": float(radius[extremum] * s.length)}
        return table, keys

    def _section(self, em: ElectromechanicalSolution, fields: ElectricFields, a: float) -> dict:
        """The x–z section through the tip axis (the paper's Fig. 3 maps), on a grid.

        x within ±SECTION_HALF_WIDTH·a of the axis, z from the film top down to
        SECTION_DEPTH·a (at most the film). Where the mesh covers only x ≥ x0 (a half or
        quarter box), the other side is its mirror image: x components odd, z even.
        """
        geometry, s = self.stack.geometry, self.scales
        x0, y0 = geometry.contact_center
        x = x0 + np.linspace(-SECTION_HALF_WIDTH * a, SECTION_HALF_WIDTH * a, SECTION_SAMPLES[0])
        depth = min(SECTION_DEPTH * a, geometry.film_thickness * (1 - 1e-9))
        z = -np.linspace(0.0, depth, SECTION_SAMPLES[1])
        gx, gz = np.meshgrid(x, z, indexing="ij")
        section = self._evaluator(gx.ravel(), np.full(gx.size, y0), gz.ravel())
        values = {"P": section(em.P) * s.polarization, "E": section(fields.field),
                  "E_depolarization": section(fields.depolarization)}
        nx, nz = gx.shape
        column, row = np.divmod(np.arange(gx.size), nz)
        mirror = (nx - 1 - column) * nz + row  # the point at 2·x0 − x, same z
        for field in values.values():
            missing = np.isnan(field[:, 0]) & ~np.isnan(field[mirror, 0])
            field[missing] = field[mirror[missing]] * np.array([-1.0, 1.0, 1.0])
        table = {"x_m": gx.ravel() * s.length, "z_m": gz.ravel() * s.length}
        for name, unit in (("P", "C_per_m2"), ("E", "V_per_m"), ("E_depolarization", "V_per_m")):
            table[f"{name}_x_{unit}"] = values[name][:, 0]
            table[f"{name}_z_{unit}"] = values[name][:, 2]
        return table

    def _contact_edge(self, fields: ElectricFields, a: float) -> dict:
        """Area means of E_z (and its depolarisation part) over a ≤ r ≤ 1.5a at z = −a/4."""
        geometry = self.stack.geometry
        x0, y0 = geometry.contact_center
        start, span = SYMMETRY_SECTORS[geometry.symmetry]
        rr, tt = np.meshgrid(np.linspace(a, 1.5 * a, 11), start + span * (np.arange(48) + 0.5) / 48)
        ring = self._evaluator(x0 + (rr * np.cos(tt)).ravel(), y0 + (rr * np.sin(tt)).ravel(),
                               np.full(rr.size, -a / 4))
        Ez_ring, Ez_dep_ring = ring(fields.field)[:, 2], ring(fields.depolarization)[:, 2]
        weights = rr.ravel() * np.isfinite(Ez_ring)
        return {"Ez_contact_edge_V_per_m": float(np.nansum(Ez_ring * weights) / weights.sum()),
                "Ez_contact_edge_depolarization_V_per_m": float(np.nansum(Ez_dep_ring * weights)
                                                                / weights.sum())}

    def _film_top(self, em: ElectromechanicalSolution, a: float) -> dict:
        """Extremes of the film top's potential on a square of ±4a around the tip.

        0 when short-circuited; free off the contact under an air gap or an open top.
        """
        geometry = self.stack.geometry
        x0, y0 = geometry.contact_center
        side = np.linspace(-1.0, 1.0, 65) * min(PROFILE_EXTENT * a, geometry.half_width)
        gx, gy = np.meshgrid(x0 + side, y0 + side, indexing="ij")
        phi_top = self._evaluator(gx.ravel(), gy.ravel(), 0 * gx.ravel())(em.phi)[:, 0]
        return {"phi_top_min_V": float(np.nanmin(phi_top)) * self.scales.potential,
                "phi_top_max_V": float(np.nanmax(phi_top)) * self.scales.potential}

    def _nodal_extremes(self, em: ElectromechanicalSolution, a: float) -> dict:
        """Largest nodal |P| (and where), also inside the contact, and φ's nodal extremes.

        Inside the contact means r ≤ 0.9a: the maximum over the whole film sits at the
        contact edge, where ∇ε is singular and |P| grows with refinement.
        """
        s = self.scales
        comm = em.P.function_space.mesh.comm
        x0, y0 = self.stack.geometry.contact_center

        def inside(x: np.ndarray) -> np.ndarray:
            return np.hypot(x[:, 0] - x0, x[:, 1] - y0) <= INSIDE_CONTACT * a

        inside_value, _ = postprocess.largest_nodal_norm(em.P, self.params.degree, inside)
        value, position = postprocess.largest_nodal_norm(em.P, self.params.degree)
        m = em.phi.function_space.dofmap.index_map.size_local
        phi = em.phi.x.array[:m] * s.potential
        return {"max_abs_P_C_per_m2": value * s.polarization,
                "max_abs_P_inside_contact_C_per_m2": inside_value * s.polarization,
                "max_abs_P_position_m": [float(c) * s.length for c in position],
                "phi_min_V": postprocess.global_min(phi, comm),
                "phi_max_V": postprocess.global_max(phi, comm)}
