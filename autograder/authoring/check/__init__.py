"""`course check`: what an instructor runs to trust an assignment before release (run.py), and the
submissions it grades: samples made from the reference, the assignment's catalogue, thieves and mutants."""
