"""Exact depth profiles of the in-plane cosine modes of a clamped cubic-elastic layer.

The layer −H ≤ z ≤ 0 (z up) has cubic elastic constants c11, c12, c44 with crystal
axes x, y, z, a clamped bottom (u = 0 at z = −H) and, on top, the traction
σ·e_z = (0, 0, −p̂) of one cosine mode of a surface pressure. The displacement of the
mode (k_x, k_y) is

    u_x = U(z)·sin(k_x ξ)·cos(k_y η),  u_y = V(z)·cos(k_x ξ)·sin(k_y η),
    u_z = W(z)·cos(k_x ξ)·cos(k_y η),

with ξ, η the distances from the box walls x = x_min, y = y_min. Cubic symmetry with
axes along x, y, z keeps every Navier equation within this one product of sines and
cosines, so each mode decouples. With the traction t = (σ_xz, σ_yz, σ_zz) amplitudes,
the equilibrium equations are the first-order system y' = A·y for y = (U, V, W, t).

Method (why not plain eigenvectors): A has the eigenvalues ±K·p_i, where the p_i² are
the roots of a cubic. In the isotropic case all p_i = 1 and A is defective; cubic STO
(Zener ratio 1.11) is close to it, so an eigenvector basis is exact in theory and ill
conditioned in practice. Instead, in the dimensionless depth s = K·z, the spectral
projector P₊ = (I + sign(Ã))/2 onto the modes that decay downwards comes from the
Newton iteration of the matrix sign function, which converges quadratically for
defective matrices too, since no eigenvalue lies on the imaginary axis. Its range is
the graph t = S·u of the half-space surface stiffness S, and on it Ã acts as the 3×3
matrix T = Ã_uu + Ã_ut·S, whose eigenvalues are the p_i with Re p_i > 0. The crystal
is symmetric under the mirror z → −z (R·Ã·R = −Ã with R = diag(D, −D),
D = diag(1, 1, −1)), which turns these into the modes that decay upwards from the
bottom, so that

    u(s) = exp(T·s)·a + D·exp(−T·(s + h))·b,  t(s) = S·exp(T·s)·a − D·S·exp(−T·(s + h))·b,

with h = K·H and both matrix exponentials bounded on −h ≤ s ≤ 0 (scaled exponentials:
nothing overflows at any K·H), computed by scaling and squaring (:func:`expm_stack`),
which needs no eigenvectors. The bottom and top conditions give a, b from a 3×3 solve.
Derivatives in z are exact: d/ds brings down T. The mode K = 0 is closed form:
u_z = −p̂·(z + H)/c11, u_x = u_y = 0. For K·H → 0 the top and bottom modes nearly cancel
and the relative round-off grows as 1e-16/(K·H), harmless unless the box is about a
million times wider than deep.

Everything is vectorised over modes. Units are SI: wavenumbers in 1/m, depths in m,
profiles per pascal of mode pressure (m/Pa for displacements, Pa/Pa for tractions).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flexotip.materials import CubicElasticity

MIRROR = np.diag([1.0, 1.0, -1.0])
"""D: the reflection z → −z acting on displacement amplitudes (U, V, W)."""

SIGN_TOLERANCE = 1e-9
"""Relative step of the sign-function Newton iteration after which one more step is exact."""

SIGN_MAX_ITERATIONS = 60

TAYLOR_DEGREE = 14
"""Degree of the Taylor polynomial of exp on matrices of 1-norm ≤ 1/2."""

CHUNK_SIZE = 32768
"""Modes solved together (bounds the memory of the 6×6 stacks)."""

DECAY_CUTOFF = 100.0
"""exp(T·s) is taken as zero where min Re eig(T)·|s| exceeds this (e^-100 ≈ 4e-44)."""


def system_matrix(elasticity: CubicElasticity, nx: np.ndarray, ny: np.ndarray) -> np.ndarray:
    """Dimensionless first-order system dỹ/ds = Ã·ỹ of the modes with directions (nx, ny).

    The state is ỹ = (U, V, W)·K·c44 followed by the tractions (σ_xz, σ_yz, σ_zz), all
    per unit pressure, and s = K·z.

    Args:
        elasticity: Elastic constants, Pa.
        nx: k_x/K, shape (n,).
        ny: k_y/K, shape (n,), with nx² + ny² = 1.

    Returns:
        Ã, shape (n, 6, 6).
    """
    c11, c12, c44 = elasticity.c11, elasticity.c12, elasticity.c44
    n = len(nx)
    A = np.zeros((n, 6, 6))
    # u' rows: U' = t_x + nx·W, V' = t_y + ny·W, W' = (c44·t_z − c12·(nx·U + ny·V))/c11.
    A[:, 0, 3] = 1.0
    A[:, 0, 2] = nx
    A[:, 1, 4] = 1.0
    A[:, 1, 2] = ny
    A[:, 2, 5] = c44 / c11
    A[:, 2, 0] = -c12 / c11 * nx
    A[:, 2, 1] = -c12 / c11 * ny
    # t' rows from the x, y, z equilibrium equations, with W' replaced by its row above.
    A[:, 3, 0] = (c11 * nx**2 + c44 * ny**2) / c44
    A[:, 3, 1] = (c12 + c44) * nx * ny / c44
    A[:, 4, 0] = A[:, 3, 1]
    A[:, 4, 1] = (c11 * ny**2 + c44 * nx**2) / c44
    A[:, 3, :] += c12 / c44 * nx[:, None] * A[:, 2, :]
    A[:, 4, :] += c12 / c44 * ny[:, None] * A[:, 2, :]
    A[:, 5, 3] = -nx
    A[:, 5, 4] = -ny
    return A


def matrix_sign(A: np.ndarray) -> np.ndarray:
    """Matrix sign function of a stack of matrices with no imaginary-axis eigenvalue.

    Newton iteration X ← (X + X⁻¹)/2 (Higham, *Functions of Matrices*, 2008, §5.3); it
    converges quadratically, for defective matrices too. Once a step changes X by less
    than ``SIGN_TOLERANCE`` (relative), one more step reaches round-off.

    Args:
        A: Matrices, shape (n, m, m).

    Returns:
        sign(A), shape (n, m, m).

    Raises:
        RuntimeError: If the iteration has not converged after ``SIGN_MAX_ITERATIONS``.
    """
    X = A.copy()
    for _ in range(SIGN_MAX_ITERATIONS):
        X_next = 0.5 * (X + np.linalg.inv(X))
        step = np.abs(X_next - X).max(axis=(1, 2)) / np.abs(X_next).max(axis=(1, 2))
        X = X_next
        if step.max() < SIGN_TOLERANCE:
            return 0.5 * (X + np.linalg.inv(X))
    raise RuntimeError(f"matrix sign iteration: relative step {step.max():.2e} after "
                       f"{SIGN_MAX_ITERATIONS} iterations")


def expm_stack(X: np.ndarray) -> np.ndarray:
    """Matrix exponentials of a stack of small matrices, by scaling and squaring.

    Each matrix is scaled by 2^-j to a 1-norm ≤ 1/2, exponentiated by its Taylor
    polynomial of degree 14 (truncation error < 3e-17) and squared j times. Written with
    NumPy stacks rather than ``scipy.linalg.expm``, whose batched form slows down by
    orders of magnitude when OpenBLAS threads compete with other processes for cores.

    Args:
        X: Matrices, shape (n, m, m).

    Returns:
        exp(X), shape (n, m, m).
    """
    identity = np.eye(X.shape[-1])
    norm = np.abs(X).sum(axis=1).max(axis=1)
    squarings = np.ceil(np.log2(np.maximum(norm, 1e-300) / 0.5)).clip(0).astype(int)
    Y = X / np.ldexp(1.0, squarings)[:, None, None]
    E = identity + Y / TAYLOR_DEGREE
    for k in range(TAYLOR_DEGREE - 1, 0, -1):
        E = identity + (Y @ E) / k
    for j in range(squarings.max(initial=0)):
        more = squarings > j
        E[more] = E[more] @ E[more]
    return E


def _solve_right(B: np.ndarray, M: np.ndarray) -> np.ndarray:
    """B·M⁻¹ for stacks of square matrices."""
    return np.swapaxes(np.linalg.solve(np.swapaxes(M, 1, 2), np.swapaxes(B, 1, 2)), 1, 2)


@dataclasses.dataclass(frozen=True)
class ModeProfiles:
    """Amplitudes of the modes at one depth, per pascal of mode pressure.

    Attributes:
        displacement: (U, V, W), m/Pa, shape (n, 3).
        slope: d(U, V, W)/dz, 1/Pa, shape (n, 3).
        curvature: d²(U, V, W)/dz², 1/(m·Pa), shape (n, 3).
        traction: (σ_xz, σ_yz, σ_zz) amplitudes, Pa/Pa, shape (n, 3).
    """

    displacement: np.ndarray
    slope: np.ndarray
    curvature: np.ndarray
    traction: np.ndarray


@dataclasses.dataclass(frozen=True)
class LayerModes:
    """The clamped layer's exact response to unit-pressure cosine modes.

    Build it with :func:`layer_modes`. Modes with K = 0 carry the closed-form uniform
    compression; for them ``stiffness`` and ``generator`` are unused (zero).

    Attributes:
        elasticity: Elastic constants, Pa.
        kx: Wavenumbers k_x, 1/m, shape (n,).
        ky: Wavenumbers k_y, 1/m, shape (n,).
        thickness: Layer thickness H, m.
        stiffness: Dimensionless half-space surface stiffness S (t = S·u), shape (n, 3, 3).
        generator: T = Ã_uu + Ã_ut·S, shape (n, 3, 3); exp(T·s) carries the top modes.
        top_amplitude: a, dimensionless, shape (n, 3).
        bottom_amplitude: b, dimensionless, shape (n, 3).
        decay_rate: min Re eig(T), the slowest decay exp(−rate·K·depth), shape (n,).

    The profiles of the last depth asked for are kept, so that displacement and stress
    in one plane cost one evaluation.
    """

    elasticity: CubicElasticity
    kx: np.ndarray
    ky: np.ndarray
    thickness: float
    stiffness: np.ndarray
    generator: np.ndarray
    top_amplitude: np.ndarray
    bottom_amplitude: np.ndarray
    decay_rate: np.ndarray
    _last: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def wavenumber(self) -> np.ndarray:
        """K = sqrt(k_x² + k_y²), 1/m, shape (n,)."""
        return np.hypot(self.kx, self.ky)

    def riccati_residual(self) -> np.ndarray:
        """Largest |Ã_tu + Ã_tt·S − S·T| of each mode: how exactly the top modes solve the system."""
        K = self.wavenumber
        A = system_matrix(self.elasticity, *_directions(self.kx, self.ky, K))
        S, T = self.stiffness, self.generator
        residual = A[:, 3:, :3] + A[:, 3:, 3:] @ S - S @ T
        return np.where(K > 0, np.abs(residual).max(axis=(1, 2)), 0.0)

    def profiles(self, z: float) -> ModeProfiles:
        """Displacement, its first two z-derivatives and the traction at depth z.

        Args:
            z: Height, m, with −H ≤ z ≤ 0.

        Returns:
            The amplitudes of every mode at z, per pascal of mode pressure.
        """
        H = self.thickness
        if not -H <= z <= 0.0:
            raise ValueError(f"z = {z!r} m: must lie in the layer, -{H:g} ≤ z ≤ 0 m")
        if self._last.get("z") == z:
            return self._last["profiles"]
        K = self.wavenumber
        c44 = self.elasticity.c44
        n = len(K)
        wave = K > 0
        T, rate = self.generator[wave], self.decay_rate[wave]
        E_top = _exponentials(T, K[wave] * z, rate)
        E_bottom = _exponentials(T, -K[wave] * (z + H), rate)
        S = self.stiffness[wave]
        top = E_top @ self.top_amplitude[wave, :, None]
        bottom = E_bottom @ self.bottom_amplitude[wave, :, None]
        u = top + MIRROR @ bottom
        du = T @ top - MIRROR @ (T @ bottom)
        d2u = T @ (T @ top) + MIRROR @ (T @ (T @ bottom))
        t = S @ top - MIRROR @ (S @ bottom)
        scale = (K[wave] * c44)[:, None]
        result = {name: np.zeros((n, 3)) for name in ("displacement", "slope", "curvature", "traction")}
        result["displacement"][wave] = u[..., 0] / scale
        result["slope"][wave] = du[..., 0] / c44
        result["curvature"][wave] = d2u[..., 0] * K[wave, None] / c44
        result["traction"][wave] = t[..., 0]
        c11 = self.elasticity.c11
        result["displacement"][~wave, 2] = -(z + H) / c11
        result["slope"][~wave, 2] = -1.0 / c11
        result["traction"][~wave, 2] = -1.0
        for array in result.values():
            array.flags.writeable = False
        self._last.update(z=z, profiles=ModeProfiles(**result))
        return self._last["profiles"]


def _directions(kx: np.ndarray, ky: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    safe = np.where(K > 0, K, 1.0)
    return np.where(K > 0, kx / safe, 1.0), np.where(K > 0, ky / safe, 0.0)


def _exponentials(T: np.ndarray, s: np.ndarray, rate: np.ndarray | None = None) -> np.ndarray:
    """exp(T·s) for a stack of 3×3 matrices and s ≤ 0 (bounded: Re eig T > 0).

    Where min Re eig(T)·|s| (``rate``·|s|) exceeds ``DECAY_CUTOFF`` the exponential is
    below 1e-40 and set to zero: computing it would only create subnormal numbers,
    which are slow.
    """
    E = np.zeros(T.shape)
    E[s == 0.0] = np.eye(3)
    moving = np.flatnonzero(s != 0.0)
    if len(moving) > 0:
        if rate is None:
            rate = np.linalg.eigvals(T).real.min(axis=1)
        moving = moving[rate[moving] * np.abs(s[moving]) < DECAY_CUTOFF]
        E[moving] = expm_stack(T[moving] * s[moving, None, None])
    return E


def layer_modes(elasticity: CubicElasticity, kx: np.ndarray, ky: np.ndarray,
                thickness: float) -> LayerModes:
    """Solve the clamped layer for unit-pressure cosine modes (k_x, k_y).

    The mode (k_y, k_x) is the mode (k_x, k_y) with x and y swapped (cubic symmetry),
    so each unordered pair is solved once. Cost: about 3 s per 250 000 modes.

    Args:
        elasticity: Elastic constants, Pa (must be positive definite).
        kx: Wavenumbers k_x ≥ 0, 1/m, shape (n,).
        ky: Wavenumbers k_y ≥ 0, 1/m, shape (n,).
        thickness: Layer thickness H > 0, m.

    Returns:
        The per-mode solution; evaluate it with :meth:`LayerModes.profiles`.

    Raises:
        ValueError: On non-positive thickness, negative or non-finite wavenumbers,
            or unstable elastic constants.
    """
    problem = elasticity.stability_error()
    if problem:
        raise ValueError(f"elasticity = {elasticity!r}: not positive definite ({problem})")
    if not (np.isfinite(thickness) and thickness > 0):
        raise ValueError(f"thickness = {thickness!r} m: must be finite and > 0")
    kx, ky = np.broadcast_arrays(np.asarray(kx, dtype=float).ravel(), np.asarray(ky, dtype=float).ravel())
    for name, k in (("kx", kx), ("ky", ky)):
        bad = ~(np.isfinite(k) & (k >= 0))
        if np.any(bad):
            raise ValueError(f"{name} = {k[bad][0]!r} 1/m (and {bad.sum() - 1} more): wavenumbers "
                             "must be finite and ≥ 0")
    swapped = ky > kx
    pairs, index = np.unique(np.c_[np.maximum(kx, ky), np.minimum(kx, ky)], axis=0,
                             return_inverse=True)
    K = np.hypot(pairs[:, 0], pairs[:, 1])
    n = len(K)
    S, T = np.zeros((n, 3, 3)), np.zeros((n, 3, 3))
    a, b = np.zeros((n, 3)), np.zeros((n, 3))
    wave = np.flatnonzero(K > 0)
    for chunk in np.array_split(wave, max(1, len(wave) // CHUNK_SIZE)):
        S[chunk], T[chunk] = _half_space(elasticity, pairs[chunk, 0] / K[chunk], pairs[chunk, 1] / K[chunk])
    decay = np.full(n, np.inf)
    decay[wave] = np.linalg.eigvals(T[wave]).real.min(axis=1)
    for chunk in np.array_split(wave, max(1, len(wave) // CHUNK_SIZE)):
        a[chunk], b[chunk] = _amplitudes(S[chunk], T[chunk], K[chunk] * thickness, decay[chunk])
    index = index.ravel()
    S, T, a, b = S[index], T[index], a[index], b[index]
    swap = [1, 0, 2]
    S[swapped] = S[swapped][:, swap][:, :, swap]
    T[swapped] = T[swapped][:, swap][:, :, swap]
    a[swapped] = a[swapped][:, swap]
    b[swapped] = b[swapped][:, swap]
    return LayerModes(elasticity, kx.copy(), ky.copy(), float(thickness), S, T, a, b, decay[index])


def _half_space(elasticity: CubicElasticity, nx: np.ndarray, ny: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surface stiffness S and generator T of the downward-decaying modes, directions (nx, ny)."""
    A = system_matrix(elasticity, nx, ny)
    P = 0.5 * (np.eye(6) + matrix_sign(A))
    # The range of P₊ is the graph t = S·u: P₊ applied to displacement-only states spans it
    # (a traction-free decaying mode would be a static Rayleigh wave, which does not exist).
    S = _solve_right(P[:, 3:, :3], P[:, :3, :3])
    return S, A[:, :3, :3] + A[:, :3, 3:] @ S


