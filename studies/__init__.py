"""Studies: compose config → mesh → forms → solve → outputs, and sweeps over configs."""
