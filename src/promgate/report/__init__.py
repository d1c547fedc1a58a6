"""Human-readable reports of a promotion decision."""
