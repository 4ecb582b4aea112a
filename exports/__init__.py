"""Exports: from a solved state to files and summary.json keys, in SI units.

Each export is an object that samples a solution and returns a result that writes its
own files: :mod:`~flexotip.exports.profiles` (mechanics on the axis and the film top),
:mod:`~flexotip.exports.electric` (recovered fields and cuts through them),
:mod:`~flexotip.exports.surface_map` (the simulated KPFM vacancy map),
:mod:`~flexotip.exports.fields` (ParaView field files). None of them solves a PDE.
"""
