"""Spectral reference for the polarised film: cosine/sine series in-plane, high-order elements in z.

The film/substrate box (:class:`~flexotip.spectral.grid.FilmBox`, roller walls = mirror
planes) with the film on top (−h < z < 0, fields u, P, φ) and the substrate below
(−H < z < −h, u only), under a surface pressure p(x, y) on the top. Every field is a
cosine/sine series in x and y with the parities of :mod:`flexotip.spectral.series`, and
each in-plane mode (k_x, k_y) is an independent problem in z, which is discretised here
by Lagrange elements of high degree on Gauss–Lobatto nodes, graded towards the film top
(where the polarisation has a surface layer of √(G·ε0·κ_b) ≈ 0.07 nm), with the exact
integrals of the quadratic energy (Gauss–Legendre quadrature).

The energy density is written here from the energy of docs/model.md as a quadratic form W = ½·gᵀ·Q·g of
the values and first derivatives g of (u, P, φ), with the flexoelectric energy in the
form −f_ijkl·ε_ij·∂_l P_k (``flexo_form = "eps_grad_P"``, no surface term: well posed for
first-derivative fields, so that the discretisation converges), linear paraelectric
Landau energy, cubic gradient energy, no electrostriction (see
:mod:`flexotip.spectral.film_dynamics` for it and the full Landau energy), and the electric energy
−½ε0·κ_b·|∇φ|² + P·∇φ. For a mode, ∂_x → i·k_x and ∂_y → i·k_y (a field with s sine
axes in-plane carries the phase (−i)^s, as in :mod:`flexotip.spectral.box_electromechanics`), which
makes the per-mode stiffness the Hermitian K(k) = Σ_ab conj(s_a)·s_b·M_ab with the fixed
banded matrices M_ab of the derivative types a, b ∈ (value, ∂_x, ∂_y, ∂_z).

Conditions: u = 0 at the substrate bottom (clamped), traction −p·e_z on the top (its
flexoelectric part natural), P natural (the flux G·∂P/∂n = f:ε·n) on the film's top
and bottom, φ = 0 on the film top and bottom (short circuit; the substrate is a grounded
conductor), P = φ = 0 in the substrate.

SI at the interface; inside, nm, GPa, C/m², V (:class:`flexotip.units.Scales`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg

from flexotip.materials import CubicElasticity, ElectromechanicalMaterial, cubic_tensor
from flexotip.spectral.grid import FilmBox
from flexotip.units import EPSILON_0, Scales

FIELDS = ("u_x", "u_y", "u_z", "P_x", "P_y", "P_z", "phi")
PARITY = ((1, 0), (0, 1), (0, 0), (1, 0), (0, 1), (0, 0), (0, 0))
"""(sin in x, sin in y) of each field: u_x, P_x are sines in x; u_y, P_y in y."""
SINE_AXES = tuple(sum(p) for p in PARITY)
N_FIELDS = 7
TYPES = 4
"""Derivative types: value, ∂x, ∂y, ∂z."""


@dataclasses.dataclass(frozen=True)
class ZMesh:
    """Elements in z (scaled length) and their Lagrange basis of ``degree`` on Gauss–Lobatto nodes.

    Attributes:
        edges: Element boundaries, increasing, shape (n_elements + 1,).
        degree: Polynomial degree per element.
        film: Per element, True in the film.
    """

    edges: np.ndarray
    degree: int
    film: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Nodes in z (shared between neighbouring elements)."""
        return (len(self.edges) - 1) * self.degree + 1

    def reference(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """GLL nodes on [−1, 1], Gauss points and weights, basis and derivative at the points."""
        p = self.degree
        legendre = np.polynomial.legendre.Legendre.basis(p)
        nodes = np.concatenate([[-1.0], np.sort(legendre.deriv().roots().real), [1.0]])
        points, weights = np.polynomial.legendre.leggauss(p + 2)
        values, slopes = _lagrange(nodes, points)
        return nodes, points, weights, (values, slopes)

    def nodes(self) -> np.ndarray:
        """All node coordinates, shape (n_nodes,)."""
        reference = self.reference()[0]
        coords = [self.edges[0]]
        for a, b in zip(self.edges[:-1], self.edges[1:], strict=True):
            coords.extend(a + (reference[1:] + 1) * (b - a) / 2)
        return np.array(coords)


def _lagrange(nodes: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lagrange basis on ``nodes`` and its derivative at ``points``: shapes (n_points, n_nodes)."""
    n = len(nodes)
    values = np.ones((len(points), n))
    slopes = np.zeros((len(points), n))
    for j in range(n):
        others = [m for m in range(n) if m != j]
        denominator = np.prod(nodes[j] - nodes[others])
        values[:, j] = np.prod(points[:, None] - nodes[others][None, :], axis=1) / denominator
        for skip in others:
            rest = [m for m in others if m != skip]
            slopes[:, j] += np.prod(points[:, None] - nodes[rest][None, :], axis=1) / denominator
    return values, slopes


def graded_mesh(film_thickness: float, depth: float, top_cell: float, growth: float, largest: float,
                degree: int, substrate_largest: float | None = None) -> ZMesh:
    """Elements from the top down: ``top_cell`` at z = 0, growing by ``growth``, at most ``largest``.

    The film/substrate interface z = −film_thickness is an element boundary; all lengths
    scaled, ``depth`` the total thickness. In the substrate the elements keep growing up
    to ``substrate_largest`` (default ``largest``).
    """
    film, size = _layer(0.0, -film_thickness, top_cell, growth, largest)
    substrate, _ = _layer(-film_thickness, -depth, size, growth,
                          largest if substrate_largest is None else substrate_largest)
    edges = np.array(sorted(film + substrate[1:]))
    in_film = (edges[:-1] + edges[1:]) / 2 > -film_thickness
    return ZMesh(edges, degree, in_film)


def _layer(top: float, bottom: float, first: float, growth: float, largest: float) -> tuple[list, float]:
    """Edges from ``top`` down to ``bottom`` with sizes growing from ``first``; the last size."""
    edges, size = [top], first
    while edges[-1] - bottom > 1.5 * size:
        edges.append(edges[-1] - size)
        size = min(size * growth, largest)
    edges.append(bottom)
    return edges, size


def energy_matrix(elasticity: CubicElasticity, material: ElectromechanicalMaterial | None,
                  scales: Scales) -> np.ndarray:
    """Q (28 × 28): W = ½·gᵀ·Q·g for g = (values, ∂x, ∂y, ∂z) of the 7 fields, scaled.

    ``material`` None: the substrate (elastic energy only).
    """
    s = scales
    C = elasticity.tensor() / s.stress
    if material is not None:
        F = cubic_tensor(material.f11, material.f12, material.f44) / s.potential
        G = material.gradient_tensor() * s.polarization**2 / (s.length**2 * s.stress)
        alpha1 = material.alpha1 * s.polarization**2 / s.stress
        permittivity = EPSILON_0 * material.eps_background / s.permittivity

    def density(g: np.ndarray) -> float:
        value = g[:N_FIELDS]
        grad = g[N_FIELDS:].reshape(3, N_FIELDS)  # [derivative axis, field]
        du = grad[:, :3].T  # du[i, j] = ∂_j u_i
        strain = 0.5 * (du + du.T)
        energy = 0.5 * np.einsum("ij,ijkl,kl", strain, C, strain)
        if material is None:
            return energy
        P, dP, dphi = value[3:6], grad[:, 3:6].T, grad[:, 6]  # dP[k, l] = ∂_l P_k
        energy += alpha1 * P @ P + 0.5 * np.einsum("ij,ijkl,kl", dP, G, dP)
        energy -= np.einsum("ijkl,ij,kl", F, strain, dP)
        energy += -0.5 * permittivity * dphi @ dphi + P @ dphi
        return energy

    size = TYPES * N_FIELDS
    unit = np.eye(size)
    diagonal = np.array([density(unit[a]) for a in range(size)])
    Q = np.empty((size, size))
    for a in range(size):
        for b in range(size):
            Q[a, b] = diagonal[a] * 2 if a == b else density(unit[a] + unit[b]) - diagonal[a] - diagonal[b]
    return Q


@dataclasses.dataclass(frozen=True)
class FilmFields:
    """The solution: per in-plane mode and z node, the real cosine/sine amplitudes of the 7 fields.

    Attributes:
        amplitudes: Shape (n_x, n_y, n_nodes, 7), scaled units.
        mesh: The z elements.
        box: The box (m).
        scales: Internal units.
    """

    amplitudes: np.ndarray
    mesh: ZMesh
    box: FilmBox
    scales: Scales

    def surface_displacement_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The displacement on the film top at points (x, y) (m), shape (n, 3), m."""
        box = self.box
        nx, ny = self.amplitudes.shape[:2]
        kx, ky = box.wavenumbers(nx, ny)
        phase_x = np.outer(np.asarray(x, dtype=float) - box.x_min, kx)
        phase_y = np.outer(np.asarray(y, dtype=float) - box.y_min, ky)
        top = self.amplitudes[:, :, -1, :3]
        trig = {("x", 0): np.cos(phase_x), ("x", 1): np.sin(phase_x),
                ("y", 0): np.cos(phase_y), ("y", 1): np.sin(phase_y)}
        return np.stack([np.einsum("pm,mn,pn->p", trig["x", px], top[..., f], trig["y", py])
                         for f, (px, py) in enumerate(PARITY[:3])], axis=1) * self.scales.length

    def profile_at(self, x: float, y: float, depths: np.ndarray) -> dict[str, np.ndarray]:
        """The fields at (x, y) and depths ≥ 0 (m), SI: u (m), P (C/m²), φ (V), E_z (V/m).

        Each has the depths first: (n_depths, 3) or (n_depths,).
        """
        box, s = self.box, self.scales
        nx, ny = self.amplitudes.shape[:2]
        kx, ky = box.wavenumbers(nx, ny)
        cx, sx = np.cos(kx * (x - box.x_min)), np.sin(kx * (x - box.x_min))
        cy, sy = np.cos(ky * (y - box.y_min)), np.sin(ky * (y - box.y_min))
        factors = {(0, 0): np.outer(cx, cy), (1, 0): np.outer(sx, cy), (0, 1): np.outer(cx, sy)}
        nodal = np.stack([np.einsum("mn,mnj->j", factors[PARITY[f]], self.amplitudes[..., f])
                          for f in range(N_FIELDS)], axis=1)  # (n_nodes, 7)
        z = -np.asarray(depths, dtype=float) / s.length
        values, slopes = _evaluate(self.mesh, z)
        fields = values @ nodal
        dphi_dz = slopes @ nodal[:, 6]
        return {"displacement": fields[:, :3] * s.length, "polarization": fields[:, 3:6] * s.polarization,
                "potential": fields[:, 6] * s.potential, "E_z": -dphi_dz * s.electric_field}


def _evaluate(mesh: ZMesh, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global basis values and z-derivatives at points z (scaled): shapes (n_points, n_nodes)."""
    reference = mesh.reference()[0]
    values = np.zeros((len(z), mesh.n_nodes))
    slopes = np.zeros_like(values)
    element = np.clip(np.searchsorted(mesh.edges, z, side="right") - 1, 0, len(mesh.edges) - 2)
    for i, (zi, e) in enumerate(zip(z, element, strict=True)):
        a, b = mesh.edges[e], mesh.edges[e + 1]
        xi = np.array([2 * (zi - a) / (b - a) - 1])
        v, d = _lagrange(reference, xi)
        nodes = slice(e * mesh.degree, e * mesh.degree + mesh.degree + 1)
        values[i, nodes] = v[0]
        slopes[i, nodes] = d[0] * 2 / (b - a)
    return values, slopes


def assemble_bands(mesh: ZMesh, film_Q: np.ndarray, substrate_Q: np.ndarray,
                   bandwidth: int) -> list[tuple[int, int, np.ndarray]]:
    """∫ (basis of type a)·Q_ab·(basis of type b) dz in LAPACK band storage, as [(a, b, band)].

    Args:
        mesh: The z elements (scaled length).
        film_Q: The 28 × 28 quadratic form of the energy density in the film (as
            :func:`energy_matrix`), scaled.
        substrate_Q: The same in the substrate.
        bandwidth: Half-bandwidth bw of the node-major dofs (7 per node); an element's
            dofs must fit in it.

    Returns:
        For every pair of derivative types (a, b) whose matrix is not zero, the band
        (2·bw + 1, n) with entry (i, j) at [bw + i − j, j], summed element by element in
        the order of the elements (so equal, bit for bit, to a dense assembly).

    Raises:
        RuntimeError: If an element's couplings fall outside the band.
    """
    _, _, weights, (values, slopes) = mesh.reference()
    n = mesh.n_nodes * N_FIELDS
    size = (mesh.degree + 1) * N_FIELDS
    if size - 1 > bandwidth:
        raise RuntimeError(f"spectral film: an element couples {size} consecutive dofs, which falls "
                           f"outside the half-bandwidth {bandwidth}")
    bands = np.zeros((TYPES, TYPES, 2 * bandwidth + 1, n))
    local = np.arange(size)
    # Local entry (i, j) of an element starting at dof s sits at band row bw + i − j, column s + j.
    rows = bandwidth + local[:, None] - local[None, :]
    for e, (a, b) in enumerate(zip(mesh.edges[:-1], mesh.edges[1:], strict=True)):
        jacobian = (b - a) / 2
        Q = (film_Q if mesh.film[e] else substrate_Q).reshape(TYPES, N_FIELDS, TYPES, N_FIELDS)
        basis = [values, values, values, slopes / jacobian]
        columns = e * mesh.degree * N_FIELDS + local[None, :]
        for ta in range(TYPES):
            for tb in range(TYPES):
                # ∫ N_i^(a) Q[a f, b g] N_j^(b): (node i, field f) × (node j, field g)
                block = np.einsum("q,qi,fg,qj->ifjg", weights * jacobian, basis[ta], Q[ta, :, tb, :],
                                  basis[tb]).reshape(size, size)
                bands[ta, tb][rows, columns] += block
    return [(a, b, bands[a, b].copy()) for a in range(TYPES) for b in range(TYPES) if np.any(bands[a, b])]


def band_to_dense(band: np.ndarray) -> np.ndarray:
    """The square matrix (n, n) of a LAPACK band (2·bw + 1, n) (for checks on small problems)."""
    bw = (band.shape[0] - 1) // 2
    n = band.shape[1]
    dense = np.zeros((n, n), dtype=band.dtype)
    for offset in range(-bw, bw + 1):  # entry (i, i + offset) sits at [bw − offset, i + offset]
        i = np.arange(max(0, -offset), min(n, n - offset))
        dense[i, i + offset] = band[bw - offset, i + offset]
    return dense


class FilmElectromechanics:
    """The linear (u, P, φ) film problem per in-plane mode; :meth:`solve` for a pressure.

    Args:
        box: The film/substrate box (m); its thickness is film plus substrate.
        film_thickness: h, m.
        elasticity: Cubic elastic constants, Pa (film and substrate).
        material: Electromechanical constants (SI); electrostriction and the full Landau
            energy are not included here (linear problem; they are added by
            :mod:`flexotip.spectral.film_dynamics`).
        top_cell: Element size at the film top, m.
        growth: Element growth factor downwards.
        largest: Largest element in the film, m.
        degree: Polynomial degree of the elements.
        scales: Internal units.
        substrate_largest: Largest element in the substrate, m (default ``largest``).
    """

    def __init__(self, box: FilmBox, film_thickness: float, elasticity: CubicElasticity,
                 material: ElectromechanicalMaterial, top_cell: float = 0.02e-9, growth: float = 1.6,
                 largest: float = 4e-9, degree: int = 6, scales: Scales | None = None,
                 substrate_largest: float | None = None):
        self.box, self.scales = box, scales or Scales()
        self.elasticity, self.material = elasticity, material
        L = self.scales.length
        self.mesh = graded_mesh(film_thickness / L, box.thickness / L, top_cell / L, growth, largest / L,
                                degree, None if substrate_largest is None else substrate_largest / L)
        film_Q = energy_matrix(elasticity, material, self.scales)
        substrate_Q = energy_matrix(elasticity, None, self.scales)
        # M_ab = ∫ (basis of type a)·Q_ab·(basis of type b) dz, straight into band storage:
        # an element couples only its own 7·(degree + 1) consecutive dofs.
        self._bands = assemble_bands(self.mesh, film_Q, substrate_Q, self.bandwidth)
        self._fixed = self._dirichlet()

    @property
    def bands(self) -> list[tuple[int, int, np.ndarray]]:
        """The non-zero M_ab in LAPACK band storage, [(a, b, band (2·bw + 1, n))] (scaled)."""
        return self._bands

    @property
    def fixed_dofs(self) -> np.ndarray:
        """Dofs held at zero in every mode (Dirichlet conditions and P, φ in the substrate)."""
        return self._fixed

    def held_dofs(self, zero_x: bool, zero_y: bool) -> np.ndarray:
        """Dofs held at zero in a mode whose k_x (``zero_x``) or k_y (``zero_y``) is zero.

        :attr:`fixed_dofs`, and the components whose sine factor vanishes in that mode.
        """
        held = self._fixed
        field = np.arange(self.n_dofs) % N_FIELDS
        for zero, axis in ((zero_x, 0), (zero_y, 1)):
            if zero:
                held = np.union1d(held, np.flatnonzero([PARITY[f][axis] for f in field]))
        return held

    @property
    def n_dofs(self) -> int:
        """Unknowns per mode (7 per z node)."""
        return self.mesh.n_nodes * N_FIELDS

    @property
    def bandwidth(self) -> int:
        """Half-bandwidth of the per-mode matrix (node-major dofs)."""
        return N_FIELDS * (self.mesh.degree + 1) - 1

    def _dirichlet(self) -> np.ndarray:
        """Dofs held at zero: u at the bottom; φ on the film top and bottom; P and φ in the substrate."""
        z = self.mesh.nodes()
        fixed = []
        substrate = np.flatnonzero(~self.mesh.film)
        interface = self.mesh.edges[substrate[-1] + 1] if len(substrate) else z.min()
        for node, zn in enumerate(z):
            base = node * N_FIELDS
            if node == 0:
                fixed += [base, base + 1, base + 2]
            if zn < interface - 1e-12:
                fixed += [base + 3, base + 4, base + 5, base + 6]
            elif abs(zn - interface) < 1e-12 or node == len(z) - 1:
                fixed.append(base + 6)
        return np.array(sorted(set(fixed)))

    def solve(self, pressure_modes: np.ndarray) -> FilmFields:
        """Amplitudes of every mode under the pressure p = Σ c_mn·cos·cos (Pa), shape (n_x, n_y).

        One banded LU (partial pivoting; K is Hermitian but indefinite) per mode; modes of
        zero pressure amplitude are skipped (their fields are zero).
        """
        s = self.scales
        pressure_modes = np.asarray(pressure_modes, dtype=float) / s.stress
        nx, ny = pressure_modes.shape
        kx, ky = self.box.wavenumbers(nx, ny)
        kx, ky = kx * s.length, ky * s.length
        n, bw = self.n_dofs, self.bandwidth
        terms = self._bands
        phase = np.tile((-1j) ** np.array(SINE_AXES), self.mesh.n_nodes)
        top_uz = (self.mesh.n_nodes - 1) * N_FIELDS + 2
        amplitudes = np.zeros((nx, ny, self.mesh.n_nodes, N_FIELDS))
        for m in range(nx):
            for q in range(ny):
                if pressure_modes[m, q] == 0.0:
                    continue
                symbols = np.array([1.0, 1j * kx[m], 1j * ky[q], 1.0])
                K = sum(np.conj(symbols[a]) * symbols[b] * band for a, b, band in terms)
                held = self.held_dofs(kx[m] == 0, ky[q] == 0)
                hold_band_dofs(K, held, bw)
                rhs = np.zeros(n, dtype=complex)
                rhs[top_uz] = -pressure_modes[m, q]
                rhs[held] = 0.0
                solution = scipy.linalg.solve_banded((bw, bw), K, rhs, check_finite=False)
                amplitudes[m, q] = (solution / phase).real.reshape(-1, N_FIELDS)
        return FilmFields(amplitudes, self.mesh, self.box, s)


def hold_band_dofs(band: np.ndarray, dofs: np.ndarray, bw: int) -> None:
    """Replace rows and columns ``dofs`` of a band-stored matrix by the identity (in place)."""
    n = band.shape[1]
    band[:, dofs] = 0.0  # columns
    for offset in range(-bw, bw + 1):  # rows: entry (i, i + offset) sits at [bw − offset, i + offset]
        columns = dofs + offset
        keep = (columns >= 0) & (columns < n)
        band[bw - offset, columns[keep]] = 0.0
    band[bw, dofs] = 1.0
