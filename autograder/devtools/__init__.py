"""Tools for trying the kit out: the demo course, the benchmark, built-in sample submissions."""
