"""Field files for ParaView, SI units: one writer per physics, each honouring ``[output] fields``.

VTX (``.bp``, the default) or XDMF puts one element per file, so the writers group the
fields by element: ``displacement`` (degree of the run), ``mechanics`` (stress and strain,
3×3 tensors recovered to P1), ``strain_gradient`` (‖∇ε‖, P1), ``contact_pressure`` (solved
contact, on the film top); ``polarization`` and ``potential`` (degree of the run),
``electric`` (the P1 vectors of :class:`~flexotip.exports.electric.ElectricFields`);
``vacancies`` (c and c/c0). docs/outputs.md lists the files.
"""

from __future__ import annotations

import logging
import pathlib

import dolfinx.fem
import numpy as np

from flexotip.exports.electric import ElectricFields
from flexotip.fem import io, mechanics, postprocess
from flexotip.fem.electromechanical_problem import ElectromechanicalSolution
from flexotip.fem.kinematics import strain, strain_gradient_magnitude
from flexotip.fem.tip_problem import TipLoadSolution
from flexotip.fem.vacancy_problem import VacancySolution
from flexotip.units import Scales

log = logging.getLogger(__name__)


def _write(outdir: pathlib.Path, groups: dict, file_format: str, scales: Scales) -> None:
    paths = io.write_fields(outdir, groups, file_format, scales.length)
    log.info("fields written: %s", ", ".join(p.name for p in paths))


def write_mechanics(outdir: pathlib.Path, solution: TipLoadSolution, wanted: set[str], file_format: str,
                    scales: Scales) -> None:
    """The displacement and the recovered (P1) stress, strain and strain gradient (collective)."""
    msh, uh = solution.uh.function_space.mesh, solution.uh
    displacement, tensors, scalars = [], [], []
    if "displacement" in wanted:
        u_si = dolfinx.fem.Function(uh.function_space, name="displacement")
        u_si.x.array[:] = uh.x.array * scales.length
        displacement.append(u_si)
    T1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (3, 3)))
    S1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    if "stress" in wanted:
        sigma_si = mechanics.stress(uh, solution.stiffness) * scales.stress
        tensors.append(postprocess.recover(sigma_si, T1, "stress", solution.dx_solid))
    if wanted & {"strain", "strain_gradient"}:
        recovered_strain = postprocess.recover(strain(uh), T1, "strain", solution.dx_solid)
        if "strain" in wanted:
            tensors.append(recovered_strain)
        if "strain_gradient" in wanted:
            magnitude = strain_gradient_magnitude(recovered_strain) / scales.length
            scalars.append(postprocess.recover(magnitude, S1, "strain_gradient", solution.dx_solid))
    pressure = []
    if solution.contact is not None and "contact_pressure" in wanted:
        pressure.append(postprocess.recover_on_boundary(
            solution.pressure * scales.stress, S1, solution.ds_load, "contact_pressure"))
    _write(outdir, {"displacement": displacement, "mechanics": tensors, "strain_gradient": scalars,
                    "contact_pressure": pressure}, file_format, scales)


def write_electric(outdir: pathlib.Path, em: ElectromechanicalSolution, fields: ElectricFields,
                   wanted: set[str], file_format: str, degree: int, scales: Scales) -> None:
    """P and φ at the run's degree, and the recovered field vectors (collective).

    P is interpolated from the bubble-enriched space to Lagrange when enriched. The
    vectors E, its depolarisation part, its applied part (with a bias) and E^fl are
    written under the ``electric_field`` and ``flexo_field`` output choices.
    """
    primary = {}
    if "polarization" in wanted:
        V = dolfinx.fem.functionspace(em.P.function_space.mesh, ("Lagrange", degree, (3,)))
        P_si = dolfinx.fem.Function(V, name="polarization")
        P_si.interpolate(em.P)
        P_si.x.array[:] *= scales.polarization
        primary["polarization"] = [P_si]
    if "potential" in wanted:
        phi_si = dolfinx.fem.Function(em.phi.function_space, name="potential")
        phi_si.x.array[:] = em.phi.x.array * scales.potential
        primary["potential"] = [phi_si]
    derived = [f for name, f in (("electric_field", fields.field), ("electric_field", fields.depolarization),
                                 ("electric_field", fields.applied), ("flexo_field", fields.flexo))
               if name in wanted and f is not None]
    _write(outdir, {"potential": primary.get("potential", []),
                    "polarization": primary.get("polarization", []), "electric": derived},
           file_format, scales)


def write_vacancies(outdir: pathlib.Path, vac: VacancySolution, wanted: set[str], file_format: str,
                    scales: Scales) -> None:
    """The vacancy density c (1/m³, zero off the film) and c/c0 (collective)."""
    if "vacancies" not in wanted:
        return
    c0 = vac.material.c0
    c = dolfinx.fem.Function(vac.w.function_space, name="vacancy_density")
    c.x.array[:] = c0 * np.exp(vac.w.x.array)
    c.x.array[vac.outside] = 0.0
    relative = dolfinx.fem.Function(vac.w.function_space, name="vacancy_density_relative")
    relative.x.array[:] = c.x.array / c0
    _write(outdir, {"vacancies": [c, relative]}, file_format, scales)
