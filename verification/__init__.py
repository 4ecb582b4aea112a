"""Verification: the FEM against the spectral reference (``flexotip crosscheck``), and mesh convergence.

:mod:`~flexotip.verification.crosscheck` runs a case at three resolutions and writes its
table and figure; :mod:`~flexotip.verification.crosscheck_film` holds the film cases,
:mod:`~flexotip.verification.box_fem` and :mod:`~flexotip.verification.box_fem_vacancies`
the FEM side of the mirror-walled box cases, :mod:`~flexotip.verification.comparison` the
difference metric. :mod:`~flexotip.verification.convergence` runs any config at several
mesh levels and reports whether its summary keys converge (``flexotip converge``),
:mod:`~flexotip.verification.convergence_report` writes that report.
"""
