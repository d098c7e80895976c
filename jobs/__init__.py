"""RQ jobs and the periodic schedule; they use portal's models and domain code."""
