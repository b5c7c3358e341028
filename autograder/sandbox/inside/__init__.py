"""Code that runs inside the sandbox (copied there as plain modules; standard library, torch and numpy only)."""
