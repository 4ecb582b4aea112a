"""Studies: sweeps of whole runs over configs (`flexotip study`, docs/studies.md), and the flexocoupling calibration."""
