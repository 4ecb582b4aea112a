"""The pipeline of one run, ``flexotip run``: config → mesh → solves → exports → summary.json.

:mod:`~flexotip.pipeline.run` holds the named steps, :mod:`~flexotip.pipeline.parameters`
turns the config into the typed parameters of the geometry and the fem problems,
:mod:`~flexotip.pipeline.output_folder` opens and closes the output folder, and
:mod:`~flexotip.pipeline.spectral_run` runs a config with the spectral reference instead.
"""