def indentation_modulus(elasticity: CubicElasticity, n_angles: int = 32) -> float:
    """Indentation modulus E* of the (001) surface of the cubic half-space, Pa.

    An axisymmetric pressure of transform P̂(K) lowers the half-space surface on its axis
    by (1/2π)∫∫P̂(K)/(K·E*(θ))·dK·dθ, with E*(θ) = 2·c44/(S⁻¹)_zz from the surface
    stiffness S of the in-plane direction θ. So the isotropic formulas hold on the axis
    with the harmonic mean of E*(θ) over θ (Vlassak & Nix, J. Mech. Phys. Solids 42,
    1223 (1994)); for an isotropic solid it is E/(1 − ν²). The mean uses the trapezoid
    rule over the period π/2, exact to round-off for this smooth periodic integrand.

    Args:
        elasticity: Elastic constants, Pa.
        n_angles: Directions θ sampled in [0, π/2).

    Returns:
        E* for a rigid indenter, Pa.
    """
    theta = (np.arange(n_angles) + 0.5) * (np.pi / 2) / n_angles
    S, _ = _half_space(elasticity, np.cos(theta), np.sin(theta))
    compliance = np.linalg.inv(S)[:, 2, 2] / (2 * elasticity.c44)
    return float(1.0 / compliance.mean())


def _amplitudes(S: np.ndarray, T: np.ndarray, h: np.ndarray,
                rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes a, b of the top and bottom modes of a layer of dimensionless thickness h = K·H."""
    Eh = _exponentials(T, -h, rate)
    # Bottom: exp(−T·h)·a + D·b = 0. Top: S·a − D·S·exp(−T·h)·b = (0, 0, −1).
    M = S + MIRROR @ S @ Eh @ MIRROR @ Eh
    load = np.broadcast_to(np.array([0.0, 0.0, -1.0]), (len(h), 3))
    a = np.linalg.solve(M, load[..., None])
    b = -MIRROR @ (Eh @ a)
    return a[..., 0], b[..., 0]
