"""Background jobs on APScheduler 3.x: one leading scheduler process (any others stand by), a persistent job
store in the database, and job targets named as ``module:function`` strings so stored jobs survive restarts
and code moves."""
