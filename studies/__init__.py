"""Studies: sweeps of whole runs over configs (`flexotip study`, docs/studies.md).

Also the flexocoupling calibration (calibrate_flexo).
"""
