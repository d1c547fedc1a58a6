"""Running untrusted programs (model-written code) in a constrained child process."""
