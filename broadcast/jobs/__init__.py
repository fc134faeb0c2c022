"""Background jobs on APScheduler 3.x: one scheduler process, a persistent job store in the database,
and job targets named as ``module:function`` strings so stored jobs survive restarts and code moves."""
