"""The boundary between the grader and student code: wire protocol, sandbox launcher, untrusted worker."""
