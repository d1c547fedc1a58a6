"""Policies, gate functions and the fail-closed promotion decision."""
