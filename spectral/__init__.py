"""FFT/spectral reference solver on regular grids (NumPy/SciPy only).

Written from the equations, independently of the finite-element forms; it shares only
the config and the material parameters with :mod:`flexotip.fem`.
"""
