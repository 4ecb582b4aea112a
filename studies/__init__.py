"""Studies: sweeps of whole runs over configs (today the flexocoupling calibration)."""
