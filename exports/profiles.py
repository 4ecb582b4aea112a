"""The mechanics of a solved tip load along the tip axis and the film top.

:class:`MechanicsProfiles` samples a :class:`~flexotip.fem.tip_problem.TipLoadSolution`:
``axis_profile.csv`` (u_z and the stresses down the axis to 4a), ``surface_profile.csv``
(the pressure and the displacement along +x on the film top to 4a) and the mechanics keys
of summary.json (contact radius and approach, peak pressure, the largest shear on the
axis and its depth; for a solved contact, where its edge lies). docs/outputs.md defines
the keys.
"""

from __future__ import annotations

import logging

import dolfinx.fem
import numpy as np

from flexotip.exports.result import ExportResult
from flexotip.exports.sampling import PROFILE_EXTENT, PROFILE_SAMPLES
from flexotip.fem import contact, mechanics, postprocess
from flexotip.fem.tip_problem import TipLoadSolution, TipProblemParameters
from flexotip.geometry.mesh import StackMesh
from flexotip.units import Scales

log = logging.getLogger(__name__)


class MechanicsProfiles:
    """Samples the mechanics of a tip load on a stack mesh.

    Args:
        stack: The mesh.
        tip: The tip load's parameters (SI).
        scales: Unit scales.
    """

    def __init__(self, stack: StackMesh, tip: TipProblemParameters, scales: Scales):
        self.stack, self.tip, self.scales = stack, tip, scales

    def compute(self, solution: TipLoadSolution) -> ExportResult:
        """Profiles and summary keys of ``solution`` (collective)."""
        msh, uh, geometry = self.stack.msh, solution.uh, self.stack.geometry
        L, S = self.scales.length, self.scales.stress
        x0, y0 = geometry.contact_center
        applied, load_error = self._load_balance(solution)
        a = geometry.contact_radius
        extent = min(PROFILE_EXTENT * a, geometry.half_width - max(abs(x0), abs(y0)))
        radius = np.linspace(0.0, extent, PROFILE_SAMPLES)
        surface_points = np.c_[x0 + radius, np.full_like(radius, y0), 0 * radius]
        surface_u = postprocess.PointEvaluator(msh, surface_points)(uh)
        axis_uz = float(surface_u[0, 2])
        if solution.contact is not None:
            keys, a, peak, approach, pressure_values = self._solved_contact(solution, surface_points,
                                                                            load_error)
        else:
            pressure_values = solution.prescribed.pressure_values(radius)
            peak = solution.prescribed.peak_pressure()
            keys = solution.report.summary()
            if self.tip.shape == "flat":  # the punch moves as a whole: mean over the disc
                approach = -float(np.mean(surface_u[radius <= a * (1 - 1e-9), 2]))
            else:  # the sphere's apex sits on the axis
                approach = -axis_uz
        depth, axis_u, axis_stress, shear, shear_smooth = self._axis(solution, a)
        shear_max, shear_depth = postprocess.depth_of_maximum(depth, shear)
        if shear_smooth is not None:  # P1: locate the flat maximum on the recovered profile
            shear_depth = postprocess.depth_of_maximum(depth, shear_smooth)[1]
        axis = {"depth_m": depth * L, "u_z_m": axis_u[:, 2] * L,
                "sigma_xx_Pa": axis_stress[:, 0] * S, "sigma_yy_Pa": axis_stress[:, 4] * S,
                "sigma_zz_Pa": axis_stress[:, 8] * S, "sigma_xz_Pa": axis_stress[:, 2] * S,
                "max_shear_Pa": shear * S}
        surface = {"r_m": radius * L, "pressure_Pa": pressure_values * S, "u_x_m": surface_u[:, 0] * L,
                   "u_y_m": surface_u[:, 1] * L, "u_z_m": surface_u[:, 2] * L}
        summary = {
            "force_N": self.tip.force, "applied_force_N": applied * self.scales.force,
            "load_force_relative_error": load_error, "contact_radius_m": a * L,
            "approach_m": approach * L, "max_pressure_Pa": peak * S, "axis_displacement_m": axis_uz * L,
            "max_shear_stress_Pa": shear_max * S, "max_shear_depth_m": shear_depth * L,
            "tip_shape": self.tip.shape, "tip_load": self.tip.load, "tip_radius_m": self.tip.tip_radius,
            "contact_modulus_Pa": self.tip.contact_modulus, **keys}
        return ExportResult({"axis_profile.csv": axis, "surface_profile.csv": surface}, summary)

    def _load_balance(self, solution: TipLoadSolution) -> tuple[float, float]:
        """∫p dA over the whole footprint (force scale) and its relative error against the force."""
        applied = solution.applied_force / self.tip.symmetry_fraction
        force = self.tip.force / self.scales.force
        load_error = applied / force - 1 if force > 0 else 0.0
        log.info("load: ∫p dA = %.6g N for a force of %.6g N (relative error %.2e)",
                 applied * self.scales.force, self.tip.force, load_error)
        return applied, load_error

    def _solved_contact(self, solution: TipLoadSolution, surface_points: np.ndarray, load_error: float):
        """Where the solved contact ends, its peak pressure and approach, and the pressure profile."""
        L, S = self.scales.length, self.scales.stress
        geometry = self.stack.geometry
        pressure_at = contact.surface_pressure(solution.uh, solution.pressure, solution.ds_load)
        edge = contact.contact_edge(pressure_at, geometry)
        support = edge.radius_along
        area_radius = contact.contact_area_radius(solution.pressure, solution.ds_load,
                                                  self.tip.symmetry_fraction)
        inner, outer = geometry.refine_band
        a = edge.radius
        keys = {"contact_radius_100_m": support["100"] * L, "contact_radius_110_m": support["110"] * L,
                "contact_radius_area_m": area_radius * L,
                "contact_band_inner_m": inner * L, "contact_band_outer_m": outer * L,
                "contact_edge_in_band": bool(inner <= a <= outer),
                "force_balance_error": load_error, **solution.report.summary()}
        log.info("contact radius %.4g nm along [100], %.4g nm along [110] (%.4g nm from the "
                 "contact area); peak pressure %.4g GPa", support["100"] * L * 1e9,
                 support["110"] * L * 1e9, area_radius * L * 1e9, edge.peak_pressure * S * 1e-9)
        return keys, a, edge.peak_pressure, solution.approach, pressure_at(surface_points)

    def _axis(self, solution: TipLoadSolution, a: float):
        """Depths to 4a below the tip, u and σ there, and the largest shear stress.

        The stress is the exact one of the displacement (constant per cell for P1). For P1
        the last item is the largest shear of the recovered (P1, volume-averaged) stress:
        the cell-wise profile is a staircase whose flat maximum puts its depth anywhere
        within half a cell (+4.8 % on the default mesh's Hertz check), the recovered one
        is smooth and locates it to about 1 % (docs/validation.md, "The default mesh");
        None for P2, whose stress is linear per cell.
        """
        msh, uh = self.stack.msh, solution.uh
        x0, y0 = self.stack.geometry.contact_center
        sigma = mechanics.stress(uh, solution.stiffness)
        degree = self.tip.degree
        T_exact = dolfinx.fem.functionspace(msh, ("Discontinuous Lagrange", degree - 1, (3, 3)))
        sigma_exact = dolfinx.fem.Function(T_exact)
        sigma_exact.interpolate(dolfinx.fem.Expression(sigma, T_exact.element.interpolation_points))
        geometry = self.stack.geometry
        bottom = (geometry.film_thickness + geometry.substrate_thickness) * (1 - 1e-9)  # inside the mesh
        depth = np.linspace(0.0, min(PROFILE_EXTENT * a, bottom), PROFILE_SAMPLES)
        if solution.dx_solid is not None:  # the top point in a film cell, not an air cell
            depth[0] = postprocess.SAMPLE_DEPTH
        points = np.c_[np.full_like(depth, x0), np.full_like(depth, y0), -depth]
        axis = postprocess.PointEvaluator(msh, points)
        axis_stress = axis(sigma_exact)
        shear_smooth = None
        if degree == 1:
            T1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3, 3)))
            recovered = postprocess.recover(sigma, T1, dx=solution.dx_solid)
            shear_smooth = postprocess.max_shear(axis(recovered))
        return depth, axis(uh), axis_stress, postprocess.max_shear(axis_stress), shear_smooth
