"""The block preconditioner of the electromechanical (u, P, φ) Newton steps.

The Jacobian of the free energy (fem/electromechanics.py) is the symmetric saddle point

    ⎡ A_uu  A_uP   0   ⎤   A_uu: elasticity;  A_uP: flexo + electrostriction;
    ⎢ A_Pu  A_PP   Bᵀ  ⎥   A_PP: Landau + gradient + electrostrictive (SPD at a stable state);
    ⎣  0     B    A_φφ ⎦   B: ∫P·∇ψ;  A_φφ = −ε0·κ_b·K (negative definite).

What couples strongly is P with φ: the depolarising stiffness 1/(ε0·κ_b) = 1.1e10 J·m/C²
is 30 × the Landau 2α1 at 300 K, and it acts on the longitudinal part of P alone, so no
block-diagonal approximation holds it (measured: the block-diagonal preconditioner with
exact blocks needs ~300 iterations per Newton step). The flexo coupling of u and P is
weak: with an exact (P, φ) block and an exact u block, block Jacobi needs ~13 iterations
per step. Hence:

* one block Gauss–Seidel sweep over u then (P, φ), u by GAMG with the rigid-body modes;
* (P, φ) by the full Schur factorisation that eliminates P,

      x_P⁰ = Â⁻¹·r_P,  x_φ = Ŝ⁻¹·(r_φ − B·x_P⁰),  x_P = Â⁻¹·(r_P − Bᵀ·x_φ),

  with Â⁻¹ one GAMG cycle on A_PP and Ŝ = A_φφ − B·diag(A_PP)⁻¹·Bᵀ assembled (its negative
  is a Laplacian with the effective permittivity ε0·κ_b + local susceptibility; one GAMG
  cycle). Dirichlet rows of φ (electrodes, pinned substrate) keep a unit diagonal.

Used under FGMRES. Every sub-solver is a KSP with its own options prefix
(``<prefix>block_u_``, ``block_P_``, ``block_S_``), so any of them can be changed from the
config or the command line, e.g. an exact ``block_S_pc_type = "lu"``.
"""

from __future__ import annotations

from petsc4py import PETSc

BLOCKS = ("u", "P", "phi")
"""The fields of the system, in the order of its index sets."""


class ElectromechanicalPreconditioner:
    """A petsc4py ``python`` PC context: block Gauss–Seidel u → (P, φ), Schur on (P, φ).

    Args:
        index_sets: Global index sets of the owned u, P and φ dofs in the monolithic system.
        near_nullspace: The rigid-body modes of the displacement space, for GAMG on A_uu.
        prefix: Options prefix of the parent solver; the sub-solvers append ``block_u_`` etc.
    """

    def __init__(self, index_sets: list[PETSc.IS], near_nullspace: PETSc.NullSpace, prefix: str):
        self.sets = dict(zip(BLOCKS, index_sets, strict=True))
        self.near_nullspace = near_nullspace
        self.prefix = prefix
        self.blocks: dict[tuple[str, str], PETSc.Mat] = {}
        self.ksps: dict[str, PETSc.KSP] = {}
        self.schur: PETSc.Mat | None = None
        self.work: dict[str, PETSc.Vec] = {}

    def _extract(self, A: PETSc.Mat) -> None:
        """The blocks of A that the preconditioner uses (their values refreshed on reuse)."""
        for rows, cols in (("u", "u"), ("P", "u"), ("P", "P"), ("phi", "P"), ("P", "phi"), ("phi", "phi")):
            old = self.blocks.get((rows, cols))
            self.blocks[rows, cols] = A.createSubMatrix(self.sets[rows], self.sets[cols], submat=old)
        self.blocks["u", "u"].setNearNullSpace(self.near_nullspace)

    def _assemble_schur(self) -> PETSc.Mat:
        """−Ŝ = −A_φφ + B·diag(A_PP)⁻¹·Bᵀ, SPD, with unit diagonal on Dirichlet rows."""
        inverse_diagonal = self.blocks["P", "P"].getDiagonal()
        inverse_diagonal.reciprocal()
        scaled = self.blocks["P", "phi"].copy()
        scaled.diagonalScale(L=inverse_diagonal)
        schur = self.blocks["phi", "P"].matMult(scaled)
        schur.axpy(-1.0, self.blocks["phi", "phi"], structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        # A Dirichlet row of φ is a unit row of A_φφ with empty B rows: −1 after the sign flip.
        diagonal = schur.getDiagonal()
        with diagonal as values:
            values[values < 0.0] = 1.0
        schur.setDiagonal(diagonal)
        scaled.destroy()
        return schur

    def setUp(self, pc: PETSc.PC) -> None:
        """Extract the blocks of the current Jacobian, assemble Ŝ, set up the sub-solvers."""
        _, A = pc.getOperators()
        self._extract(A)
        if self.schur is not None:
            self.schur.destroy()
        self.schur = self._assemble_schur()
        operators = {"u": self.blocks["u", "u"], "P": self.blocks["P", "P"], "S": self.schur}
        for name, M in operators.items():
            ksp = self.ksps.get(name)
            if ksp is None:
                ksp = self.ksps[name] = PETSc.KSP().create(A.getComm())
                ksp.setOptionsPrefix(f"{self.prefix}block_{name}_")
                ksp.setOperators(M)
                ksp.setFromOptions()
            else:
                ksp.setOperators(M)
            ksp.setUp()
        if not self.work:  # the layout is the same at every Newton step
            self.work = {name: self.blocks[block, block].createVecLeft() for name, block in (
                ("P_predictor", "P"), ("P_remainder", "P"), ("P_residual", "P"), ("phi", "phi"))}

    def _solve_polarization_potential(self, r_P: PETSc.Vec, r_phi: PETSc.Vec,
                                      x_P: PETSc.Vec, x_phi: PETSc.Vec) -> None:
        """Approximate [[A_PP, Bᵀ], [B, A_φφ]]⁻¹·r by the Schur factorisation (module docstring)."""
        predictor, remainder, g = self.work["P_predictor"], self.work["P_remainder"], self.work["phi"]
        self.ksps["P"].solve(r_P, predictor)
        self.blocks["phi", "P"].mult(predictor, g)
        g.aypx(-1.0, r_phi)   # r_φ − B·Â⁻¹r_P
        g.scale(-1.0)         # the KSP holds −Ŝ
        self.ksps["S"].solve(g, x_phi)
        self.blocks["P", "phi"].mult(x_phi, remainder)
        remainder.aypx(-1.0, r_P)
        self.ksps["P"].solve(remainder, x_P)

    def apply(self, pc: PETSc.PC, x: PETSc.Vec, y: PETSc.Vec) -> None:
        """Set y ≈ J⁻¹·x: u first, then (P, φ) with the residual updated by A_Pu·y_u."""
        r = {name: x.getSubVector(self.sets[name]) for name in BLOCKS}
        out = {name: y.getSubVector(self.sets[name]) for name in BLOCKS}
        self.ksps["u"].solve(r["u"], out["u"])
        r_P = self.work["P_residual"]
        self.blocks["P", "u"].mult(out["u"], r_P)
        r_P.aypx(-1.0, r["P"])
        self._solve_polarization_potential(r_P, r["phi"], out["P"], out["phi"])
        for name in BLOCKS:
            x.restoreSubVector(self.sets[name], r[name])
            y.restoreSubVector(self.sets[name], out[name])
