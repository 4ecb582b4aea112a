"""Verification: the FEM checked against the spectral reference, case by case (``flexotip crosscheck``).

:mod:`~flexotip.verification.crosscheck` runs a case at three resolutions and writes its
table and figure; :mod:`~flexotip.verification.crosscheck_film` holds the film cases,
:mod:`~flexotip.verification.box_fem` and :mod:`~flexotip.verification.box_fem_vacancies`
the FEM side of the mirror-walled box cases, :mod:`~flexotip.verification.comparison` the
difference metric.
"""
