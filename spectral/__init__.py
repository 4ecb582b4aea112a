"""FFT/spectral reference solver on regular grids (NumPy/SciPy only).

Written from the equations, independently of the finite-element forms: it imports only
the core (:mod:`flexotip.materials`, :mod:`flexotip.units`, :mod:`flexotip.analytic`),
nothing of :mod:`flexotip.fem`, and loads no DOLFINx (tests/test_materials.py checks).

* :mod:`flexotip.spectral.layer`: exact depth profiles of one in-plane cosine mode of a
  clamped cubic-elastic layer under a surface pressure (and the half-space surface
  stiffness and indentation modulus);
* :mod:`flexotip.spectral.grid`: the film box, its cell-centred grid, and surface loads
  as cosine amplitudes (DCT-II of samples or cell averages, exact transforms);
* :mod:`flexotip.spectral.elasticity`: the box under a pressure, displacement and
  stress on the grid or at any point;
* :mod:`flexotip.spectral.series`: the box with mirror walls on all six faces, fields as
  cosine/sine series by parity (DCT-II/DST-II on a cell-centred grid), derivatives;
* :mod:`flexotip.spectral.box_electromechanics`: the flexoelectric (u, P, φ) problem in
  that box, per mode, with electrostriction, the full Landau energy and the semi-implicit
  TDGL step;
* :mod:`flexotip.spectral.transport`: semi-implicit Nernst–Planck in that box;
* :mod:`flexotip.spectral.film_electromechanics`: the polarised film under a pressure,
  cosine/sine series in-plane and high-order elements in z (resolving the surface layer
  of P);
* :mod:`flexotip.spectral.film_dynamics`: that film with electrostriction and the full
  Landau energy (pseudo-spectral), its Picard steady state and semi-implicit TDGL;
* :mod:`flexotip.spectral.pointwise`: the local nonlinear terms (electrostriction, quartic
  Landau) on a grid, shared by the box and the film.
"""
